"""`python -m remediation.orchestration.dagrun DAG_ID YYYY-MM-DD [--conf k=v]`: run one DAG once through `dag.test()`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from remediation.clock import TIMEZONE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m remediation.orchestration.dagrun")
    parser.add_argument("dag_id")
    parser.add_argument("logical_date")
    parser.add_argument("--conf", action="append", default=[])
    args = parser.parse_args(argv)

    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    from remediation.orchestration.embedded_airflow import DAGS_FOLDER

    bag = DagBag(str(DAGS_FOLDER))
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            print(f"import error in {path}: {error}", file=sys.stderr)
        return 2
    dag = bag.get_dag(args.dag_id)
    if dag is None:
        print(f"no DAG {args.dag_id} in {DAGS_FOLDER}", file=sys.stderr)
        return 2
    conf = dict(item.split("=", 1) for item in args.conf)
    day = dt.date.fromisoformat(args.logical_date)
    logical = pendulum.datetime(day.year, day.month, day.day, 6, tz=TIMEZONE)
    run = dag.test(logical_date=logical, run_conf=conf)
    state = getattr(run, "state", None)
    print(f"DAG {args.dag_id} {args.logical_date}: {state}")
    return 0 if str(state) in ("success", "DagRunState.SUCCESS") else 1


if __name__ == "__main__":
    raise SystemExit(main())
