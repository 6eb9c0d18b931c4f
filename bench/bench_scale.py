"""Time each phase of a check on a PostgreSQL source, with peak memory, as medians of interleaved runs.

    .venv/bin/python bench/load_bank.py postgresql+psycopg://postgres@127.0.0.1:5432/dqgov_perf_n100000 \
        --merchants 100000 --customers 100000
    .venv/bin/python bench/bench_scale.py postgresql+psycopg://postgres@127.0.0.1:5432/dqgov_perf_n100000 \
        --runs 3 --slow-runs 1 [--before /tmp/perf-old] [--phases read,evaluate,gx,gx_plain,check]

Every phase runs in a fresh process (so its peak RSS is its own) and the runs are interleaved (run 1 of
every phase, then run 2, …), so a noisy neighbour hurts all phases alike. Phases, per table:

- `read`: the read floor, `COPY (SELECT <every column> FROM <table>) TO STDOUT`, bytes discarded;
- `evaluate`: the key extractor (`runner.failing_records`), every failing record streamed;
- `gx`: Great Expectations as the check runs it (`runner.validate_with_gx`);
- `gx_plain`: the plain-GX baseline, what a GX user would write: one checkpoint per suite over the table,
  the same rules, `result_format` COMPLETE with `unexpected_index_column_names` (the failing keys);
- `check`: a whole check run into a fresh store, split into `validate` (counts, key defects, GX,
  extraction and staging), `reconcile` and `snapshot`;
- `evaluate_plain`: the extractor's statement in its old form (`plain_extraction_query`).

`--before DIR` also runs `evaluate`, `gx` and `check` with the code found in DIR (e.g. `git archive
6c224d8 | tar -x -C DIR`: the code before issue 9), on the same data in the same run.
Prints a Markdown table and the PostgreSQL settings that matter (JIT, parallel workers, ANALYZE).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from benchdb import pg_settings

TABLES = ("merchant", "customer_org")
PHASES = ("read", "evaluate", "gx", "gx_plain", "check", "evaluate_plain")
BEFORE_PHASES = ("evaluate", "gx", "check")
SLOW = ("gx_plain", "evaluate_plain")
CHECK_DATE = "2026-11-20"


# --- one phase, in a child process -----------------------------------------------------------------------


def _suite(table: str) -> Any:
    from expectations.rulebook import load_suites

    return next(s for s in load_suites() if s.table == table)


def _ctx() -> Any:
    import datetime as dt

    from expectations.kinds import CheckContext

    return CheckContext(check_date=dt.date.fromisoformat(CHECK_DATE))


def phase_read(source: sa.Engine, table: str) -> dict[str, float]:
    from expectations.contract import RECORD_TABLES

    names = ", ".join(c.name for c in RECORD_TABLES[table].c)
    size = 0
    with source.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cur, cur.copy(f"COPY (SELECT {names} FROM {table}) TO STDOUT") as copy:
            for block in copy:
                size += len(block)
    return {"bytes": size}


def phase_evaluate(source: sa.Engine, table: str) -> dict[str, float]:
    from expectations.runner import failing_records

    return {"failing_records": sum(1 for _ in failing_records(source, _suite(table), _ctx()))}


def phase_evaluate_plain(source: sa.Engine, table: str) -> dict[str, float]:
    from expectations.compiler import plain_extraction_query

    stmt = plain_extraction_query(_suite(table), _ctx())
    with source.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=2000).execute(stmt)
        return {"failing_records": sum(1 for _ in result)}


def phase_gx(source: sa.Engine, table: str) -> dict[str, float]:
    from expectations.runner import validate_with_gx

    gx = validate_with_gx(source, _suite(table), _ctx())
    return {"unexpected": sum(o.unexpected or 0 for o in gx.outcomes.values())}


def phase_gx_plain(source: sa.Engine, table: str) -> dict[str, float]:
    import great_expectations as gx

    from expectations.gx.expectations import expectations_for
    from expectations.runner import _gx_context

    suite = _suite(table)
    context = _gx_context()
    url = source.url.render_as_string(hide_password=False)
    datasource = context.data_sources.add_sql(name="source", connection_string=url)
    batch = datasource.add_table_asset(name=table, table_name=table).add_batch_definition_whole_table("all")
    gx_suite = context.suites.add(
        gx.ExpectationSuite(name=table, expectations=expectations_for(suite, _ctx()))
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=table, data=batch, suite=gx_suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=table,
            validation_definitions=[definition],
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [suite.key]},
        )
    )
    try:
        result = checkpoint.run()
    finally:
        datasource.get_engine().dispose()
    validation = next(iter(result.run_results.values()))
    keys = sum(len(r.result.get("unexpected_index_list") or []) for r in validation.results)
    return {"unexpected_keys": keys}


def phase_check(source: sa.Engine, table: str) -> dict[str, float]:
    """A first check run into a fresh store: validate, reconcile, snapshot, each timed."""
    import datetime as dt

    from remediation.checks.pipeline import validate
    from remediation.checks.reconcile.run import reconcile_run
    from remediation.lifecycle import Lifecycle
    from remediation.reporting.snapshots import take_snapshot
    from remediation.store.engines import open_store

    day = dt.date.fromisoformat(CHECK_DATE)
    name = f"dqgov_perf_store_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(source.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        store = open_store(source.url.set(database=name).render_as_string(hide_password=False))
        started = time.perf_counter()
        v = validate(source, store, _suite(table), day, today=day)
        validated = time.perf_counter()
        reconcile_run(store, v.run_id, Lifecycle.in_force())
        reconciled = time.perf_counter()
        take_snapshot(store, day, [table])
        done = time.perf_counter()
        store.dispose()
        return {
            "validate": validated - started,
            "reconcile": reconciled - validated,
            "snapshot": done - reconciled,
            "findings": v.findings,
        }
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def child(url: str, phase: str, table: str) -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    source = sa.create_engine(url)
    fn = globals()[f"phase_{phase}"]
    started = time.perf_counter()
    extra = fn(source, table)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak, **extra}))


# --- the harness -----------------------------------------------------------------------------------------


def run_child(url: str, phase: str, table: str, code: Path | None) -> dict[str, float] | None:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    cmd = [sys.executable, __file__, url, "--child", phase, "--table", table]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(f"{phase} {table} failed:\n{out.stderr[-3000:]}", file=sys.stderr, flush=True)
        return None
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def table_settings(url: str, table: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.scalar(sa.text(f"SELECT count(*) FROM {table}"))
    engine.dispose()
    return (
        f"{table}: {rows} rows; {pg_settings(url, [table])} (the check turns JIT off for its own statements)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--phases", default="read,evaluate,gx,gx_plain,check")
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--before", type=Path, help="a folder with the code to compare against")
    parser.add_argument(
        "--slow-runs", type=int, default=1, help="runs of gx_plain, evaluate_plain and the --before phases"
    )
    parser.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.child, args.table)
        return

    phases = args.phases.split(",")
    tables = args.tables.split(",")
    samples: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    for run in range(max(args.runs, args.slow_runs)):
        for table in tables:
            jobs = [(p, None, "") for p in phases if run < (args.slow_runs if p in SLOW else args.runs)]
            if args.before and run < args.slow_runs:
                jobs += [(p, args.before, "before: ") for p in BEFORE_PHASES if p in phases]
            for phase, code, label in jobs:
                result = run_child(args.url, phase, table, code)
                if result is None:
                    continue
                samples.setdefault((table, label + phase, ""), []).append(result)
                print(f"run {run + 1} {table} {label}{phase}: {result}", file=sys.stderr, flush=True)

    print("| table | phase | runs | median s | × read floor | peak RSS MiB (max) | detail |")
    print("|---|---|---:|---:|---:|---:|---|")
    for table in tables:
        floor = statistics.median(r["seconds"] for r in samples.get((table, "read", ""), [{"seconds": 0.0}]))
        for (t, phase, _), results in samples.items():
            if t != table:
                continue
            rows = [(phase, [r["seconds"] for r in results])]
            if phase.endswith("check"):
                prefix = phase[: -len("check")]
                rows = [
                    (prefix + part, [r[part] for r in results])
                    for part in ("validate", "reconcile", "snapshot")
                ]
            peak = max(r["peak_rss_mib"] for r in results)
            detail = {
                k: v
                for k, v in results[0].items()
                if k not in ("seconds", "peak_rss_mib", "validate", "reconcile", "snapshot")
            }
            for name, seconds in rows:
                median = statistics.median(seconds)
                ratio = f"{median / floor:.1f}" if floor else ""
                print(
                    f"| {table} | {name} | {len(seconds)} | {median:.2f} | {ratio} | {peak:.0f} | {detail} |"
                )
    for table in tables:
        print(f"\n{table_settings(args.url, table)}")


if __name__ == "__main__":
    main()
