"""EXPLAIN ANALYZE of what the dashboard and the summary table read, before (the to-dos, the snapshot's rows
per rule, the years of every due date) and now (the tally, the totals per severity, the span of due dates).

    .venv/bin/python bench/explain_reporting.py postgresql+psycopg://postgres@127.0.0.1:5432/dqgov_report_5m

On a store filled by `bench/load_reporting.py`; prints one line per statement with its execution time.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DQGOV_HOME", "/tmp/dqgov_report_home")
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from remediation.clock import today_shanghai
from remediation.store.engines import open_store
from remediation.store.models import ACTIVE_STATUSES, UNCOUNTED_STATUSES, Todo
from remediation.store.tally import count_terms
from remediation.store.workflow_models import Snapshot, SnapshotTotal, TodoDue, TodoTally
from remediation.workflow.campaigns import list_campaigns

store = open_store(sys.argv[1])
c = list_campaigns(store)[0]
today = today_shanghai()
day = today - dt.timedelta(days=1)


def n(cond):
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


t = Todo
terms = count_terms(t, c.baseline_date)
direct = (
    sa.select(
        t.inst_code,
        t.assignee_staff_id,
        *(n(v) for v in terms.values()),
        n(sa.and_(terms["active"], t.due_date < today)),
    )
    .where(t.status.not_in(UNCOUNTED_STATUSES))
    .group_by(t.inst_code, t.assignee_staff_id)
)
tally = sa.select(TodoTally.__table__).where(
    TodoTally.campaign_id == c.id, TodoTally.baseline + TodoTally.new > 0
)
due = (
    sa.select(TodoDue.inst_code, TodoDue.assignee_staff_id, sa.func.sum(TodoDue.n))
    .where(TodoDue.campaign_id == c.id, TodoDue.due_date >= today)
    .group_by(TodoDue.inst_code, TodoDue.assignee_staff_id)
)
snap = sa.select(Snapshot.__table__).where(Snapshot.snapshot_date == day, Snapshot.campaign_id == c.id)
tot = sa.select(SnapshotTotal.__table__).where(
    SnapshotTotal.snapshot_date == day, SnapshotTotal.campaign_id == c.id
)
year = sa.extract("year", t.due_date)
years = (
    sa.select(year, sa.func.count())
    .where(t.status.in_(ACTIVE_STATUSES), t.due_date.is_not(None))
    .group_by(year)
)
span = sa.select(sa.func.min(t.due_date), sa.func.max(t.due_date)).where(t.status.in_(ACTIVE_STATUSES))
with store.connect() as conn:
    for label, q in [
        ("dashboard, before: one scan of the to-dos", direct),
        ("dashboard, now: the tally", tally),
        ("dashboard, now: active to-dos not yet due", due),
        ("summary, before: the snapshot's rows per rule", snap),
        ("summary, now: the totals per severity", tot),
        ("calendar coverage, before: years of due dates", years),
        ("calendar coverage, now: span of due dates", span),
    ]:
        sql = str(q.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        plan = [r[0] for r in conn.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql))]
        total = next(p for p in plan if p.startswith("Execution Time"))
        print(f"{label}: {total}; {plan[0].strip()[:110]}")
