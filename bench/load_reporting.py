"""Fill a PostgreSQL governance store for the reporting benchmark: 500 institutions, ~5,000 staff, millions
of to-dos and a month of daily snapshots, with COPY, in flat memory.

    .venv/bin/python bench/load_reporting.py postgresql+psycopg://postgres@127.0.0.1:5432/dqgov_report_5m \
        --todos 5000000

The schema is the store's own: the database is created and upgraded to the latest migration (`open_store`),
so the benchmark measures the real tables, indexes and whatever the migrations maintain. The bank: a head
office (总行) over 5 provincial branches, each over 8 city branches, with 454 sub-branches under those
(1 + 5 + 40 + 454 = 500), a head per institution, 10 account managers per sub-branch, a data office. The
to-dos follow one campaign 90 days under way: 80% first seen on its baseline day (the first full run), the
rest trickling in since; 15% on records created after the baseline (增量); statuses open 55%, pending 3%,
fixed 30%, exempted 2%, out of scope 5%, gone 3%, void 2%; due dates by severity; yellow and red cards on the
overdue. They stream from a generator into `COPY … FROM STDIN` with the table's indexes dropped and built
again afterwards. The snapshot of yesterday is taken by `take_snapshot` (the real code); the 29 days before
it are that snapshot shifted back with fewer to-dos fixed, inserted by one `INSERT … SELECT`.
Logins (password `bench-password-1`): `D0001` (data office), `B1`…`B5` (heads of the provincial branches).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from benchdb import create_database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-password-1"
STATUSES = (
    ("open", 55),
    ("pending_verification", 3),
    ("fixed", 30),
    ("exempted", 2),
    ("out_of_scope", 5),
    ("gone", 3),
    ("void", 2),
)
SLA_DAYS = {"high": 10, "medium": 20, "low": 30}
HISTORY_DAYS = 30


def org() -> tuple[list[dict[str, object]], list[dict[str, object]], list[tuple[str, str]]]:
    """Institutions, staff, and the account managers as (staff id, sub-branch)."""
    insts: list[dict[str, object]] = [
        {"inst_code": "100000", "inst_name": "赣鄱银行总行", "inst_level": "head", "parent_code": None}
    ]
    people = [("D0001", "周数据", "100000", "data_office")]
    managers: list[tuple[str, str]] = []
    subs = 0
    for p in range(1, 6):
        province = f"1{p}0000"
        insts.append(
            {
                "inst_code": province,
                "inst_name": f"第{p}省分行",
                "inst_level": "branch",
                "parent_code": "100000",
            }
        )
        people.append((f"B{p}", f"省分行行长{p}", province, "branch_head"))
        for c in range(1, 9):
            city = f"1{p}{c}000"
            insts.append(
                {
                    "inst_code": city,
                    "inst_name": f"第{p}省第{c}市分行",
                    "inst_level": "branch",
                    "parent_code": province,
                }
            )
            people.append((f"B{p}{c}", f"市分行行长{p}-{c}", city, "branch_head"))
            count = 12 if (p - 1) * 8 + c <= 14 else 11
            for s in range(1, count + 1):
                subs += 1
                sub = f"1{p}{c}{s:02d}0"
                insts.append(
                    {
                        "inst_code": sub,
                        "inst_name": f"第{p}省第{c}市第{s}支行",
                        "inst_level": "sub_branch",
                        "parent_code": city,
                    }
                )
                people.append((f"S{p}{c}{s:02d}", f"支行行长{p}-{c}-{s}", sub, "sub_branch_head"))
                for m in range(1, 11):
                    staff_id = f"M{p}{c}{s:02d}{m:02d}"
                    people.append((staff_id, f"客户经理{p}{c}{s}{m}", sub, "account_manager"))
                    managers.append((staff_id, sub))
    assert len(insts) == 500 and subs == 454, (len(insts), subs)
    staff = [
        {
            "staff_id": sid,
            "staff_name": name,
            "inst_code": inst,
            "position": position,
            "active": True,
            "email": None,
            "wecom_userid": None,
        }
        for sid, name, inst, position in people
    ]
    return insts, staff, managers


TODO_COLUMNS = [
    "rule_id",
    "table_name",
    "record_key",
    "status",
    "clause",
    "columns",
    "severity",
    "inst_code",
    "mgr_staff_id",
    "assignee_staff_id",
    "routed_to_head",
    "masked_value",
    "first_seen",
    "last_seen",
    "closed_on",
    "reopen_count",
    "opened_run_id",
    "transition_run_id",
    "due_date",
    "card",
    "record_created",
]


def todo_lines(
    todos: int, managers: list[tuple[str, str]], rules: list[tuple[str, str, str, str, str]], day: dt.date
) -> Iterator[str]:
    """COPY text lines of the to-dos; nothing is kept."""
    rng = random.Random(20261130)
    baseline = day - dt.timedelta(days=90)
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    for n in range(todos):
        staff_id, sub = managers[n % len(managers)]
        rule_id, table, clause, columns, severity = rules[(n // len(managers)) % len(rules)]
        status = statuses[rng.randrange(100)]
        first_seen = baseline if rng.random() < 0.8 else baseline + dt.timedelta(days=rng.randint(1, 90))
        new = rng.random() < 0.15
        created = first_seen - dt.timedelta(days=rng.randint(0, 20)) if new else dt.date(2023, 6, 1)
        if new and created <= baseline:
            created = baseline + dt.timedelta(days=1)
            first_seen = max(first_seen, created)
        due = first_seen + dt.timedelta(days=SLA_DAYS.get(severity, 30))
        active = status in ("open", "pending_verification")
        card = ("red" if due < day - dt.timedelta(days=15) else "yellow") if active and due < day else "none"
        closed = "\\N" if active else min(day, first_seen + dt.timedelta(days=rng.randint(1, 60))).isoformat()
        yield (
            "\t".join(
                (
                    rule_id,
                    table,
                    f"K{n:09d}",
                    status,
                    clause,
                    columns,
                    severity,
                    sub,
                    staff_id,
                    staff_id,
                    "f",
                    f"{columns.split(',')[0]}=***",
                    first_seen.isoformat(),
                    day.isoformat(),
                    closed,
                    "0",
                    "1",
                    "1",
                    due.isoformat(),
                    card,
                    created.isoformat(),
                )
            )
            + "\n"
        )


def copy_todos(engine: sa.Engine, lines: Iterator[str]) -> None:
    """COPY into dq_todo with its indexes dropped, then build them again exactly as they were."""
    with engine.begin() as conn:
        indexes = conn.execute(
            sa.text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'dq_todo' "
                "AND i.indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        ).all()
        for name, _ in indexes:
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cur, cur.copy(f"COPY dq_todo ({', '.join(TODO_COLUMNS)}) FROM STDIN") as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) == 10_000:
                    copy.write("".join(chunk))
                    chunk.clear()
            copy.write("".join(chunk))
        for _, definition in indexes:
            conn.execute(sa.text(definition))


def history(engine: sa.Engine, day: dt.date) -> None:
    """Yesterday's snapshot by the real code; the days before it shifted back from it, fewer fixed."""
    from remediation.reporting.snapshots import take_snapshot

    take_snapshot(engine, day - dt.timedelta(days=1))
    last = day - dt.timedelta(days=1)
    with engine.begin() as conn:
        for table, counts in (
            ("dq_snapshot", "inst_code, rule_id, segment, baseline"),
            (
                "dq_snapshot_records",
                "inst_code, records, new_records, new_records_with_findings, routing_gaps",
            ),
        ):
            shifted = (
                "s.baseline, s.open + s.fixed * k / 60, s.pending, s.fixed - s.fixed * k / 60, s.exempted, "
                "s.overdue, s.yellow, s.red, s.new"
                if table == "dq_snapshot"
                else ""
            )
            columns = counts + (
                ", open, pending, fixed, exempted, overdue, yellow, red, new" if shifted else ""
            )
            select = (
                f"s.inst_code, s.rule_id, s.segment, {shifted}"
                if shifted
                else "s.inst_code, s.records, s.new_records, s.new_records_with_findings, s.routing_gaps"
            )
            conn.execute(
                sa.text(
                    f"INSERT INTO {table} (snapshot_date, campaign_id, {columns}, frozen) "
                    f"SELECT s.snapshot_date - k, s.campaign_id, {select}, false "
                    f"FROM {table} s CROSS JOIN generate_series(1, :days) AS k WHERE s.snapshot_date = :last"
                ),
                {"days": HISTORY_DAYS - 1, "last": last},
            )


def load(url: str, todos: int, day: dt.date) -> dict[str, float]:
    from expectations.rulebook import load_suites
    from remediation.checks.routing import compute_fallbacks
    from remediation.checks.staging import sync_rules
    from remediation.store.engines import open_store
    from remediation.store.models import Institution, Staff
    from remediation.workflow.accounts import set_password
    from remediation.workflow.campaigns import ensure_default_campaign

    started = time.perf_counter()
    marks: dict[str, float] = {}
    create_database(sa.make_url(url))
    engine = open_store(url)
    insts, staff, managers = org()
    fallback, depth = compute_fallbacks(insts, staff)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Institution),
            [
                {**i, "fallback_staff_id": fallback[str(i["inst_code"])], "depth": depth[str(i["inst_code"])]}
                for i in insts
            ],
        )
        conn.execute(sa.insert(Staff), staff)
    suites = load_suites()
    for suite in suites:
        sync_rules(engine, suite)
    ensure_default_campaign(engine, day - dt.timedelta(days=90))
    rules = [(r.id, s.table, r.clause_text, r.columns_text, r.severity) for s in suites for r in s.rules]
    copy_todos(engine, todo_lines(todos, managers, rules, day))
    marks["to-dos copied"] = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE"))
    history(engine, day)
    marks["snapshots"] = time.perf_counter() - started
    for staff_id in ("D0001", "B1", "B2", "B3", "B4", "B5"):
        set_password(engine, staff_id, PASSWORD)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    marks["seconds"] = time.perf_counter() - started
    marks["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="a PostgreSQL URL (postgresql+psycopg://…/dqgov_report_…)")
    parser.add_argument("--todos", type=int, default=5_000_000)
    parser.add_argument(
        "--day",
        type=dt.date.fromisoformat,
        default=None,
        help="the bank's today (default: today in Asia/Shanghai)",
    )
    args = parser.parse_args()
    from remediation.clock import today_shanghai

    day = args.day or today_shanghai()
    result = load(args.url, args.todos, day)
    print(
        f"loaded {args.todos} to-dos for {day}: " + ", ".join(f"{k} {v:.1f}" for k, v in result.items()),
        flush=True,
    )


if __name__ == "__main__":
    main()
