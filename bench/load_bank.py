"""Load a large demo bank into PostgreSQL with COPY, in flat memory: millions of merchants and customers.

    .venv/bin/python bench/load_bank.py postgresql+psycopg://postgres@127.0.0.1:5432/dqgov_perf_1m \
        --merchants 1000000 --customers 1000000 [--failing-share 0.01]

The demo generator's rows stream straight into `COPY … FROM STDIN` (no list of rows, no ground truth
kept: `generate_demo_bank` is the one that records injected defects). `--failing-share` is the share of
records given a defect (the generator's `defect_rate`, 0.15 by default); the records that fail a rule come
out within a point of it. The database is created if it does
not exist, its four source tables replaced, then VACUUMed and ANALYZEd. Prints seconds and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import time
from collections.abc import Iterator

import sqlalchemy as sa
from benchdb import create_database

from expectations.contract import SOURCE_METADATA, customer_org, institution, merchant, staff
from remediation.demobank import DemoBankSpec
from remediation.demobank.generate import Builder
from remediation.demobank.org import build_org
from remediation.demobank.people import Row

TABLES = [institution, staff, merchant, customer_org]


def copy_rows(conn: sa.Connection, table: sa.Table, rows: Iterator[Row]) -> int:
    names = [c.name for c in table.c]
    driver = conn.connection.driver_connection
    assert driver is not None
    count = 0
    with driver.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(tuple(row.get(n) for n in names))
            count += 1
    return count


def forgetful(builder: Builder, rows: Iterator[Row]) -> Iterator[Row]:
    """The builder's rows, dropping its ground truth as it goes (kept, it would grow with the bank)."""
    for i, row in enumerate(rows):
        yield row
        if i % 10_000 == 0:
            builder.defects.clear()


def load(
    url: str, merchants: int, customers: int, check_date: dt.date, failing_share: float = 0.15
) -> dict[str, float]:
    started = time.perf_counter()
    create_database(sa.make_url(url))
    engine = sa.create_engine(url)
    spec = DemoBankSpec(
        merchants=merchants, customers=customers, check_date=check_date, defect_rate=failing_share
    )
    org = build_org(random.Random(f"{spec.seed}/org"))
    with engine.begin() as conn:
        SOURCE_METADATA.drop_all(conn, tables=TABLES, checkfirst=True)
        SOURCE_METADATA.create_all(conn, tables=TABLES)
        conn.execute(institution.insert(), org.institutions)
        conn.execute(staff.insert(), org.staff)
        m = Builder(spec, org, "merchant")
        copy_rows(conn, merchant, forgetful(m, m.merchants(merchants)))
        c = Builder(spec, org, "customer_org")
        copy_rows(conn, customer_org, forgetful(c, c.customers(customers)))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # VACUUM as well: the first reads of freshly copied rows set their hint bits and write the pages
        # back, and autovacuum's pass over a million new rows would fall into the timed runs.
        conn.execute(sa.text("VACUUM (FREEZE, ANALYZE)"))
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": time.perf_counter() - started, "peak_rss_mib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="a PostgreSQL URL (postgresql+psycopg://…/dqgov_perf_…)")
    parser.add_argument("--merchants", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--check-date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 20))
    parser.add_argument(
        "--failing-share", type=float, default=0.15, help="share of records given a defect (0 to 1)"
    )
    args = parser.parse_args()
    if not 0.0 <= args.failing_share <= 1.0:
        parser.error(f"--failing-share {args.failing_share}: must be between 0 and 1")
    result = load(args.url, args.merchants, args.customers, args.check_date, args.failing_share)
    print(
        f"loaded {args.merchants} merchants + {args.customers} customers in {result['seconds']:.1f} s, "
        f"peak RSS {result['peak_rss_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    main()
