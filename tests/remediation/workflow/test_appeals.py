"""Appeals (申诉 → 协调 → 仲裁) and exemptions, through real check runs, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from remediation.checks.verification import recheck_record
from remediation.errors import DqgovError, InvalidInput, InvalidState, NotAllowed, NotFound
from remediation.policy import DEFAULT_POLICY
from remediation.reporting.appeal_views import appeal_history, appeals_waiting_for
from remediation.store.workflow_models import Appeal, AppealDecision, Exemption
from remediation.workflow.appeals import arbitrate, coordinate, escalate, file_appeal, withdraw
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, update_record
from tests.workflowbank import BAD_PHONE, GOOD_PHONE, Bank, aware, build_bank, key

PHONE = "MER-C1-PHONE-FORMAT"
ROUTABLE = "MER-G3-ROUTABLE"
DAY = dt.timedelta(days=1)


@pytest.fixture
def bank(databases: Any) -> Bank:
    return build_bank(databases)


def exemptions(bank: Bank) -> list[dict[str, Any]]:
    with bank.store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(Exemption.__table__).order_by(Exemption.id))]


def test_appeal_passed_up_and_accepted_by_the_data_office_exempts_the_todo(bank: Bank) -> None:
    todo = bank.todo(2, PHONE)
    before = dt.datetime.now(dt.UTC)
    appeal_id = file_appeal(
        bank.store, todo["id"], "M101", "  商户为境外号码，规则不适用  ", "营业执照复印件"
    )

    assert [a.id for a in appeals_waiting_for(bank.store, "S101")] == [appeal_id]
    assert [a.id for a in appeals_waiting_for(bank.store, "B001")] == [appeal_id]  # a head above, too
    assert appeals_waiting_for(bank.store, "D001") == []  # not passed up yet
    assert appeals_waiting_for(bank.store, "M102") == []

    coordinate(bank.store, appeal_id, "S101", "pass_up", "需要数据管理部认定")
    assert appeals_waiting_for(bank.store, "S101") == []
    [waiting] = appeals_waiting_for(bank.store, "D001")
    assert (waiting.id, waiting.stage, waiting.status) == (appeal_id, "arbitration", "pending")
    assert (waiting.record_key, waiting.rule_id, waiting.masked_value) == (
        key(2),
        PHONE,
        "contact_phone=123****8901",
    )

    arbitrate(bank.store, appeal_id, "D001", "accept", "同意豁免", today=CHECK_DATE)
    after = dt.datetime.now(dt.UTC)

    exempted = bank.todo(2, PHONE)
    assert exempted["status"] == "exempted"
    [exemption] = exemptions(bank)
    assert exemption["todo_id"] == todo["id"] and exemption["appeal_id"] == appeal_id
    assert exemption["value_hash"] == todo["value_hash"]
    assert (exemption["granted_by"], exemption["granted_on"], exemption["status"]) == (
        "D001",
        CHECK_DATE,
        "active",
    )
    assert exemption["expires_on"] == CHECK_DATE + dt.timedelta(days=365)  # policy exemption.default_days

    [history] = appeal_history(bank.store, todo["id"])
    assert (history.status, history.stage, history.reason, history.evidence) == (
        "accepted",
        "arbitration",
        "商户为境外号码，规则不适用",
        "营业执照复印件",
    )
    assert [(d.stage, d.decision, d.decided_by, d.note) for d in history.decisions] == [
        ("coordination", "pass_up", "S101", "需要数据管理部认定"),
        ("arbitration", "accept", "D001", "同意豁免"),
    ]
    assert all(before <= aware(d.decided_at) <= after for d in history.decisions)
    assert history.exemption is not None and history.exemption.status == "active"
    assert bank.events(todo["id"]) == [
        ("opened", "system", None, "open"),
        ("appeal_filed", "M101", "open", "open"),
        ("appeal_passed_up", "S101", "open", "open"),
        ("appeal_accepted", "D001", "open", "open"),
        ("exempted", "D001", "open", "exempted"),
    ]


def test_a_head_above_the_institution_accepts_directly(bank: Bank) -> None:
    todo_id = bank.todo_id(4, PHONE)  # sub-branch 110200, whose own head S201 is inactive
    appeal_id = file_appeal(bank.store, todo_id, "M201", "号码为分机总机，已核实")
    assert [a.id for a in appeals_waiting_for(bank.store, "B001")] == [appeal_id]
    assert appeals_waiting_for(bank.store, "S101") == []  # another sub-branch's head
    assert appeals_waiting_for(bank.store, "S201") == []  # inactive

    coordinate(bank.store, appeal_id, "B001", "accept", today=CHECK_DATE)
    assert bank.todo(4, PHONE)["status"] == "exempted"
    [history] = appeal_history(bank.store, todo_id)
    assert (history.status, history.stage) == ("accepted", "coordination")
    assert [e[:2] for e in bank.events(todo_id)][-2:] == [("appeal_accepted", "B001"), ("exempted", "B001")]


def test_rejection_at_coordination_can_be_escalated_and_arbitration_is_final(bank: Bank) -> None:
    todo_id = bank.todo_id(2, PHONE)
    appeal_id = file_appeal(bank.store, todo_id, "M101", "客户拒绝提供手机号")
    with pytest.raises(InvalidInput, match="rejection needs a note"):
        coordinate(bank.store, appeal_id, "S101", "reject", "  ")
    coordinate(bank.store, appeal_id, "S101", "reject", "应补录有效电话")
    assert appeals_waiting_for(bank.store, "S101") == []
    with pytest.raises(InvalidState, match=f"appeal {appeal_id} .*rejected at coordination.*escalate"):
        file_appeal(bank.store, todo_id, "M101", "再次申诉")

    escalate(bank.store, appeal_id, "M101", "不同意支行意见")
    [waiting] = appeals_waiting_for(bank.store, "D001")
    assert (waiting.id, waiting.status, waiting.closed_at) == (appeal_id, "pending", None)
    arbitrate(bank.store, appeal_id, "D001", "reject", "联系电话为必填要素")

    with pytest.raises(InvalidState, match=f"data office rejected appeal {appeal_id} of to-do {todo_id}"):
        file_appeal(bank.store, todo_id, "M101", "第三次申诉")
    with pytest.raises(InvalidState, match=f"appeal {appeal_id} is rejected at arbitration"):
        escalate(bank.store, appeal_id, "M101")
    assert bank.todo(2, PHONE)["status"] == "open"
    assert exemptions(bank) == []
    [history] = appeal_history(bank.store, todo_id)
    assert [(d.stage, d.decision, d.decided_by) for d in history.decisions] == [
        ("coordination", "reject", "S101"),
        ("coordination", "escalate", "M101"),
        ("arbitration", "reject", "D001"),
    ]
    assert [e[:2] for e in bank.events(todo_id)][1:] == [
        ("appeal_filed", "M101"),
        ("appeal_rejected", "S101"),
        ("appeal_escalated", "M101"),
        ("appeal_rejected", "D001"),
    ]


def test_withdrawn_appeal_can_be_filed_again(bank: Bank) -> None:
    todo_id = bank.todo_id(2, PHONE)
    first = file_appeal(bank.store, todo_id, "M101", "误报")
    with pytest.raises(NotAllowed, match=f"only M101, who filed appeal {first}, may withdraw it"):
        withdraw(bank.store, first, "M102")
    withdraw(bank.store, first, "M101", "已自行更正")
    with pytest.raises(InvalidState, match=f"appeal {first} is withdrawn"):
        coordinate(bank.store, first, "S101", "accept")
    second = file_appeal(bank.store, todo_id, "M101", "误报，补充材料")
    assert [a.status for a in appeal_history(bank.store, todo_id)] == ["withdrawn", "pending"]
    assert [a.id for a in appeals_waiting_for(bank.store, "S101")] == [second]
    assert ("appeal_withdrawn", "M101", "open", "open") in bank.events(todo_id)


def test_a_heads_own_todo_is_coordinated_above_and_a_branch_heads_goes_to_the_data_office(
    bank: Bank,
) -> None:
    own = bank.todo_id(5, ROUTABLE)  # routed to sub-branch head S101 (G3)
    appeal_id = file_appeal(bank.store, own, "S101", "管户人调岗，待重新分配")
    assert appeals_waiting_for(bank.store, "S101") == []
    with pytest.raises(NotAllowed, match=f"S101 filed appeal {appeal_id} and may not decide it"):
        coordinate(bank.store, appeal_id, "S101", "accept")
    coordinate(bank.store, appeal_id, "B001", "accept", today=CHECK_DATE)
    assert bank.todo(5, ROUTABLE)["status"] == "exempted"

    branch = bank.todo_id(6, ROUTABLE)  # routed to branch head B001: no other head up the tree
    straight = file_appeal(bank.store, branch, "B001", "分行营业部直管商户")
    [history] = appeal_history(bank.store, branch)
    assert (history.id, history.stage) == (straight, "arbitration")
    assert [a.id for a in appeals_waiting_for(bank.store, "D001")] == [straight]


def refusals(bank: Bank) -> list[tuple[Callable[[], object], type[DqgovError], str]]:
    """Actions that must be refused, each with the error it raises and what the message says."""
    t2, t4 = bank.todo_id(2, PHONE), bank.todo_id(4, PHONE)
    a2 = file_appeal(bank.store, t2, "M101", "误报")
    a4 = file_appeal(bank.store, t4, "M201", "误报")
    coordinate(bank.store, a4, "B001", "pass_up")
    fixed = bank.todo_id(3, PHONE)
    update_record(bank.source, "merchant", key(3), contact_phone=GOOD_PHONE)
    recheck_record(source_engine(bank.source_url), bank.store, "merchant", key(3), CHECK_DATE)
    return [
        (
            lambda: file_appeal(bank.store, t2, "M102", "不是我的"),
            NotAllowed,
            f"to-do {t2} is assigned to M101",
        ),
        (lambda: file_appeal(bank.store, fixed, "M101", "已关闭"), InvalidState, f"to-do {fixed} is fixed"),
        (lambda: file_appeal(bank.store, t2, "M101", "第二次"), InvalidState, f"already has appeal {a2}"),
        (
            lambda: file_appeal(bank.store, bank.todo_id(3, "MER-E5-LICENCE-EXPIRED"), "M101", " "),
            InvalidInput,
            "reason must not be blank",
        ),
        (lambda: file_appeal(bank.store, t2, "M101", "x" * 2001), InvalidInput, "at most 2000"),
        (lambda: file_appeal(bank.store, 999, "M101", "?"), NotFound, "no to-do 999"),
        (lambda: file_appeal(bank.store, t2, "M103", "已离职"), NotAllowed, "M103 .* no longer active"),
        (lambda: coordinate(bank.store, a2, "S201", "accept"), NotAllowed, "S201 .* no longer active"),
        (lambda: coordinate(bank.store, a2, "M102", "accept"), NotAllowed, "M102 \\(account_manager"),
        (
            lambda: coordinate(bank.store, a2, "B001", "maybe"),
            InvalidInput,
            r"decides accept \| reject \| pass_up",
        ),
        (
            lambda: coordinate(bank.store, a4, "B001", "accept"),
            InvalidState,
            f"appeal {a4} is at arbitration",
        ),
        (lambda: coordinate(bank.store, 999, "B001", "accept"), NotFound, "no appeal 999"),
        (
            lambda: arbitrate(bank.store, a2, "D001", "accept"),
            InvalidState,
            f"appeal {a2} is at coordination",
        ),
        (lambda: arbitrate(bank.store, a4, "B001", "accept"), NotAllowed, "B001 .* not in the data office"),
        (lambda: arbitrate(bank.store, a4, "D001", "pass_up"), InvalidInput, "arbitration decides accept"),
        (lambda: escalate(bank.store, a2, "M101"), InvalidState, f"appeal {a2} is pending at coordination"),
    ]


def test_refused_actions_name_the_reason_and_leave_the_store_unchanged(bank: Bank) -> None:
    cases = refusals(bank)
    before = bank.dump()
    for action, error, message in cases:
        with pytest.raises(error, match=message):
            action()
        assert bank.dump() == before, message


def test_a_head_of_another_subtree_may_not_coordinate(bank: Bank) -> None:
    appeal_id = file_appeal(bank.store, bank.todo_id(4, PHONE), "M201", "误报")
    before = bank.dump()
    with pytest.raises(
        NotAllowed, match="S101 \\(sub_branch_head, 110100\\) is not a head of institution 110200"
    ):
        coordinate(bank.store, appeal_id, "S101", "accept")
    assert bank.dump() == before


def test_exemption_holds_while_the_values_stay_and_lapses_when_they_change(bank: Bank) -> None:
    changed, fixed = bank.todo_id(2, PHONE), bank.todo_id(4, PHONE)
    for todo_id, appellant, head in ((changed, "M101", "S101"), (fixed, "M201", "B001")):
        appeal_id = file_appeal(bank.store, todo_id, appellant, "号码经核实有效")
        coordinate(bank.store, appeal_id, head, "accept", today=CHECK_DATE)

    bank.run(CHECK_DATE + DAY)  # nothing changed: the exemptions hold
    assert bank.todo(2, PHONE)["status"] == bank.todo(4, PHONE)["status"] == "exempted"
    assert [e["status"] for e in exemptions(bank)] == ["active", "active"]

    update_record(bank.source, "merchant", key(2), contact_phone="12345678902")  # still wrong, differently
    update_record(bank.source, "merchant", key(4), contact_phone=GOOD_PHONE)  # corrected
    day = CHECK_DATE + 2 * DAY
    summary = bank.run(day)

    reopened = bank.todo(2, PHONE)
    assert (reopened["status"], reopened["reopen_count"], reopened["closed_on"]) == ("open", 1, None)
    assert reopened["masked_value"] == "contact_phone=123****8902"
    assert bank.todo(4, PHONE)["status"] == "fixed"
    assert [(e["todo_id"], e["status"], e["ended_on"]) for e in exemptions(bank)] == [
        (changed, "lapsed", day),
        (fixed, "lapsed", day),
    ]
    assert bank.events(changed)[-1] == ("exemption_lapsed", "system", "exempted", "open")
    assert bank.events(fixed)[-1] == ("fixed", "system", "exempted", "fixed")
    assert (summary.reconcile.reopened, summary.reconcile.fixed) == (1, 1)

    # the new values may be appealed afresh
    file_appeal(bank.store, changed, "M101", "新号码同样为境外号码")


def test_exemptions_on_different_values_both_hold_on_a_rerun(bank: Bank) -> None:
    """Each exemption is compared with its own to-do's finding (reconcile's `holds`), not another's."""
    phone, routable = bank.todo_id(2, PHONE), bank.todo_id(5, ROUTABLE)
    coordinate(bank.store, file_appeal(bank.store, phone, "M101", "误报"), "S101", "accept", today=CHECK_DATE)
    coordinate(
        bank.store, file_appeal(bank.store, routable, "S101", "待分配"), "B001", "accept", today=CHECK_DATE
    )
    bank.run(CHECK_DATE + DAY)
    assert bank.todo(2, PHONE)["status"] == bank.todo(5, ROUTABLE)["status"] == "exempted"
    assert [e["status"] for e in exemptions(bank)] == ["active", "active"]


def test_exemption_expires_after_the_policy_days(
    bank: Bank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text(
        DEFAULT_POLICY.read_text(encoding="utf-8").replace("default_days: 365", "default_days: 2"),
        encoding="utf-8",
    )
    monkeypatch.setenv("DQGOV_POLICY_FILE", str(policy))
    todo_id = bank.todo_id(2, PHONE)
    coordinate(
        bank.store, file_appeal(bank.store, todo_id, "M101", "误报"), "S101", "accept", today=CHECK_DATE
    )
    assert exemptions(bank)[0]["expires_on"] == CHECK_DATE + 2 * DAY

    bank.run(CHECK_DATE + 2 * DAY)  # the last day it holds
    assert bank.todo(2, PHONE)["status"] == "exempted"
    bank.run(CHECK_DATE + 3 * DAY)
    assert bank.todo(2, PHONE)["status"] == "open"
    [exemption] = exemptions(bank)
    assert (exemption["status"], exemption["ended_on"]) == ("expired", CHECK_DATE + 3 * DAY)
    assert bank.events(todo_id)[-1] == ("exemption_lapsed", "system", "exempted", "open")
    # the same values, once the exemption has run out, may be appealed again (a renewal)
    file_appeal(bank.store, todo_id, "M101", "续期：号码仍为境外号码")


def test_an_appeal_cannot_be_accepted_for_values_the_record_no_longer_has(bank: Bank) -> None:
    todo_id = bank.todo_id(2, PHONE)
    appeal_id = file_appeal(bank.store, todo_id, "M101", "误报")
    update_record(bank.source, "merchant", key(2), contact_phone=BAD_PHONE[:-1] + "7")
    recheck_record(
        source_engine(bank.source_url), bank.store, "merchant", key(2), CHECK_DATE
    )  # sees the new values
    before = bank.dump()
    with pytest.raises(InvalidState, match=f"other values of the record since appeal {appeal_id}"):
        coordinate(bank.store, appeal_id, "S101", "accept", today=CHECK_DATE)
    assert bank.dump() == before
    coordinate(bank.store, appeal_id, "S101", "reject", "数值已变化，请重新申诉")
    file_appeal(bank.store, todo_id, "M101", "新号码同样为误报")


def test_appeal_rows_keep_who_and_when(bank: Bank) -> None:
    appeal_id = file_appeal(bank.store, bank.todo_id(2, PHONE), "M101", "误报")
    coordinate(bank.store, appeal_id, "S101", "accept", "核实无误", today=CHECK_DATE)
    with bank.store.connect() as conn:
        appeal = conn.execute(sa.select(Appeal.__table__).where(Appeal.id == appeal_id)).one()
        decision = conn.execute(sa.select(AppealDecision.__table__)).one()
    assert (appeal.appellant, appeal.status, appeal.stage) == ("M101", "accepted", "coordination")
    assert appeal.closed_at is not None and aware(appeal.closed_at) >= aware(appeal.created_at)
    assert (decision.decided_by, decision.decision, decision.stage, decision.note) == (
        "S101",
        "accept",
        "coordination",
        "核实无误",
    )
    assert aware(decision.decided_at) == aware(appeal.closed_at)


def test_two_appeals_filed_at_once_leave_exactly_one_pending(bank: Bank) -> None:
    todo_id = bank.todo_id(2, PHONE)
    start = threading.Barrier(2)

    def attempt(reason: str) -> str:
        start.wait()
        try:
            file_appeal(bank.store, todo_id, "M101", reason)
        except InvalidState as exc:
            return str(exc)
        return "filed"

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(attempt, ["第一次", "第二次"]))
    assert outcomes.count("filed") == 1, outcomes
    [refused] = [o for o in outcomes if o != "filed"]
    # the later one is refused by the pending check or, if it read before the first wrote, by its guarded write
    assert refused.startswith((f"to-do {todo_id} already has appeal", f"to-do {todo_id} changed while"))
    assert [a.status for a in appeal_history(bank.store, todo_id)] == ["pending"]
