"""Build the demo bank: a source database that follows the data contract, with known defects.

`generate_demo_bank` drops and recreates the four source tables (plus the sidecar `demo_injected_defect`)
and fills them in one transaction. Every record that is not named in the returned ground truth is valid
under every clause of the data standard on `spec.check_date`; every injected defect makes exactly its
clause fail. Closed records carry no defects (clause G1 puts them out of scope), whatever values they hold."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from expectations.contract import (
    SOURCE_METADATA,
    customer_org,
    institution,
    merchant,
    staff,
)
from remediation.demobank.customers import CustomerRows
from remediation.demobank.merchants import MerchantRows
from remediation.demobank.org import build_org
from remediation.demobank.people import Row
from remediation.demobank.spec import DemoBankSpec, InjectedDefect

Progress = Callable[[str], None]

BATCH_SIZE = 5000


class Builder(MerchantRows, CustomerRows):
    """Draws one record table's rows (merchants or customers) and injects their defects."""


DEMO_METADATA = sa.MetaData()
injected_defect = sa.Table(
    "demo_injected_defect",
    DEMO_METADATA,
    sa.Column("table_name", sa.String(20), primary_key=True),
    sa.Column("record_key", sa.String(32), primary_key=True),
    sa.Column("clause", sa.String(4), primary_key=True),
    sa.Column("column_name", sa.String(40), primary_key=True),
)
SOURCE_TABLES = [institution, staff, merchant, customer_org]


def generate_demo_bank(
    engine: sa.Engine, spec: DemoBankSpec, progress: Progress | None = None
) -> list[InjectedDefect]:
    """Replace the source tables in `engine` with a demo bank; return (and store) the injected defects."""
    report = progress or (lambda _message: None)
    org = build_org(random.Random(f"{spec.seed}/org"))
    defects: list[InjectedDefect] = []
    with engine.begin() as conn:
        DEMO_METADATA.drop_all(conn, checkfirst=True)
        SOURCE_METADATA.drop_all(conn, tables=SOURCE_TABLES, checkfirst=True)
        SOURCE_METADATA.create_all(conn, tables=SOURCE_TABLES)
        DEMO_METADATA.create_all(conn)
        conn.execute(institution.insert(), org.institutions)
        conn.execute(staff.insert(), org.staff)
        report(f"institution: {len(org.institutions)}, staff: {len(org.staff)}")
        merchants = Builder(spec, org, "merchant")
        insert_rows(conn, merchant, merchants.merchants(spec.merchants), spec.merchants, report)
        customers = Builder(spec, org, "customer_org")
        insert_rows(conn, customer_org, customers.customers(spec.customers), spec.customers, report)
        defects = merchants.defects + customers.defects
        rows = [
            {"table_name": d.table, "record_key": d.record_key, "clause": d.clause, "column_name": d.column}
            for d in defects
        ]
        for start in range(0, len(rows), BATCH_SIZE):
            conn.execute(injected_defect.insert(), rows[start : start + BATCH_SIZE])
        report(f"demo_injected_defect: {len(rows)}")
    return defects


def insert_rows(
    conn: sa.Connection, table: sa.Table, rows: Iterator[Row], total: int, report: Progress
) -> None:
    done = 0
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            conn.execute(table.insert(), batch)
            done += len(batch)
            batch = []
            report(f"{table.name}: {done}/{total}")
    if batch:
        conn.execute(table.insert(), batch)
        report(f"{table.name}: {done + len(batch)}/{total}")
