"""A check run driven step by step from another process, as Airflow's separate tasks (or a paused process)
run it: `validate` prints the run id, then waits for a line on stdin before it reconciles.

    python -m tests.remediation.checks.stepper validate SOURCE_URL STORE_URL TABLE YYYY-MM-DD
    python -m tests.remediation.checks.stepper reconcile STORE_URL RUN_ID
"""

from __future__ import annotations

import datetime as dt
import sys

from expectations.rulebook import load_suites
from remediation.checks.pipeline import open_source, validate
from remediation.checks.reconcile.run import reconcile_run
from remediation.lifecycle import Lifecycle
from remediation.store.engines import open_store


def main(argv: list[str]) -> None:
    if argv[0] == "validate":
        source_url, store_url, table, day = argv[1:5]
        store = open_store(store_url)
        suite = next(s for s in load_suites() if s.table == table)
        run_id = validate(open_source(source_url, [table]), store, suite, dt.date.fromisoformat(day)).run_id
        print(f"validated {run_id}", flush=True)
        sys.stdin.readline()
    else:
        store_url, run = argv[1:3]
        store, run_id = open_store(store_url), int(run)
    summary = reconcile_run(store, run_id, Lifecycle.in_force())
    print(f"{summary.status} fixed={summary.fixed}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
