"""A demo with history: about six weeks of check dates on a small demo bank, so the portal shows what a
branch sees after weeks of use: a trend, fixes and regressions, appeals at each stage, overdue to-dos with
yellow and red cards, and a frozen month-end snapshot.

The checks run in this process (`run_suite`, what each check DAG does) on every `check_every`-th working
day, each month end and the first and last dates, oldest first, never after today (GX's fixed cost per run,
a few seconds, is what bounds the demo's time); every date gets its snapshot (one trend point). Between dates the source changes as a bank's would: some defective records are fixed
(the column takes a valid value from a clean record of the same table), and some clean records regress
(they take a defective value seen on the first date). After each date's checks come the reminders' SLA step
(due soon, cards) and the day's snapshot; a month end is frozen.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from expectations.contract import customer_org, merchant
from expectations.rulebook import load_suites
from remediation.checks.pipeline import run_suite
from remediation.demobank.generate import generate_demo_bank
from remediation.demobank.spec import DemoBankSpec, InjectedDefect
from remediation.errors import DqgovError
from remediation.notify.reminders import remind
from remediation.policy import current_policy
from remediation.reporting.snapshots import take_snapshot
from remediation.store.models import ACTIVE_STATUSES, Staff, Todo
from remediation.store.workflow_models import Appeal
from remediation.workdays import WorkdayCalendar
from remediation.workflow.appeals import arbitrate, coordinate, escalate, file_appeal

Progress = Callable[[str], None]
TABLES = {"merchant": (merchant, "mer_id"), "customer_org": (customer_org, "cust_no")}
FIXES_PER_DAY = 0.06  # share of the first date's defects fixed before each later checked date
REGRESSIONS_PER_DAY = 0.015  # share of the first date's defects that reappear elsewhere before each one
APPEALS_ON = 7  # the date (counted from the first) the appeals are filed


@dataclass(frozen=True)
class HistorySummary:
    first: dt.date
    last: dt.date
    dates: int
    fixed: int
    regressed: int
    appeals: int


def build_history(
    source: sa.Engine,
    store: sa.Engine,
    today: dt.date,
    *,
    days: int = 42,
    check_every: int = 2,
    merchants: int = 300,
    customers: int = 120,
    seed: int = 42,
    defect_rate: float = 0.2,
    progress: Progress | None = None,
) -> HistorySummary:
    """Generate a demo bank into `source`, then check it on `days` dates ending today (see the module)."""
    report = progress or (lambda _m: None)
    if days < 1:
        raise DqgovError(f"--days {days}: a history needs at least one date")
    first = today - dt.timedelta(days=days - 1)
    spec = DemoBankSpec(
        merchants=merchants, customers=customers, seed=seed, defect_rate=defect_rate, check_date=today
    )
    defects = generate_demo_bank(source, spec)
    rng = random.Random(f"{seed}/history")
    bad_values = _values(source, defects)
    pending_fix = [d for d in defects if (d.table, d.record_key, d.column) in bad_values]
    rng.shuffle(pending_fix)
    suites = load_suites()
    policy, calendar = current_policy(), WorkdayCalendar()
    fixed = regressed = appeals = workdays = 0
    done_fix: list[InjectedDefect] = []
    for n in range(days):
        day = first + dt.timedelta(days=n)
        month_end = (day + dt.timedelta(days=1)).month != day.month  # checked, so its snapshot is frozen
        workdays += calendar.is_workday(day)
        every = calendar.is_workday(day) and workdays % check_every == 0
        checked = n == 0 or n == days - 1 or month_end or every
        if n and checked:
            fixed += _fix(source, pending_fix, max(1, int(len(defects) * FIXES_PER_DAY)), rng, done_fix)
            regressed += _regress(
                source, defects, bad_values, max(1, int(len(defects) * REGRESSIONS_PER_DAY)), rng
            )
            regressed += _rebreak(source, done_fix, bad_values, rng)
        for suite in suites if checked else ():
            run_suite(source, store, suite, day, trigger="cli", sync=n == 0, today=today)
        remind(store, day, policy, calendar, (), "")
        take_snapshot(store, day)
        if n >= APPEALS_ON and not appeals and checked:
            appeals = _appeals(store, decided=True)
        if n == days - 1:  # still waiting today: one for a head, one for the data office
            appeals += _appeals(store, decided=False)
        report(
            f"{day}: {'checked' if checked else 'snapshot only'}, {fixed} fixed and {regressed} regressed so far"
        )
    return HistorySummary(first, today, days, fixed, regressed, appeals)


def _values(source: sa.Engine, defects: list[InjectedDefect]) -> dict[tuple[str, str, str], Any]:
    """The defective value of each injected defect's column, as the first date sees it."""
    found: dict[tuple[str, str, str], Any] = {}
    with source.connect() as conn:
        for d in defects:
            if d.table not in TABLES:
                continue
            table, key = TABLES[d.table]
            if d.column not in table.c:
                continue
            value = conn.scalar(sa.select(table.c[d.column]).where(table.c[key] == d.record_key))
            found[(d.table, d.record_key, d.column)] = value
    return found


def _clean_keys(conn: sa.Connection, table_name: str, defects: list[InjectedDefect]) -> list[str]:
    table, key = TABLES[table_name]
    bad = {d.record_key for d in defects if d.table == table_name}
    return [k for k in conn.scalars(sa.select(table.c[key]).order_by(table.c[key])) if k not in bad]


def _fix(
    source: sa.Engine,
    pending: list[InjectedDefect],
    count: int,
    rng: random.Random,
    done_fix: list[InjectedDefect],
) -> int:
    """The next `count` defects fixed: each column takes the value a clean record of its table holds."""
    done = 0
    with source.begin() as conn:
        for _ in range(min(count, len(pending))):
            d = pending.pop()
            table, key = TABLES[d.table]
            donors = _clean_keys(conn, d.table, [d])
            if not donors:
                continue
            value = conn.scalar(sa.select(table.c[d.column]).where(table.c[key] == rng.choice(donors)))
            conn.execute(sa.update(table).where(table.c[key] == d.record_key).values({d.column: value}))
            done_fix.append(d)
            done += 1
    return done


def _rebreak(
    source: sa.Engine,
    done_fix: list[InjectedDefect],
    bad_values: dict[tuple[str, str, str], Any],
    rng: random.Random,
) -> int:
    """Now and then a fixed record takes its old defective value again (its to-do reopens, with a new due
    date: the yellow cards of the last weeks)."""
    if not done_fix or rng.random() < 0.5:
        return 0
    d = done_fix.pop(rng.randrange(len(done_fix)))
    table, key = TABLES[d.table]
    with source.begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c[key] == d.record_key)
            .values({d.column: bad_values[(d.table, d.record_key, d.column)]})
        )
    return 1


def _regress(
    source: sa.Engine,
    defects: list[InjectedDefect],
    bad_values: dict[tuple[str, str, str], Any],
    count: int,
    rng: random.Random,
) -> int:
    """`count` clean records take a defective value seen on the first date (a regression)."""
    done = 0
    samples = [(t, c, v) for (t, _k, c), v in bad_values.items() if v is not None]
    if not samples:
        return 0
    with source.begin() as conn:
        for _ in range(count):
            table_name, column, value = rng.choice(samples)
            table, key = TABLES[table_name]
            clean = _clean_keys(conn, table_name, defects)
            if not clean:
                continue
            target = rng.choice(clean)
            conn.execute(sa.update(table).where(table.c[key] == target).values({column: value}))
            done += 1
    return done


def _appeals(store: sa.Engine, decided: bool) -> int:
    """Appeals on open to-dos of the account manager with the most. `decided`: one accepted by a head, one
    rejected by a head then escalated and rejected at arbitration, one passed up and accepted by the data
    office. Else: one waiting for a head, one passed up and waiting for the data office."""
    with store.connect() as conn:
        manager = conn.execute(
            sa.select(Todo.assignee_staff_id, sa.func.count().label("n"))
            .where(Todo.status.in_(ACTIVE_STATUSES), Todo.assignee_staff_id.is_not(None))
            .group_by(Todo.assignee_staff_id)
            .order_by(sa.desc("n"), Todo.assignee_staff_id)
        ).first()
        if manager is None:
            return 0
        staff_id = str(manager[0])
        todos = list(
            conn.scalars(
                sa.select(Todo.id)
                .where(
                    Todo.assignee_staff_id == staff_id,
                    Todo.status == "open",
                    Todo.id.not_in(sa.select(Appeal.todo_id)),
                )
                .order_by(Todo.id)
                .limit(3 if decided else 2)
            )
        )
        office = conn.scalar(
            sa.select(Staff.staff_id)
            .where(Staff.position == "data_office", Staff.active.is_(True))
            .order_by(Staff.staff_id)
        )
    ids = [file_appeal(store, t, staff_id, "客户已提供证明材料，数据与实际一致") for t in todos]
    heads = _deciders(store, ids)
    if not decided:
        if len(ids) > 1 and heads.get(ids[1]):
            coordinate(store, ids[1], heads[ids[1]], "pass_up", "请数据管理部认定")
        return len(ids)
    steps: list[tuple[int, str, str | None]] = [(0, "accept", "核实无误，同意豁免")]
    if len(ids) > 1:
        steps.append((1, "reject", "证明材料不足"))
    if len(ids) > 2:
        steps.append((2, "pass_up", "涉及口径，提请数据管理部认定"))
    for i, decision, note in steps:
        if heads.get(ids[i]):
            coordinate(store, ids[i], heads[ids[i]], decision, note)
    if len(ids) > 1 and heads.get(ids[1]):
        escalate(store, ids[1], staff_id, "材料已补充")
        if office:
            arbitrate(store, ids[1], office, "reject", "维持协调意见")
    if len(ids) > 2 and office and heads.get(ids[2]):
        arbitrate(store, ids[2], office, "accept", "规则不适用于该类商户")
    return len(ids)


def _deciders(store: sa.Engine, appeal_ids: list[int]) -> dict[int, str]:
    """The first head able to decide each appeal at coordination."""
    from remediation.reporting.appeal_views import appeals_waiting_for

    with store.connect() as conn:
        heads = list(
            conn.scalars(
                sa.select(Staff.staff_id)
                .where(Staff.position.in_(("sub_branch_head", "branch_head")), Staff.active.is_(True))
                .order_by(Staff.position.desc(), Staff.staff_id)
            )
        )
    found: dict[int, str] = {}
    for head in heads:
        for a in appeals_waiting_for(store, head):
            if a.id in appeal_ids and a.id not in found:
                found[a.id] = head
        if len(found) == len(appeal_ids):
            break
    return found
