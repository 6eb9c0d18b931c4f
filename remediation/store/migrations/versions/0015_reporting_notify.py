"""the tables the reporting pages read notify the portal when they change (PostgreSQL)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 00:00:00

The portal keeps a dashboard's or summary table's figures while the data under them stands
(`remediation.reporting.freshness`). To see changes made by other processes (a check DAG, another
portal worker) it listens on `dqgov_reporting`: a statement-level trigger on each table the pages read
notifies that channel with the table's name, which PostgreSQL delivers at commit (once per table and
transaction: equal notices are folded). SQLite has no NOTIFY: the portal does not cache there, so nothing is installed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

FUNCTION = "dq_notify_reporting"
CHANNEL = "dqgov_reporting"  # remediation.reporting.freshness.CHANNEL
# remediation.reporting.freshness.WATCHED as of this revision: a table added there needs a migration too
WATCHED = (
    "dq_todo",
    "dq_institution",
    "dq_staff",
    "dq_rule",
    "dq_campaign",
    "dq_snapshot",
    "dq_snapshot_total",
    "dq_snapshot_records",
)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        sa.text(
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\nPERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);\nRETURN NULL;\nEND\n$$"
        )
    )
    for table in WATCHED:
        conn.execute(
            sa.text(
                f"CREATE TRIGGER {table}_notify_reporting AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
        )


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table in WATCHED:
        conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {table}_notify_reporting ON {table}"))
    conn.execute(sa.text(f"DROP FUNCTION IF EXISTS {FUNCTION}()"))
