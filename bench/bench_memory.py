"""Peak memory and time of `dqgov check` at scale, with few and with many failing rows, on PostgreSQL.

    .venv/bin/python bench/bench_memory.py --records 2000000 --shares 0.01,0.20 --runs 3

For each failing share, a bank of `--records` records (half merchants, half corporate customers) is loaded
with `bench/load_bank.py --failing-share` into `dqgov_stream_mem_n<records>_f<percent>`, or reused when that
database already holds the right number of rows. Then each run is a whole `dqgov check` (every suite:
counts, key defects, GX, extraction, staging, reconcile) into a fresh store database, in a fresh process;
peak RSS is that process's own `ru_maxrss` (`os.wait4`), imports included. Runs are interleaved (run 1 of
every share, then run 2, …) so a noisy neighbour hurts every share alike. Prints a Markdown table with
medians and the ratio of peak RSS between the largest and the smallest share, then the PostgreSQL settings.
`--drop` drops the bank databases at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from benchdb import pg_settings

HERE = Path(__file__).resolve().parent
BASE = os.environ.get("DQGOV_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CHECK_DATE = "2026-11-20"
PREFIX = "dqgov_stream_mem"
FAILING = re.compile(r"^(\w+) \S+: .*?(\d+) records in scope, (\d+) failing, (\d+) findings", re.M)


def url_of(database: str) -> str:
    return sa.make_url(BASE).set(database=database).render_as_string(hide_password=False)


def admin() -> sa.Engine:
    return sa.create_engine(BASE, isolation_level="AUTOCOMMIT")


def rows_in(database: str) -> int | None:
    """Merchants + customers in `database`, or None when it does not exist or lacks the tables."""
    with admin().connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database}):
            return None
    engine = sa.create_engine(url_of(database))
    try:
        with engine.connect() as conn:
            return int(
                conn.scalar(
                    sa.text("SELECT (SELECT count(*) FROM merchant) + (SELECT count(*) FROM customer_org)")
                )
                or 0
            )
    except sa.exc.ProgrammingError:
        return None
    finally:
        engine.dispose()


def ensure_bank(records: int, share: float) -> str:
    database = f"{PREFIX}_n{records}_f{round(share * 100):02d}"
    if rows_in(database) == records:
        print(f"reusing {database}", file=sys.stderr, flush=True)
        return database
    merchants = records // 2
    cmd = [sys.executable, str(HERE / "load_bank.py"), url_of(database), "--merchants", str(merchants)]
    cmd += [
        "--customers",
        str(records - merchants),
        "--failing-share",
        str(share),
        "--check-date",
        CHECK_DATE,
    ]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    print(f"loaded {database} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return database


def run_check(database: str, env: dict[str, str]) -> dict[str, float]:
    """One `dqgov check` into a fresh store, in a child process: seconds, peak RSS, failing records."""
    store = f"{PREFIX}_store_{uuid.uuid4().hex[:8]}"
    with admin().connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{store}"'))
    cmd = [sys.executable, "-m", "remediation.cli", "check", "--source-url", url_of(database)]
    cmd += ["--store-url", url_of(store), "--check-date", CHECK_DATE]
    try:
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.perf_counter()
            child = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, cwd=HERE.parent)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - started
            child.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            text = out.read()
            if child.returncode != 0:
                raise RuntimeError(f"dqgov check failed ({child.returncode}):\n{err.read()[-3000:]}")
    finally:
        with admin().connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{store}" WITH (FORCE)'))
    tables = FAILING.findall(text)
    if not tables:
        raise RuntimeError(f"no per-table summary line in dqgov check's output:\n{text[-3000:]}")
    return {
        "seconds": seconds,
        "peak_rss_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "in_scope": sum(int(t[1]) for t in tables),
        "failing": sum(int(t[2]) for t in tables),
        "findings": sum(int(t[3]) for t in tables),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000_000, help="merchants + customers")
    parser.add_argument("--shares", default="0.01,0.20", help="failing shares, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--drop", action="store_true", help="drop the bank databases at the end")
    args = parser.parse_args()
    shares = [float(s) for s in args.shares.split(",")]
    banks = {share: ensure_bank(args.records, share) for share in shares}
    key_folder = tempfile.mkdtemp(prefix="dqgov-bench-key-")
    env = {
        **os.environ,
        "GX_ANALYTICS_ENABLED": "false",
        "DQGOV_HASH_KEY_FILE": os.path.join(key_folder, "hash.key"),
        "DQGOV_CALENDAR_FILE": os.path.join(key_folder, "no_calendar.yml"),
    }
    env.pop("DQGOV_HASH_KEY", None)
    samples: dict[float, list[dict[str, float]]] = {share: [] for share in shares}
    for run in range(args.runs):
        for share in shares:
            result = run_check(banks[share], env)
            samples[share].append(result)
            print(f"run {run + 1} share {share:.0%}: {result}", file=sys.stderr, flush=True)

    print(
        "| records | failing share asked | failing records | findings | runs | median s | peak RSS MiB (median, max) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    peaks: dict[float, float] = {}
    for share, results in samples.items():
        peaks[share] = statistics.median(r["peak_rss_mib"] for r in results)
        first = results[0]
        print(
            f"| {args.records:,} | {share:.0%} | {int(first['failing']):,} ({first['failing'] / first['in_scope']:.1%} "
            f"of in scope) | {int(first['findings']):,} | {len(results)} | "
            f"{statistics.median(r['seconds'] for r in results):.1f} | "
            f"{peaks[share]:.0f}, {max(r['peak_rss_mib'] for r in results):.0f} |"
        )
    low, high = peaks[min(shares)], peaks[max(shares)]
    print(f"\npeak RSS {max(shares):.0%} / {min(shares):.0%} failing: {high / low:.3f}×")
    print(pg_settings(url_of(banks[shares[0]])))
    if args.drop:
        with admin().connect() as conn:
            for database in banks.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
