"""The rule files: every rule cites the standard, each fails exactly on its defect, SQL and Python agree."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.compiler import python_failures
from expectations.kinds import CheckContext
from expectations.rulebook import RuleFileError, Suite, clauses_covered, load_suite, load_suites
from expectations.runner import failing_records
from tests.factories import CHECK_DATE, STAFF, build_source, customer_row, merchant_row, resident_id, uscc

SUITES = {s.table: s for s in load_suites()}
CTX = CheckContext(CHECK_DATE, active_staff=frozenset(s[0] for s in STAFF if s[4]))
SKELETON_CLAUSES = {"G1", "G3", "E2", "E5", "P3", "P4", "M1", "C1"}

# (table, overrides, rule ids that must fail: nothing else may)
DEFECTS: list[tuple[str, dict[str, Any], set[str]]] = [
    ("merchant", {"status": "frozen"}, {"MER-G1-STATUS"}),
    ("merchant", {"mgr_staff_id": "M103"}, {"MER-G3-ROUTABLE"}),
    ("merchant", {"mgr_staff_id": "X999"}, {"MER-G3-ROUTABLE"}),
    ("merchant", {"uscc": None}, {"MER-E2-USCC-REQUIRED"}),
    ("merchant", {"uscc": "  "}, {"MER-E2-USCC-REQUIRED"}),
    ("merchant", {"uscc": uscc("91").lower()}, {"MER-E2-USCC-FORMAT"}),
    ("merchant", {"uscc": uscc("91")[:17] + "Z"}, {"MER-E2-USCC-FORMAT"}),
    ("merchant", {"licence_end": None}, {"MER-E5-LICENCE-END-REQUIRED"}),
    ("merchant", {"licence_end": CHECK_DATE - dt.timedelta(days=1)}, {"MER-E5-LICENCE-EXPIRED"}),
    ("merchant", {"legal_rep_id_no": None}, {"MER-P3-LEGAL-REP-ID-REQUIRED"}),
    ("merchant", {"legal_rep_id_no": resident_id()[:17] + "0"}, {"MER-P3-LEGAL-REP-ID-VALID"}),
    ("merchant", {"legal_rep_id_no": resident_id("36040219851312123")}, {"MER-P3-LEGAL-REP-ID-VALID"}),
    ("merchant", {"legal_rep_id_type": "02", "legal_rep_id_no": "H1234567"}, {"MER-P3-LEGAL-REP-ID-VALID"}),
    ("merchant", {"legal_rep_id_type": "07"}, {"MER-P3-LEGAL-REP-ID-VALID"}),
    ("merchant", {"legal_rep_id_end": None}, {"MER-P4-LEGAL-REP-ID-END-REQUIRED"}),
    ("merchant", {"legal_rep_id_end": dt.date(2020, 1, 1)}, {"MER-P4-LEGAL-REP-ID-EXPIRED"}),
    ("merchant", {"mcc": "0000", "mer_id": "102360400000001"}, {"MER-M1-MCC-KNOWN"}),
    ("merchant", {"mcc": "5411"}, {"MER-M1-MCC-MATCHES-MER-ID"}),
    ("merchant", {"contact_phone": ""}, {"MER-C1-PHONE-REQUIRED"}),
    ("merchant", {"contact_phone": "12800138000"}, {"MER-C1-PHONE-FORMAT"}),
    ("merchant", {"contact_phone": "1380013800a"}, {"MER-C1-PHONE-FORMAT"}),
    ("customer_org", {"uscc": None}, {"CUS-E2-USCC-REQUIRED"}),
    ("customer_org", {"licence_end": None}, {"CUS-E5-LICENCE-END-REQUIRED"}),
    ("customer_org", {"legal_rep_id_no": "110105194912310021"}, {"CUS-P3-LEGAL-REP-ID-VALID"}),
    (
        "customer_org",
        {"legal_rep_id_end": CHECK_DATE - dt.timedelta(days=1)},
        {"CUS-P4-LEGAL-REP-ID-EXPIRED"},
    ),
    ("customer_org", {"contact_phone": "0792-81234"}, {"CUS-C1-PHONE-FORMAT"}),
    ("customer_org", {"status": "closed", "uscc": None}, set()),  # G1: out of scope
]

# valid values the standard allows, which must never raise a to-do
UNUSUAL: list[tuple[str, dict[str, Any]]] = [
    ("merchant", {"legal_rep_id_no": resident_id("11010519491231002")}),  # check digit X
    ("merchant", {"legal_rep_id_type": "04", "legal_rep_id_no": resident_id("81000019900101123")}),
    ("merchant", {"legal_rep_id_type": "05", "legal_rep_id_no": resident_id("93615619880808001")}),
    ("merchant", {"legal_rep_id_type": "05", "legal_rep_id_no": "USA123456789012"}),
    ("merchant", {"legal_rep_id_type": "02", "legal_rep_id_no": "M1234567890"}),
    ("merchant", {"legal_rep_id_type": "03", "legal_rep_id_no": "12345678"}),
    ("merchant", {"legal_rep_id_type": "06", "legal_rep_id_no": "E12345678"}),
    ("merchant", {"legal_rep_id_end": dt.date(9999, 12, 31), "licence_end": dt.date(9999, 12, 31)}),
    ("merchant", {"licence_end": CHECK_DATE}),  # expires today: still valid on the check date
    ("merchant", {"mer_type": "micro", "uscc": None, "licence_end": None}),
    ("merchant", {"mer_type": "individual", "uscc": uscc("92")}),
    ("merchant", {"status": "suspended"}),
    ("merchant", {"contact_phone": "07928123456"}),
    ("merchant", {"contact_phone": "010-12345678"}),
    ("merchant", {"legal_rep_name": "阿卜杜拉·买买提"}),
    ("customer_org", {"entity_type": "rural_collective", "uscc": uscc("N2")}),
    ("customer_org", {"status": "dormant"}),
]


def record(table: str, seq: int, overrides: dict[str, Any]) -> dict[str, Any]:
    return (merchant_row if table == "merchant" else customer_row)(seq, **overrides)


def failures_in_sql(url: str, rows: dict[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    build_source(url, rows["merchant"], rows["customer_org"])
    engine = sa.create_engine(url)
    failed: dict[str, set[str]] = {}
    for suite in SUITES.values():
        for rec in failing_records(engine, suite, CTX):
            failed[rec.record_key] = {r.id for r in rec.rules}
    engine.dispose()
    return failed


def failures_in_python(suite: Suite, row: dict[str, Any]) -> set[str]:
    return python_failures(suite, [row], CTX)[0]


def test_each_defect_fails_exactly_its_rule_in_sql_and_python(databases: Any) -> None:
    rows: dict[str, list[dict[str, Any]]] = {"merchant": [], "customer_org": []}
    expected: dict[str, set[str]] = {}
    cases = (
        [(t, o, e) for t, o, e in DEFECTS] + [(t, o, set()) for t, o in UNUSUAL] + [("merchant", {}, set())]
    )
    for seq, (table, overrides, rule_ids) in enumerate(cases, start=1):
        row = record(table, seq, overrides)
        rows[table].append(row)
        key = row["mer_id"] if table == "merchant" else row["cust_no"]
        expected[key] = rule_ids
        assert failures_in_python(SUITES[table], row) == rule_ids, (table, overrides)
    failed = failures_in_sql(databases.new("source"), rows)
    assert {k: failed.get(k, set()) for k in expected} == expected


def test_every_rule_cites_a_clause_and_the_skeleton_clauses_are_covered() -> None:
    suites = list(SUITES.values())
    assert clauses_covered(suites) >= SKELETON_CLAUSES
    for suite in suites:
        for rule in suite.rules:
            assert rule.clauses and rule.description and rule.hint and rule.regulation
            assert rule.id.startswith({"merchant": "MER-", "customer_org": "CUS-"}[suite.table])


def test_every_rule_has_a_defect_case() -> None:
    """A customer rule may lean on its merchant twin's case: they compile from the same kind."""
    covered = {rule_id for _, _, ids in DEFECTS for rule_id in ids}
    missing = {r.id for s in SUITES.values() for r in s.rules} - covered
    assert all(m.startswith("CUS-") and m.replace("CUS-", "MER-", 1) in covered for m in missing), missing


BAD_FILES = [
    ("table: merchant\nrules: []\n", "merchant.yml: rules: must be a non-empty list"),
    ("table: nope\nrules: [{}]\n", "merchant.yml: table: must be one of merchant, customer_org, got 'nope'"),
    ("table: merchant\nrules: [{id: MER-X-1, clause: Z9}]\n", "rule MER-X-1: clause 'Z9' is not a clause"),
    (
        "table: merchant\nrules: [{id: MER-X-1, clause: E2, columns: [usc]}]\n",
        "rule MER-X-1: column 'usc' is not a column of source table merchant",
    ),
    (
        "table: merchant\nrules: [{id: MER-X-1, clause: E2, columns: [uscc], check: magic}]\n",
        "rule MER-X-1: 'check' must be one of",
    ),
    ("table: merchant\nrules: [oops\n", "merchant.yml: not valid YAML"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_rule_file_names_file_rule_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "merchant.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as raised:
        load_suite(path)
    assert message in str(raised.value)
