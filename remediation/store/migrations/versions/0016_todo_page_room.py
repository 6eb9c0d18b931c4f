"""to-dos keep room on their pages for the day's updates (PostgreSQL), and the tally triggers count only the
updates that change a counted column

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 00:00:00

Every reconcile moves `last_seen` of each to-do it keeps (an incremental run also of those it did not
evaluate): at 1M records ~170,000 rows a table, each day. With full pages (fillfactor 100) each new row
version goes to another page, so all seven indexes of `dq_todo` get an entry per row (~4 s a table and
1.5M WAL records). With half of each page free, PostgreSQL writes it on the same page without touching the
indexes (a HOT update: ~1 s); the room is what a table updated daily takes after its second day anyway.
Pages written before this revision fill to the new limit as rows move; `VACUUM FULL dq_todo` applies it
at once. The tally triggers are installed again from `remediation.store.tally` (its counts are unchanged).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from remediation.store.models import TODO_FILLFACTOR
from remediation.store.tally import install

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    install(conn)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"ALTER TABLE dq_todo SET (fillfactor = {TODO_FILLFACTOR})"))


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE dq_todo RESET (fillfactor)"))
