"""Appending many rows to a staging table in bounded batches: `COPY … FROM STDIN` on PostgreSQL, executemany
elsewhere.

Each batch is written in its own transaction, as the staging tables expect (a check run only appends under
its own id; `staging.fail_run` removes what a failed run appended, and reconcile reads nothing of a run
that is not validated). At most `batch` rows are held in Python at a time, as tuples in `columns` order.

COPY and executemany store the same values: psycopg writes each Python value in PostgreSQL's text form
and the server parses it with the column's own input function, as it does for a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import sqlalchemy as sa

from remediation.store.models import Base

STAGING_BATCH = 5000

Row = tuple[object, ...]


def copy_supported(conn: sa.Connection) -> bool:
    """Whether `conn` can take rows by COPY: PostgreSQL through psycopg 3."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def append_rows(
    conn: sa.Connection, model: type[Base], columns: Sequence[str], rows: Sequence[Row], copy: bool = True
) -> None:
    """Append `rows` (tuples in `columns` order) to `model`'s table in the caller's transaction.

    COPY where `copy_supported`, unless `copy` is False (the executemany baseline); executemany elsewhere.
    """
    if not rows:
        return
    if copy and copy_supported(conn):
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(model.__tablename__), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cur, cur.copy(statement) as out:
            for row in rows:
                out.write_row(row)
        return
    conn.execute(sa.insert(model), [dict(zip(columns, row, strict=True)) for row in rows])


class Appender:
    """Collects rows for one staging table (`model`) and appends them `batch` at a time, each batch in one transaction.

    Use as a context manager: leaving the block normally writes what is left; leaving it by an exception
    writes nothing more (the caller's run is failing, and `fail_run` clears what was appended).
    With `conn`, every batch goes into that connection's transaction instead (all or nothing, the caller
    commits).
    """

    def __init__(
        self,
        store: sa.Engine,
        model: type[Base],
        columns: Sequence[str],
        batch: int = STAGING_BATCH,
        copy: bool = True,
        conn: sa.Connection | None = None,
    ) -> None:
        self.store = store
        self.conn = conn
        self.model = model
        self.columns = tuple(columns)
        self.batch = batch
        self.copy = copy
        self.rows: list[Row] = []
        self.written = 0

    def add(self, row: Row) -> bool:
        """Add one row; True when that filled a batch and it was written."""
        self.rows.append(row)
        if len(self.rows) < self.batch:
            return False
        self.flush()
        return True

    def flush(self) -> None:
        if not self.rows:
            return
        if self.conn is not None:
            append_rows(self.conn, self.model, self.columns, self.rows, self.copy)
        else:
            with self.store.begin() as conn:
                append_rows(conn, self.model, self.columns, self.rows, self.copy)
        self.written += len(self.rows)
        self.rows.clear()

    def __enter__(self) -> Appender:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.flush()
