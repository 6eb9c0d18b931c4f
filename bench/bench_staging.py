"""Staging the same findings into a PostgreSQL store by executemany (before) and by COPY (now), as medians of
interleaved runs in fresh processes.

    .venv/bin/python bench/bench_staging.py \
        postgresql+psycopg://postgres@127.0.0.1:5432/dqgov_stream_mem_n2000000_f20 --findings 200000 --runs 3

The failing records are extracted once from the source (merchants first, then customers, until at least
`--findings` findings) and kept in a temporary file, so every run stages exactly the same records. Each run
is one child process with a fresh store database (migrated, org synced: not timed) that times
`staging.stage_failing` alone, routing, masking and hashing included, with `copy=False` (executemany
INSERTs of 5,000 rows per transaction, the code before) or `copy=True` (COPY, same batches).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

CHECK_DATE = dt.date(2026, 11, 20)
MODES = {"executemany": False, "copy": True}


def extract(url: str, findings: int, path: Path) -> tuple[int, int]:
    """Write failing records (table, key, inst, manager, values, rule ids) to `path`; (records, findings)."""
    from expectations.kinds import CheckContext
    from expectations.rulebook import load_suites
    from expectations.runner import failing_records

    source = sa.create_engine(url)
    records: list[tuple[Any, ...]] = []
    total = 0
    for suite in load_suites():
        for record in failing_records(source, suite, CheckContext(check_date=CHECK_DATE)):
            if record.record_key is None:
                continue
            rules = tuple(r.id for r in record.rules)
            records.append(
                (
                    suite.table,
                    record.record_key,
                    record.inst_code,
                    record.mgr_staff_id,
                    dict(record.values),
                    rules,
                )
            )
            total += len(rules)
            if total >= findings:
                break
        if total >= findings:
            break
    source.dispose()
    with path.open("wb") as out:
        pickle.dump(records, out)
    return len(records), total


def child(url: str, path: Path, copy: bool) -> None:
    from expectations.rulebook import load_suites
    from expectations.runner import FailingRecord
    from remediation.checks.routing import sync_org
    from remediation.checks.staging import stage_failing, start_run
    from remediation.store.engines import open_store

    with path.open("rb") as src:
        records = pickle.load(src)
    suites = {s.table: s for s in load_suites()}
    rules = {r.id: r for s in suites.values() for r in s.rules}
    source = sa.create_engine(url)
    admin = sa.create_engine(source.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"dqgov_stream_stage_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        store = open_store(source.url.set(database=name).render_as_string(hide_password=False))
        sync_org(source, store)
        seconds, staged = 0.0, 0
        for table in dict.fromkeys(r[0] for r in records):
            suite = suites[table]
            failing = [
                FailingRecord(key, inst, mgr, values, tuple(rules[i] for i in ids))
                for t, key, inst, mgr, values, ids in records
                if t == table
            ]
            run_id = start_run(store, suite, CHECK_DATE, "bench", source)
            started = time.perf_counter()
            out = stage_failing(store, suite, failing, run_id, lambda _: None, copy=copy)
            seconds += time.perf_counter() - started
            staged += sum(out.per_rule.values())
        store.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "findings": staged, "peak_rss_mib": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="a PostgreSQL source loaded by bench/load_bank.py")
    parser.add_argument("--findings", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--records", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.records, MODES[args.child])
        return
    folder = Path(tempfile.mkdtemp(prefix="dqgov-bench-staging-"))
    path = folder / "failing.pickle"
    started = time.perf_counter()
    records, findings = extract(args.url, args.findings, path)
    print(
        f"extracted {records} failing records, {findings} findings in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "DQGOV_HASH_KEY_FILE": str(folder / "hash.key")}
    env.pop("DQGOV_HASH_KEY", None)
    samples: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    for run in range(args.runs):
        for mode in MODES:
            cmd = [sys.executable, __file__, args.url, "--child", mode, "--records", str(path)]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            samples[mode].append(result)
            print(f"run {run + 1} {mode}: {result}", file=sys.stderr, flush=True)
    path.unlink()
    base = statistics.median(r["seconds"] for r in samples["executemany"])
    print("| staging | findings | runs | median s | findings/s | × executemany's time | peak RSS MiB (max) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for mode, results in samples.items():
        median = statistics.median(r["seconds"] for r in results)
        staged = int(results[0]["findings"])
        peak = max(r["peak_rss_mib"] for r in results)
        print(
            f"| {mode} | {staged:,} | {len(results)} | {median:.2f} | {staged / median:,.0f} | "
            f"{median / base:.2f} | {peak:.0f} |"
        )


if __name__ == "__main__":
    main()
