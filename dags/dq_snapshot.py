"""Daily snapshot of the governance numbers (存量治理完成率, 增量, overdue, cards) per campaign and institution.

Runs when every check DAG has updated the to-dos (their `dqgov://todos/<table>` assets) and snapshots
the check date those asset events carry (Asia/Shanghai), rolled up the institution tree. It also runs daily at
09:00 and whenever it is unpaused, and then snapshots every reconciled check date it missed (the follow-ups
in `remediation.orchestration.followups`: Airflow drops asset events while a DAG is paused). A month-end snapshot is frozen once that
day's checks have all reconciled. The work lives in `remediation.reporting.snapshots`; this file is wiring only.
"""

from __future__ import annotations

from airflow.sdk import DAG, Asset, AssetOrTimeSchedule, CronTriggerTimetable, task

from expectations.rulebook import suite_tables
from remediation.clock import TIMEZONE
from remediation.orchestration.dag_defaults import (
    CATCH_UP_CRON,
    SNAPSHOT_DAG,
    SNAPSHOTS_ASSET,
    START_DATE,
    default_args,
    todos_asset,
)

with DAG(
    dag_id=SNAPSHOT_DAG,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(CATCH_UP_CRON, timezone=TIMEZONE),
        assets=[Asset(todos_asset(table)) for table, _ in suite_tables()],
    ),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["data-quality", "scoring"],
    doc_md=__doc__,
) as dq_snapshot:

    @task(outlets=[Asset(SNAPSHOTS_ASSET)])
    def snapshot(**context: object) -> list[dict[str, object]]:
        from remediation.orchestration.tasks import snapshot_task

        return snapshot_task(context)

    snapshot()
