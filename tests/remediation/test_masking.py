"""Natural persons' names are masked (surname + `*`) wherever the platform shows or stores them.

A micro merchant's registered name is its operator's name and a personal settlement account's holder is
a person (JR/T 0171); a company's name stays in full. The record's own type columns decide.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from expectations import checks
from expectations.rulebook import load_suites
from remediation.checks.corrections import submit_correction
from remediation.checks.pipeline import run_suite
from remediation.checks.writeback import SourceRowUpdate
from remediation.masking import is_person_name, mask_value, masked_summary
from remediation.notify.reminders import remind
from remediation.policy import current_policy
from remediation.reporting.export import export_findings
from remediation.store.engines import create_engine, open_store
from remediation.store.models import Todo
from remediation.store.workflow_models import Correction, OutboxMessage
from remediation.workdays import WorkdayCalendar
from tests.dbenv import Databases, source_engine
from tests.factories import CHECK_DATE, build_source, merchant_row

COMPANY = "九江市浔阳区好运来餐饮有限公司"
CARD = "622202123456789012"
MERCHANT = next(s for s in load_suites() if s.table == "merchant")


def personal_card() -> str:
    return CARD + checks.luhn_check_digit(CARD)


def micro(seq: int, name: str, **overrides: object) -> dict[str, object]:
    """A micro merchant (自然人): no licence; its registered name and account holder are the operator."""
    values: dict[str, object] = dict(
        mer_type="micro",
        uscc=None,
        licence_end=None,
        reg_address=None,
        business_scope=None,
        mer_reg_name=name,
        legal_rep_name=name,
        bo_name=None,
        bo_id_type=None,
        bo_id_no=None,
        bo_id_end=None,
        settle_acct_type="personal",
        settle_acct_no=personal_card(),
        settle_acct_name=name,
    )
    values.update(overrides)
    return merchant_row(seq, **values)


CLEAR = ("欧阳小明", "王小红", "李四四")


@pytest.fixture
def checked(databases: Databases) -> tuple[str, sa.Engine]:
    source_url = databases.new("source")
    merchants = [
        micro(1, "欧阳小明 "),  # padded: G2 to-do on mer_reg_name, legal_rep_name, settle_acct_name
        micro(2, "王小红", settle_acct_name="王小红 "),  # G2 on the personal account's holder
        merchant_row(  # an individual business paid to a personal account whose holder is not the operator (M6)
            3,
            mer_type="individual",
            settle_acct_type="personal",
            settle_acct_no=personal_card(),
            settle_acct_name="李四四",
            legal_rep_name="李四",
        ),
        merchant_row(4, mer_reg_name=COMPANY + " ", settle_acct_name=COMPANY + " "),  # a company: in full
    ]
    build_source(source_url, merchants).dispose()
    store = open_store(databases.new("store"))
    run_suite(source_engine(source_url), store, MERCHANT, CHECK_DATE)
    return source_url, store


def masked_values(store: sa.Engine) -> dict[tuple[str, str], str]:
    with store.connect() as conn:
        rows = conn.execute(sa.select(Todo.record_key, Todo.rule_id, Todo.masked_value)).all()
    return {(r.record_key, r.rule_id): r.masked_value or "" for r in rows}


def test_names_of_persons_are_masked_in_todos_digests_and_the_export(
    checked: tuple[str, sa.Engine], tmp_path: Path
) -> None:
    _, store = checked
    values = masked_values(store)
    text = "\n".join(values.values())
    assert not any(name in text for name in CLEAR)
    assert "mer_reg_name=欧*" in text and "settle_acct_name=王*" in text and "settle_acct_name=李*" in text
    company = [v for (k, _), v in values.items() if k == merchant_row(4)["mer_id"] and "mer_reg_name=" in v]
    assert company and all(f"mer_reg_name={COMPANY} " in v for v in company)  # not a person: in full

    out = tmp_path / "findings.csv"
    export_findings(store, out)
    exported = out.read_text(encoding="utf-8-sig")
    assert "欧*" in exported and not any(name in exported for name in CLEAR)

    remind(store, CHECK_DATE, current_policy(), WorkdayCalendar(), ["inbox"], "http://dq.example")
    with store.connect() as conn:
        bodies = "\n".join(conn.scalars(sa.select(OutboxMessage.body)))
    assert "欧*" in bodies and not any(name in bodies for name in CLEAR)


def test_a_correction_trail_holds_a_persons_name_masked(checked: tuple[str, sa.Engine]) -> None:
    source_url, store = checked
    with store.connect() as conn:
        todo_id = conn.scalar(
            sa.select(Todo.id).where(
                Todo.record_key == merchant_row(2)["mer_id"],
                Todo.columns == "settle_acct_name",
                Todo.rule_id.like("%G2%"),
            )
        )
    assert todo_id is not None
    outcome = submit_correction(
        store,
        source_engine(source_url),
        todo_id,
        "M101",
        {"settle_acct_name": "王小红"},
        SourceRowUpdate(create_engine(source_url, "source")),
        check_date=CHECK_DATE,
    )
    assert outcome.status == "verified"
    with store.connect() as conn:
        changes = conn.scalar(sa.select(Correction.changes).where(Correction.todo_id == todo_id))
    assert json.loads(changes or "{}") == {"settle_acct_name": "王*"}


def test_the_records_own_types_decide_and_an_unknown_type_is_masked() -> None:
    enterprise = {"mer_type": "enterprise", "settle_acct_type": "corporate"}
    assert not is_person_name("mer_reg_name", enterprise) and not is_person_name(
        "settle_acct_name", enterprise
    )
    assert is_person_name("mer_reg_name", {"mer_type": "micro"})
    assert is_person_name("settle_acct_name", {"mer_type": "individual", "settle_acct_type": "personal"})
    assert is_person_name("settle_acct_name", {"mer_type": "micro", "settle_acct_type": "corporate"})
    assert is_person_name("mer_reg_name", {}) and is_person_name("mer_reg_name", {"mer_type": " enterprise"})
    assert is_person_name("legal_rep_name", enterprise) and not is_person_name("cust_name", {})
    assert mask_value("mer_reg_name", "张三丰", {"mer_type": "micro"}) == "张*"
    assert mask_value("settle_acct_no", "1502208009300012345", enterprise) == "***************2345"
    assert masked_summary(("mer_reg_name", "mer_type"), {"mer_reg_name": "张三", "mer_type": "micro"}) == (
        "mer_reg_name=张*; mer_type=micro"
    )


def test_masking_keeps_the_defect_in_its_place_and_hides_the_digits() -> None:
    from remediation.masking import mask_value, odd_positions

    assert mask_value("contact_phone", "157O4372075") == "157O***2075"  # a letter at position 4
    assert mask_value("contact_phone", "138 0013 8000") == "138 **** 8000"  # the blanks are the defect
    assert mask_value("contact_phone", "13800138000") == "138****8000"
    assert odd_positions("contact_phone", {"contact_phone": "157O4372075"}) == [(4, "O")]
    resident = {"legal_rep_id_no": "36040219850612123X", "legal_rep_id_type": "01"}
    assert odd_positions("legal_rep_id_no", resident) == []  # the check character X is no defect
    assert odd_positions("legal_rep_id_no", {**resident, "legal_rep_id_no": "3604021985O612123X"}) == [
        (11, "O")
    ]
    assert odd_positions("legal_rep_id_no", {"legal_rep_id_no": "H1234567", "legal_rep_id_type": "02"}) == []
    assert odd_positions("mer_biz_name", {"mer_biz_name": "abc"}) == []
