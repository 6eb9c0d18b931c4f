"""Measure the check pipeline on a demo bank, as ratios against a plain scan of the same table.

    .venv/bin/python bench/bench_check.py [--merchants 100000] [--customers 50000] [--backend sqlite|postgresql]

Baseline, in the same process: one streamed `SELECT *` over the merchant table (what any tool must at
least pay to look at every record). Results go to docs/benchmarks.md by hand, with this command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from benchdb import fresh_urls

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

T = TypeVar("T")


def timed(label: str, fn: Callable[[], T], results: dict[str, float]) -> T:
    started = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - started
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--merchants", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()

    from expectations.rulebook import load_suites
    from remediation.checks.pipeline import run_suite
    from remediation.demobank import DemoBankSpec, generate_demo_bank
    from remediation.store.engines import open_store

    day = dt.date(2026, 11, 20)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        source_url, store_url, drop = fresh_urls(args.backend, Path(tmp))
        try:
            spec = DemoBankSpec(merchants=args.merchants, customers=args.customers, check_date=day)
            source = sa.create_engine(source_url)
            timed("generate demo bank", lambda: generate_demo_bank(source, spec), results)

            def scan() -> int:
                with source.connect() as conn:
                    result = conn.execution_options(stream_results=True, yield_per=5000).execute(
                        sa.text("SELECT * FROM merchant")
                    )
                    return sum(1 for _ in result)

            timed("baseline: streamed SELECT * FROM merchant", scan, results)
            store = open_store(store_url)
            suites = {s.table: s for s in load_suites()}
            first = timed(
                "check merchant (first run)",
                lambda: run_suite(source, store, suites["merchant"], day),
                results,
            )
            timed(
                "check merchant (re-run, no change)",
                lambda: run_suite(source, store, suites["merchant"], day),
                results,
            )
            timed(
                "check customer_org (first run)",
                lambda: run_suite(source, store, suites["customer_org"], day),
                results,
            )
        finally:
            drop()
    base = results["baseline: streamed SELECT * FROM merchant"]
    print(
        f"backend {args.backend}; {args.merchants} merchants, {args.customers} customers; "
        f"merchant findings {first.validation.findings}"
    )
    print("| step | seconds | × baseline scan |")
    print("|---|---:|---:|")
    for label, seconds in results.items():
        print(f"| {label} | {seconds:.2f} | {seconds / base:.1f} |")


if __name__ == "__main__":
    main()
