"""Org sync and routing (clause G3): the store mirrors the source's tree and staff, and a record whose manager
is missing, unknown or inactive goes to the active head up the tree. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from expectations.contract import staff as src_staff
from remediation.checks.routing import compute_fallbacks, load_routing, sync_org
from remediation.store.engines import open_store
from remediation.store.models import Institution, Staff
from tests.factories import INSTITUTIONS, build_source


def test_sync_mirrors_the_tree_and_staff_and_a_second_sync_follows_the_source(databases: Any) -> None:
    source = build_source(databases.new("source"))
    store = open_store(databases.new("store"))
    summary = sync_org(source, store)
    assert (summary.institutions, summary.staff, summary.active_staff) == (4, 8, 6)
    with (
        source.begin() as conn
    ):  # 孙支行 leaves: 浔阳支行's to-dos without a manager go up to the branch head
        conn.execute(sa.update(src_staff).where(src_staff.c.staff_id == "S101").values(active=False))
    sync_org(source, store)
    with store.connect() as conn:
        fallbacks = dict(conn.execute(sa.select(Institution.inst_code, Institution.fallback_staff_id)).all())
        active = set(conn.scalars(sa.select(Staff.staff_id).where(Staff.active.is_(True))))
        routing = load_routing(conn)
    assert fallbacks == {"100000": "D001", "110000": "B001", "110100": "B001", "110200": "B001"}
    assert "S101" not in active
    assert routing.route("M101", "110100") == ("M101", False)  # an active manager keeps the record
    assert routing.route("M103", "110100") == ("B001", True)  # inactive manager: the head up the tree
    assert routing.route(None, "110200") == ("B001", True)  # no manager; 李支行 is inactive too
    assert routing.route("NOBODY", "999999")[1] is True  # unknown manager and institution: still routed


def test_fallbacks_stop_on_a_cycle_in_a_broken_tree() -> None:
    tree = [dict(i) for i in INSTITUTIONS] + [
        {"inst_code": "X1", "inst_name": "环1", "inst_level": "sub_branch", "parent_code": "X2"},
        {"inst_code": "X2", "inst_name": "环2", "inst_level": "branch", "parent_code": "X1"},
    ]
    people = [{"staff_id": "H1", "inst_code": "X2", "position": "branch_head", "active": True}]
    fallback, depth = compute_fallbacks(tree, people)
    assert fallback["X1"] == "H1" and depth["X1"] == 1 and fallback["100000"] is None
