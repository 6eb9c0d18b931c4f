"""转派: a head hands to-dos to another active account manager of their subtree; the reconcile keeps that
while the source's manager is unchanged and follows the source once it names another. Both backends."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from remediation.checks.voiding import void_run
from remediation.errors import InvalidInput
from remediation.reporting.queries import TodoScope
from remediation.store.models import TodoEvent
from remediation.workflow.handover import hand_over
from tests.checkbank import PHONE, Bank, key
from tests.factories import CHECK_DATE

S101 = TodoScope(institutions=frozenset({"110100"}))
NEXT = CHECK_DATE + dt.timedelta(days=1)


def _todo(bank: Bank, seq: int) -> dict[str, Any]:
    return bank.todos()[f"{key(seq)}:{PHONE}"]


def _set_manager(bank: Bank, seq: int, staff_id: str) -> None:
    with bank.source.begin() as conn:
        conn.execute(
            sa.text("UPDATE merchant SET mgr_staff_id = :m WHERE mer_id = :k"), {"m": staff_id, "k": key(seq)}
        )


def test_a_handover_holds_until_the_source_names_another_manager(databases: Any) -> None:
    bank = Bank(databases)
    _set_manager(bank, 3, "M103")  # a manager who left: the to-do is routed to the head S101 (G3)
    bank.run()
    first, second, routed = _todo(bank, 1)["id"], _todo(bank, 2)["id"], _todo(bank, 3)["id"]
    assert _todo(bank, 3)["assignee_staff_id"] == "S101" and _todo(bank, 3)["routed_to_head"]
    with bank.store.begin() as conn:
        hand_over(conn, "S101", S101, [routed], "M101")
        done = hand_over(conn, "S101", S101, [first, second], "M102")
    assert done.moved == (first, second) and done.to_name == "王经理"
    assert _todo(bank, 1)["assignee_staff_id"] == "M102" and _todo(bank, 1)["assigned_by"] == "S101"
    with bank.store.connect() as conn:
        event = conn.execute(
            sa.select(TodoEvent.actor, TodoEvent.detail).where(
                TodoEvent.todo_id == first, TodoEvent.event == "reassigned"
            )
        ).one()
    assert event == ("S101", "M101 -> M102")

    for refused in ("M201", "M103", "S101", ""):  # another subtree's, inactive, not a manager, none
        with pytest.raises(InvalidInput) as caught, bank.store.begin() as conn:
            hand_over(conn, "S101", S101, [first], refused)
        assert caught.value.code == "handover_bad_target"
    with pytest.raises(InvalidInput) as caught, bank.store.begin() as conn:
        hand_over(conn, "S101", S101, [first], "M102")  # already theirs
    assert caught.value.code == "handover_nothing_to_move"

    bank.run(NEXT)  # the source still names M101 (and M103): the head's choices hold
    assert _todo(bank, 1)["assignee_staff_id"] == "M102" and _todo(bank, 2)["assignee_staff_id"] == "M102"
    assert _todo(bank, 3)["assignee_staff_id"] == "M101" and not _todo(bank, 3)["routed_to_head"]

    _set_manager(bank, 1, "M201")  # the source moves record 1 to 吴经理: the to-do follows it
    bank.run(NEXT + dt.timedelta(days=1))
    moved = _todo(bank, 1)
    assert moved["assignee_staff_id"] == "M201" and moved["assigned_by"] is None
    assert _todo(bank, 2)["assignee_staff_id"] == "M102" and _todo(bank, 2)["assigned_by"] == "S101"

    void_run(bank.store, bank.last_run_id(), "D001", "wrong extract")  # voiding puts the handover back
    assert _todo(bank, 1)["assignee_staff_id"] == "M102" and _todo(bank, 1)["assigned_by"] == "S101"
