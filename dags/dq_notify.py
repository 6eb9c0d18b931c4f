"""Reminders and notifications (数据质量问题待办提醒).

`dq_notify` runs when the check DAGs have updated the to-dos (their `dqgov://todos/<table>` assets):
**remind** sets due-soon marks and yellow/red cards for the check date the asset events carry (Asia/Shanghai) and queues one
digest per person and channel in the outbox, in one transaction (daily at 09:00 and when unpaused it also
catches up on every reconciled check date it missed); **deliver** then sends what is due
(e-mail, WeCom, portal inbox). `dq_outbox` delivers every 15 minutes, so messages that failed go out
once their back-off has passed. The work lives in `remediation.orchestration.notify_tasks`; this file is wiring only.
"""

from __future__ import annotations

from airflow.sdk import DAG, Asset, AssetOrTimeSchedule, CronTriggerTimetable, task

from expectations.rulebook import suite_tables
from remediation.clock import TIMEZONE
from remediation.orchestration.dag_defaults import (
    CATCH_UP_CRON,
    NOTIFY_DAG,
    OUTBOX_DAG,
    START_DATE,
    default_args,
    todos_asset,
)


@task
def deliver() -> dict[str, object]:
    from remediation.orchestration.notify_tasks import deliver_task

    return deliver_task()


with DAG(
    dag_id=NOTIFY_DAG,
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(CATCH_UP_CRON, timezone=TIMEZONE),
        assets=[Asset(todos_asset(table)) for table, _ in suite_tables()],
    ),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["data-quality", "notifications"],
    doc_md=__doc__,
) as dq_notify:

    @task
    def remind(**context: object) -> list[dict[str, object]]:
        from remediation.orchestration.notify_tasks import remind_task

        return remind_task(context)

    remind() >> deliver()


with DAG(
    dag_id=OUTBOX_DAG,
    schedule="*/15 * * * *",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["data-quality", "notifications"],
    doc_md=__doc__,
) as dq_outbox:
    deliver()
