"""Time a daily incremental check against a full one, with 1 % of the records changed, on PostgreSQL.

    .venv/bin/python bench/load_bank.py postgresql+psycopg://postgres@127.0.0.1:5432/dqgov_incr_src_n100000 \
        --merchants 100000 --customers 100000
    .venv/bin/python bench/bench_incremental.py \
        postgresql+psycopg://postgres@127.0.0.1:5432/dqgov_incr_src_n100000 --runs 3 --changed 0.01

Day 1 (the loader's check date): a full check of both tables into a fresh store, the base, ANALYZEd. Then
`--changed` of each table's records change (half get a bad phone, half a good one, `updated_at` moves to
day 2). Day 2 is checked `--runs` times in each mode, interleaved (full, incremental, full, …), each time
on a copy of the base store (`CREATE DATABASE … TEMPLATE`) and in a fresh process: sync of the org, both
tables validated and reconciled (`run_checks`, what the check DAGs do), then the snapshot. The first pair
of runs must leave identical to-dos, or the benchmark stops. Prints a Markdown table, the ratio of the
medians, and the PostgreSQL settings. The source is changed in place: load it again to start over.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

import sqlalchemy as sa
from benchdb import pg_settings

DAY1 = dt.date(2026, 11, 20)
DAY2 = DAY1 + dt.timedelta(days=1)
TABLES = {"merchant": "mer_id", "customer_org": "cust_no"}


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _store_url(url: str, name: str) -> str:
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


# The pipeline's steps, timed in the child by wrapping the names `remediation.checks.pipeline` calls them by.
STEPS = (
    "sync_org",
    "plan_run",
    "count_records",
    "stage_record_counts",
    "stage_volume",
    "find_key_defects",
    "evaluated_keys",
    "validate_with_gx",
    "stage_failing",
    "stage_record_states",
    "mark_validated",
    "reconcile_run",
)


def time_steps() -> dict[str, float]:
    """Wrap the pipeline's steps with timers; the dict fills with their seconds as they run."""
    import functools

    from remediation.checks import pipeline

    seconds = dict.fromkeys(STEPS, 0.0)

    def timed(name: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - started

        return wrapper

    for name in STEPS:
        setattr(pipeline, name, timed(name, getattr(pipeline, name)))
    return seconds


def run_day(source_url: str, store_url: str, day: dt.date, mode: str) -> dict[str, float | str]:
    """One check of every table and the snapshot, timed; the to-dos' digest to compare modes."""
    from expectations.rulebook import load_suites
    from remediation.checks.pipeline import run_checks
    from remediation.reporting.snapshots import take_snapshot
    from remediation.store.engines import open_store
    from remediation.store.models import Todo

    source, store = sa.create_engine(source_url), open_store(store_url)
    started = time.perf_counter()
    result: dict[str, float | str] = {}
    for summary in run_checks(source, store, load_suites(), day, "cli", mode=mode):
        result[f"{summary.table}_s"] = summary.seconds
        result[f"{summary.table}_evaluated"] = summary.validation.records_evaluated
        result[f"{summary.table}_mode"] = summary.validation.mode
    checked = time.perf_counter()
    take_snapshot(store, day)
    result["check_s"] = checked - started
    result["snapshot_s"] = time.perf_counter() - checked
    cols = [
        Todo.table_name,
        Todo.record_key,
        Todo.rule_id,
        Todo.status,
        Todo.assignee_staff_id,
        Todo.due_date,
    ]
    digest = hashlib.sha256()
    with store.connect() as conn:
        for row in conn.execute(sa.select(*cols).order_by(*cols[:3])):
            digest.update(repr(tuple(row)).encode())
    result["todos"] = digest.hexdigest()[:16]
    store.dispose()
    source.dispose()
    return result


def change_records(source_url: str, share: float) -> dict[str, int]:
    """`share` of each table's records change on day 2: half take a bad phone, half a good one."""
    engine = sa.create_engine(source_url)
    at = dt.datetime.combine(DAY2, dt.time(9, 0))
    changed: dict[str, int] = {}
    with engine.begin() as conn:
        for table, key in TABLES.items():
            picked = f"SELECT {key} FROM {table} TABLESAMPLE BERNOULLI(:pct) REPEATABLE (7)"
            n = conn.execute(
                sa.text(
                    f"UPDATE {table} SET updated_at = :at, contact_phone = CASE WHEN hashtext({key}) % 2 = 0 "
                    f"THEN '123' ELSE '13800138000' END WHERE {key} IN ({picked})"
                ),
                {"at": at, "pct": share * 100},
            ).rowcount
            changed[table] = int(n)
    engine.dispose()
    return changed


def child(source_url: str, store_url: str, mode: str) -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    steps = time_steps()
    result = run_day(source_url, store_url, DAY2, mode)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mib"] = usage.ru_maxrss / 1024
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # this process only, not the database server
    result.update({f"step_{name}": s for name, s in steps.items()})
    print(json.dumps(result))


def timed_copy(source_url: str, base: str, mode: str, prefix: str) -> dict[str, float | str]:
    name = f"{prefix}_store_{uuid.uuid4().hex[:8]}"
    admin = _admin(source_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{base}"'))
    try:
        cmd = [sys.executable, __file__, source_url, "--child", mode, "--store", _store_url(source_url, name)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"{mode} run failed:\n{out.stderr[-3000:]}")
        result: dict[str, float | str] = json.loads(out.stdout.strip().splitlines()[-1])
        return result
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the source, loaded by bench/load_bank.py (changed in place)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--changed", type=float, default=0.01, help="share of records changed on day 2")
    parser.add_argument("--prefix", default="dqgov_incr", help="names of the stores it creates and drops")
    parser.add_argument("--child", choices=("full", "incremental"), help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.store, args.child)
        return

    base = f"{args.prefix}_base_{uuid.uuid4().hex[:8]}"
    admin = _admin(args.url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{base}"'))
    try:
        started = time.perf_counter()
        first = run_day(args.url, _store_url(args.url, base), DAY1, "full")
        # Autovacuum would analyze the store within minutes of day 1; the copies are made at once, and a copy
        # made before it has no statistics (reltuples -1) nor the counters that would trigger it: reconcile's
        # statements then plan nested loops over the to-dos (42 s instead of 8 s for 1 % changed).
        analyze = sa.create_engine(_store_url(args.url, base), isolation_level="AUTOCOMMIT")
        with analyze.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
        analyze.dispose()
        print(f"day 1, full, base store: {time.perf_counter() - started:.1f} s {first}", file=sys.stderr)
        print(f"day 2 changes: {change_records(args.url, args.changed)}", file=sys.stderr)
        samples: dict[str, list[dict[str, float | str]]] = {"full": [], "incremental": []}
        for run in range(args.runs):
            for mode in samples:
                result = timed_copy(args.url, base, mode, args.prefix)
                samples[mode].append(result)
                print(f"run {run + 1} {mode}: {result}", file=sys.stderr, flush=True)
            if run == 0 and samples["full"][0]["todos"] != samples["incremental"][0]["todos"]:
                raise SystemExit("incremental and full runs left different to-dos")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{base}" WITH (FORCE)'))
        admin.dispose()
    report(samples, args.url)


def report(samples: dict[str, list[dict[str, float | str]]], url: str) -> None:
    med = {m: statistics.median(float(r["check_s"]) for r in rs) for m, rs in samples.items()}
    print(
        "| mode | runs | median s (check) | median s (snapshot) | merchant evaluated | customers evaluated "
        "| peak RSS MiB | × full |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for mode, rs in samples.items():
        snap = statistics.median(float(r["snapshot_s"]) for r in rs)
        rss = max(float(r["peak_rss_mib"]) for r in rs)
        print(
            f"| {mode} | {len(rs)} | {med[mode]:.1f} | {snap:.2f} | {rs[0]['merchant_evaluated']} | "
            f"{rs[0]['customer_org_evaluated']} | {rss:.0f} | {med[mode] / med['full']:.3f} |"
        )
    print("\n| step (median s, both tables) | full | incremental |\n|---|---:|---:|")
    for name in (*STEPS, "cpu"):
        medians = [
            statistics.median(float(r[f"step_{name}" if name != "cpu" else "cpu_s"]) for r in rs)
            for rs in samples.values()
        ]
        label = f"`{name}`" if name != "cpu" else "CPU of the checking process"
        print(f"| {label} | {medians[0]:.2f} | {medians[1]:.2f} |")
    same = len({r["todos"] for rs in samples.values() for r in rs}) == 1
    print(f"\nidentical to-dos in every run: {same}; {pg_settings(url, list(TABLES))}")


if __name__ == "__main__":
    main()
