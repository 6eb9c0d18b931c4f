"""The portal's queries: scoped lists with filters, paging and sorting over thousands of to-dos, counts,
and the dashboard's live counts rolled up the tree; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from remediation.reporting.dashboard import live_counts, rank, roll_up
from remediation.reporting.orgtree import institution_tree, subtree_codes
from remediation.reporting.queries import TodoFilters, TodoScope, list_todos, todo_counts, todo_detail
from remediation.store.engines import open_store
from remediation.store.models import Todo
from remediation.workflow.campaigns import ensure_default_campaign, list_campaigns
from tests.dbenv import Databases
from tests.storedata import add_todos, seed_org

DAY = dt.date(2026, 11, 20)


@pytest.fixture
def store(databases: Databases) -> sa.Engine:
    engine = open_store(databases.new("store"))
    seed_org(engine)
    specs = []
    for n in range(3000):
        specs.append(
            {
                "assignee": ("M101", "M102", "M201")[n % 3],
                "inst": "110200" if n % 3 == 2 else "110100",
                "due": DAY + dt.timedelta(days=(n % 40) - 10),
                "rule": "MER-C1-PHONE-FORMAT" if n % 2 else "MER-B2-LEGAL-REP-ID",
                "card": "yellow" if n % 40 < 10 else "none",
            }
        )
    add_todos(engine, specs, DAY)
    with engine.begin() as conn:  # a few closed ones
        conn.execute(sa.update(Todo).where(Todo.id <= 30).values(status="fixed", closed_on=DAY))
    return engine


def test_an_account_managers_list_pages_through_thousands_sorted_by_due_date(store: sa.Engine) -> None:
    scope = TodoScope(assignee="M101")
    first = list_todos(store, scope, TodoFilters(per_page=50), DAY)
    assert first.total == 990 and first.pages == 20 and len(first.items) == 50
    assert {r.assignee_staff_id for r in first.items} == {"M101"}
    dues = [r.due_date for r in first.items]
    assert dues == sorted(dues) and dues[0] == DAY - dt.timedelta(days=10)
    last = list_todos(store, scope, TodoFilters(page=20), DAY)
    assert len(last.items) == 40 and {r.id for r in last.items}.isdisjoint({r.id for r in first.items})
    beyond = list_todos(store, scope, TodoFilters(page=999), DAY)
    assert beyond.page == 20  # clamped to the last page
    latest = list_todos(store, scope, TodoFilters(sort="-due"), DAY)
    assert latest.items[0].due_date == DAY + dt.timedelta(days=29)


def test_filters_and_counts(store: sa.Engine) -> None:
    scope = TodoScope(assignee="M101")
    overdue = list_todos(store, scope, TodoFilters(due="overdue", rule_id="MER-C1-PHONE-FORMAT"), DAY)
    assert overdue.total > 0
    assert all(
        r.due_date is not None and r.due_date < DAY and r.rule_id == "MER-C1-PHONE-FORMAT"
        for r in overdue.items
    )
    counts = todo_counts(store, scope, TodoFilters(), DAY)
    assert counts.by_status == {"open": 990, "fixed": 10}
    assert sum(r.count for r in counts.by_rule) == 990 and counts.by_rule[0].description
    assert counts.by_card["yellow"] == sum(1 for n in range(0, 3000, 3) if n % 40 < 10 and n > 29)
    keyed = list_todos(store, scope, TodoFilters(status="all", record_key="1023604581200"), DAY)
    assert keyed.total == 34 and all(r.record_key.startswith("1023604581200") for r in keyed.items)
    assert list_todos(store, scope, TodoFilters(record_key="%"), DAY).total == 0  # LIKE wildcards are literal


def test_the_scope_decides_what_exists(store: sa.Engine) -> None:
    tree = institution_tree(store)
    head_110100 = TodoScope(institutions=subtree_codes(tree, "110100"))
    assert list_todos(store, head_110100, TodoFilters(status="all"), DAY).total == 2000
    assert list_todos(store, TodoScope(everything=True), TodoFilters(status="all"), DAY).total == 3000
    assert list_todos(store, TodoScope(), TodoFilters(status="all"), DAY).total == 0  # unknown role: nothing
    other = list_todos(store, TodoScope(assignee="M201"), TodoFilters(), DAY).items[0]
    assert todo_detail(store, TodoScope(assignee="M201"), other.id) is not None
    assert todo_detail(store, TodoScope(assignee="M101"), other.id) is None
    assert todo_detail(store, head_110100, other.id) is None
    assert subtree_codes(tree, "110000") == {"110000", "110100", "110200"}


def test_live_counts_roll_up_the_tree_and_rank(store: sa.Engine) -> None:
    ensure_default_campaign(store, DAY)
    campaign = list_campaigns(store)[0]
    tree = institution_tree(store)
    per_inst = live_counts(store, campaign, TodoScope(everything=True), "inst", DAY, tree)
    branch = roll_up(per_inst, tree, "110000")
    assert branch.baseline == 3000 and branch.done == 30 and branch.completion_rate == pytest.approx(0.01)
    ranked = rank([(c, c, roll_up(per_inst, tree, c)) for c in ("110100", "110200")])
    assert [r.key for r in ranked] == ["110200", "110100"]  # both 1.0%: fewer overdue ranks first
    people = live_counts(
        store, campaign, TodoScope(institutions=subtree_codes(tree, "110100")), "assignee", DAY
    )
    assert set(people) == {"M101", "M102"}
