"""The dashboard's tallied counts and the summary table's snapshot totals give exactly the numbers of the
direct computation (one scan of the to-dos; the snapshot's rows per rule), on SQLite and PostgreSQL, for
varied to-dos and after real check runs that open, fix, reopen, reassign and close them, after actions
on single to-dos, a handover, a deletion, a new campaign and a rule whose severity changed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa

from remediation.checks.staging import sync_rules
from remediation.reporting.dashboard import (
    LIVE_FIELDS,
    LiveCounts,
    best_and_worst,
    completion_trend,
    live_breakdown,
    rank,
    ranked_breakdown,
    snapshot_days,
)
from remediation.reporting.orgtree import institution_tree, subtree_codes
from remediation.reporting.queries import TodoScope
from remediation.reporting.snapshots import summary_table, take_snapshot
from remediation.store.engines import open_store
from remediation.store.models import Todo, TodoEvent
from remediation.store.tally import BY_ASSIGNEE, BY_INSTITUTION, COUNTERS, ranked_totals, tallied_totals
from remediation.store.workflow_models import TodoDue, TodoTally
from remediation.workflow.campaigns import create_campaign, ensure_default_campaign, list_campaigns
from tests.checkbank import BAD_PHONE, PHONE, SUITES, Bank, key
from tests.dbenv import Databases
from tests.factories import CHECK_DATE
from tests.storedata import add_todos, seed_org

DAYS = [CHECK_DATE + dt.timedelta(days=n) for n in (-40, 0, 3, 30)]


def assert_fast_equals_direct(store: sa.Engine) -> None:
    tree = institution_tree(store)
    scopes = [TodoScope(everything=True), *(TodoScope(institutions=subtree_codes(tree, c)) for c in tree)]
    for campaign in list_campaigns(store):
        for scope in scopes:
            for today in DAYS:
                fast = live_breakdown(store, campaign, scope, today, tree)
                direct = live_breakdown(store, campaign, scope, today, tree, direct=True)
                assert fast == direct, (campaign.name, scope, today)
                institutions = None if scope.everything else scope.institutions
                for shown in (2, 100):  # the ranking cut to its ends, and whole
                    ranked = ranked_breakdown(store, campaign, institutions, today, tree, shown)
                    people = rank([(k, k, c) for k, c in direct.by_assignee.items() if k])
                    assert (ranked.people, ranked.people_hidden) == best_and_worst(people, shown)
                    assert ranked.by_inst == direct.by_inst


def vary(store: sa.Engine) -> None:
    """To-dos of every kind the counts tell apart, inserted directly next to the checked ones."""
    specs: list[dict[str, Any]] = []
    for n in range(60):
        specs.append(
            {
                "assignee": ("M101", "M102", "M201")[n % 3],
                "inst": "110200" if n % 3 == 2 else "110100",
                "due": None if n % 11 == 0 else CHECK_DATE + dt.timedelta(days=(n % 9) * 5 - 20),
                "rule": PHONE if n % 2 else "MER-B2-LEGAL-REP-ID",
                "card": ("none", "yellow", "red")[n % 3],
                "status": ("open", "pending_verification", "fixed", "exempted", "out_of_scope", "void")[
                    n % 6
                ],
                "key": f"V{n:04d}",
            }
        )
    add_todos(store, specs, CHECK_DATE)
    with store.begin() as conn:  # stock first seen later, new records, no institution, no assignee
        todo = Todo.__table__
        conn.execute(
            sa.update(todo)
            .where(todo.c.record_key.like("V%"))
            .values(
                first_seen=sa.case(
                    (todo.c.id % 4 == 0, CHECK_DATE + dt.timedelta(days=5)), else_=todo.c.first_seen
                ),
                record_created=sa.case(
                    (todo.c.id % 5 == 0, CHECK_DATE + dt.timedelta(days=2)),
                    (todo.c.id % 5 == 1, None),
                    else_=dt.date(2020, 1, 1),
                ),
            )
        )
        conn.execute(sa.update(todo).where(todo.c.record_key == "V0007").values(inst_code=None))
        conn.execute(sa.update(todo).where(todo.c.record_key == "V0008").values(assignee_staff_id=None))


def test_tallied_counts_equal_a_scan_of_the_to_dos_through_their_life(databases: Databases) -> None:
    bank = Bank(databases)
    bank.run()  # 10 bad phones: opened
    ensure_default_campaign(bank.store, CHECK_DATE)
    vary(bank.store)
    create_campaign(
        bank.store,
        "电话专项",
        CHECK_DATE + dt.timedelta(days=1),
        CHECK_DATE + dt.timedelta(days=60),
        0.9,
        tables=["merchant"],
        rules=[PHONE],
        institutions=["110100"],
    )
    assert_fast_equals_direct(bank.store)
    with bank.source.begin() as conn:  # fix three, break a good one, move one to 吴经理, close one
        merchant = sa.table("merchant", sa.column("mer_id"), sa.column("contact_phone"))
        conn.execute(
            sa.text("UPDATE merchant SET contact_phone = '13800138000' WHERE mer_id IN (:a, :b, :c)"),
            {"a": key(1), "b": key(2), "c": key(3)},
        )
        conn.execute(sa.update(merchant).where(merchant.c.mer_id == key(20)).values(contact_phone=BAD_PHONE))
        conn.execute(
            sa.text("UPDATE merchant SET inst_code = '110200', mgr_staff_id = 'M201' WHERE mer_id = :k"),
            {"k": key(4)},
        )
        conn.execute(sa.text("UPDATE merchant SET status = 'closed' WHERE mer_id = :k"), {"k": key(5)})
    bank.run(CHECK_DATE + dt.timedelta(days=1))
    statuses = bank.statuses()
    assert statuses[f"{key(1)}:{PHONE}"] == "fixed" and statuses[f"{key(5)}:{PHONE}"] == "out_of_scope"
    assert_fast_equals_direct(bank.store)
    with bank.source.begin() as conn:  # one of the fixed fails again: reopened
        conn.execute(
            sa.text("UPDATE merchant SET contact_phone = :p WHERE mer_id = :k"), {"p": BAD_PHONE, "k": key(1)}
        )
    bank.run(CHECK_DATE + dt.timedelta(days=2))
    assert bank.statuses()[f"{key(1)}:{PHONE}"] == "open"
    assert_fast_equals_direct(bank.store)
    with bank.store.begin() as conn:  # single to-dos: marked fixed by hand, a card, a due date moved, deleted
        todo = Todo.__table__
        conn.execute(sa.update(todo).where(todo.c.record_key == key(6)).values(status="pending_verification"))
        conn.execute(sa.update(todo).where(todo.c.record_key == key(7)).values(card="red", due_date=None))
        conn.execute(sa.update(todo).where(todo.c.record_key == "V0010").values(assignee_staff_id="M102"))
        gone = sa.select(todo.c.id).where(todo.c.record_key == "V0011").scalar_subquery()
        conn.execute(sa.delete(TodoEvent).where(TodoEvent.todo_id == gone))
        conn.execute(sa.delete(todo).where(todo.c.record_key == "V0011"))
    assert_fast_equals_direct(bank.store)


def test_a_day_s_move_of_last_seen_counts_nothing_and_stays_on_its_pages(databases: Databases) -> None:
    """Reconcile moves `last_seen` of every kept to-do each day. The tally triggers count only the rows
    whose counted columns changed (in the same statement as such a change here), and on PostgreSQL the
    new row versions stay on their pages (a HOT update: no index entries), the room left by fillfactor."""
    store = open_store(databases.new("store"))
    seed_org(store)
    ensure_default_campaign(store, CHECK_DATE)
    due = CHECK_DATE + dt.timedelta(days=5)
    n = 400
    specs = [{"assignee": ("M101", "M102")[i % 2], "due": due, "key": f"K{i:04d}"} for i in range(n)]
    add_todos(store, specs, CHECK_DATE)
    todo = Todo.__table__
    hot = "SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'dq_todo'"
    with store.begin() as conn:
        if databases.backend == "postgresql":
            conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))
            hot_before = conn.scalar(sa.text(hot))
        conn.execute(
            sa.update(todo).values(
                last_seen=CHECK_DATE + dt.timedelta(days=1),
                status=sa.case((todo.c.record_key == "K0007", "pending_verification"), else_=todo.c.status),
            )
        )
    with store.begin() as conn:  # two to-dos swap assignees: the counted values, as a whole, stay the same
        conn.execute(
            sa.update(todo)
            .where(todo.c.record_key.in_(["K0001", "K0002"]))
            .values(assignee_staff_id=sa.case((todo.c.assignee_staff_id == "M101", "M102"), else_="M101"))
        )
    assert_fast_equals_direct(store)
    with store.connect() as conn:
        tally = dict(conn.execute(sa.select(TodoTally.assignee_staff_id, TodoTally.pending)).all())
    assert tally == {"M101": 0, "M102": 1}
    if databases.backend == "postgresql":
        with store.connect() as conn:
            conn.execute(sa.text("SELECT pg_stat_force_next_flush()"))
            assert conn.scalar(sa.text(hot)) - hot_before >= n * 9 // 10  # a page's last row may not fit


def test_snapshot_totals_equal_the_rows_per_rule(databases: Databases) -> None:
    bank = Bank(databases)
    bank.run()
    ensure_default_campaign(bank.store, CHECK_DATE)
    vary(bank.store)
    for n in range(3):
        take_snapshot(bank.store, CHECK_DATE + dt.timedelta(days=n))
    with bank.store.begin() as conn:
        conn.execute(sa.update(Todo).where(Todo.status == "open", Todo.id % 2 == 0).values(status="fixed"))
    take_snapshot(bank.store, CHECK_DATE + dt.timedelta(days=1))  # taken again: its totals follow

    def assert_same() -> None:
        for n in range(4):  # the last day has no snapshot: computed live either way
            day = CHECK_DATE + dt.timedelta(days=n)
            fast = summary_table(bank.store, day)
            assert fast == summary_table(bank.store, day, from_rules=True)
            assert fast.live == (n == 3)
        assert snapshot_days(bank.store, 1) == [CHECK_DATE + dt.timedelta(days=n) for n in (2, 1, 0)]
        trend = completion_trend(bank.store, 1, "100000", CHECK_DATE + dt.timedelta(days=5))
        assert [p.baseline for p in trend] and trend[1].done > trend[0].done

    assert_same()
    suite = SUITES["merchant"]  # the phone rule becomes high: every day's totals weigh it again
    rules = [dataclasses.replace(r, severity="high") if r.id == PHONE else r for r in suite.rules]
    sync_rules(bank.store, dataclasses.replace(suite, rules=tuple(rules)))
    assert_same()
    before = summary_table(bank.store, CHECK_DATE).scores[0]
    sync_rules(bank.store, suite)
    assert summary_table(bank.store, CHECK_DATE).scores[0].weighted_baseline != before.weighted_baseline
    assert_same()


def test_the_database_ranks_people_as_the_dashboard_did_ties_and_staff_ids_included(
    databases: Databases,
) -> None:
    """`ranked_totals` against `rank` + `best_and_worst` over the same tally: equal rates written as different
    fractions (1/3, 2/6), no baseline (100%) beside all done, ties on every term, staff ids whose order
    depends on the collation (B1 before a1 by code point), overdue from past due dates, and the unassigned
    row, which is never ranked."""
    store = open_store(databases.new("store"))
    today = CHECK_DATE
    people = {  # staff id: baseline, done, active, dated, of which due before today
        "a1": (3, 1, 2, 2, 1),
        "B1": (6, 2, 4, 4, 1),
        "B2": (6, 2, 4, 4, 1),
        "c0": (0, 0, 1, 0, 0),
        "C9": (5, 5, 0, 0, 0),
        "d5": (4, 1, 3, 3, 3),
        "D5": (4, 1, 3, 3, 0),
        "e7": (10, 0, 10, 10, 10),
        "": (7, 1, 6, 0, 0),
    }
    tally, due = TodoTally.__table__, TodoDue.__table__
    with store.begin() as conn:
        for n, (staff, (baseline, done, active, dated, overdue)) in enumerate(people.items()):
            inst = "110100" if n % 2 else "110200"
            counters = dict.fromkeys(COUNTERS, 0) | {"baseline": baseline, "done": done, "active": active}
            counters |= {"dated": dated, "new": n % 3}
            conn.execute(
                sa.insert(tally).values(campaign_id=1, inst_code=inst, assignee_staff_id=staff, **counters)
            )
            for when, count in ((today - dt.timedelta(days=1), overdue), (today, dated - overdue)):
                if count:
                    row = {"campaign_id": 1, "inst_code": inst, "assignee_staff_id": staff, "due_date": when}
                    conn.execute(sa.insert(due).values(**row, n=count))
    with store.connect() as conn:
        totals = tallied_totals(conn, 1, None, today)
        for shown in (2, 4, 6, 100):
            found = ranked_totals(conn, 1, None, today, shown)
            expected, hidden = best_and_worst(
                rank([(k, k, LiveCounts(*(c[f] for f in LIVE_FIELDS))) for k, c in totals[BY_ASSIGNEE] if k]),
                shown,
            )
            got = [(key, LiveCounts(*(c[f] for f in LIVE_FIELDS)), r) for key, c, r in found.people]
            assert got == [(r.key, r.counts, r.rank) for r in expected], shown
            assert found.ranked - len(found.people) == hidden
            assert sorted(found.by_inst, key=str) == sorted(totals[BY_INSTITUTION], key=str)
    ranks = [
        r.rank
        for r in rank([(k, k, LiveCounts(*(c[f] for f in LIVE_FIELDS))) for k, c in totals[BY_ASSIGNEE] if k])
    ]
    assert len(set(ranks)) < len(ranks), "the data has no tie to rank"
