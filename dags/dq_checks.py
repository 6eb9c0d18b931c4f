"""Daily data-quality checks, one DAG per record type (one rule file in `expectations/`).

Each run: mirror the institution tree and staff from the source, validate the record type's rules with
Great Expectations for the run's logical date (Asia/Shanghai) (`prepare`), extract the failing records of
each key range (`extract`, one mapped task per range: DQGOV_CHECK_PARTITIONS, or the run's conf
`partitions`), compare the counts (`finish`), then reconcile the findings with the account managers' to-dos. The work lives in `remediation.orchestration.tasks`; this file is wiring only.
"""

from __future__ import annotations

from airflow.sdk import DAG, Asset, task

from expectations.rulebook import suite_tables
from remediation.orchestration.dag_defaults import START_DATE, check_dag_id, default_args, todos_asset


def build(table: str, schedule: str) -> DAG:
    with DAG(
        dag_id=check_dag_id(table),
        schedule=schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["data-quality", table],
        doc_md=__doc__,
    ) as dag:

        @task
        def sync_org(**context: object) -> dict[str, object]:
            from remediation.orchestration.tasks import sync_org_task

            return sync_org_task(context)

        @task
        def prepare(**context: object) -> list[dict[str, object]]:
            from remediation.orchestration.tasks import prepare_task

            return prepare_task(table, context)

        @task
        def extract(part: dict[str, object], **context: object) -> int:
            from remediation.orchestration.tasks import extract_task

            return extract_task(table, part, context)

        @task
        def finish(parts: list[dict[str, object]], **context: object) -> int:
            from remediation.orchestration.tasks import finish_task

            return finish_task(table, parts, context)

        @task(outlets=[Asset(todos_asset(table))])
        def reconcile(check_run_id: int, **context: object) -> dict[str, object]:
            from remediation.orchestration.tasks import reconcile_task

            return reconcile_task(check_run_id, context)

        prepared = prepare()
        sync_org() >> prepared
        finished = finish(prepared)
        extract.expand(part=prepared) >> finished
        reconcile(finished)
    return dag


for _table, _schedule in suite_tables():
    globals()[check_dag_id(_table)] = build(_table, _schedule)
