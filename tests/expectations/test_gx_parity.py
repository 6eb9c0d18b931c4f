"""The dqgov GX expectations give the same count per rule on SQLite, PostgreSQL and pandas.

One small bank (valid records plus a handful of defects, a G3 routing case per kind of defect and
out-of-scope records) is built on each backend. Per rule, GX on the database, GX on the same records
loaded into pandas and the streaming key extractor must all report the count written down here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from expectations.contract import RECORD_TABLES
from expectations.kinds import KINDS, CheckContext
from expectations.rulebook import Suite, load_suites
from expectations.runner import failing_records, validate_dataframe_with_gx, validate_with_gx
from tests.dbenv import BACKENDS, Databases, source_engine
from tests.factories import CHECK_DATE, STAFF, build_source, customer_row, merchant_row, resident_id, uscc

SUITES = {s.table: s for s in load_suites()}
CTX = CheckContext(CHECK_DATE, active_staff=frozenset(s[0] for s in STAFF if s[4]))

MERCHANTS = [
    *(merchant_row(i) for i in range(1, 6)),
    merchant_row(10, uscc=uscc("91").lower()),
    merchant_row(11, uscc=uscc("91")[:17] + "Z"),
    merchant_row(12, uscc=None),
    merchant_row(13, status=None, uscc=None),  # no status: still in scope
    merchant_row(14, mgr_staff_id="M103"),  # G3: left the bank
    merchant_row(15, mgr_staff_id="X999"),  # G3: unknown
    merchant_row(16, mgr_staff_id=None),  # G3: nobody
    merchant_row(17, legal_rep_id_no=resident_id("36040219851312123")),  # no 13th month
    merchant_row(18, legal_rep_id_type="02", legal_rep_id_no="H1234567"),
    merchant_row(19, mcc="1234", mer_id="102360412340019"),  # not in ISO 18245
    merchant_row(20, mcc="5411"),
    merchant_row(21, contact_phone="12800138000", status="suspended"),
    merchant_row(22, licence_end=None),
    merchant_row(23, licence_end=CHECK_DATE - dt.timedelta(days=1)),
    merchant_row(24, status="frozen"),
    merchant_row(25, mer_type="micro", uscc=None, licence_end=None),  # `when` excludes micro merchants
    merchant_row(26, status="closed", uscc=None, mgr_staff_id="X999", mcc="0000"),  # G1: out of scope
    # G2: control and invisible characters and emoji inside values, G2's findings alone
    merchant_row(27, mer_biz_name="好运来\x1b[1m餐厅"),
    merchant_row(28, legal_rep_name="张\u200b三", bo_name="张\u200b三"),
    merchant_row(29, biz_address="江西省九江市浔阳区庐山路88号😀"),
    merchant_row(30, contact_phone="1380013\r\n8000"),
    merchant_row(
        31,
        mer_reg_name="九江市浔阳区好运来\u2060餐饮有限公司",
        settle_acct_name="九江市浔阳区好运来\u2060餐饮有限公司",
    ),
]
CUSTOMERS = [
    *(customer_row(i) for i in range(1, 4)),
    customer_row(4, uscc=None),
    customer_row(5, legal_rep_id_no="110105194912310021"),
    customer_row(6, contact_phone="0792-81234"),
    customer_row(7, mgr_staff_id="M103"),
    customer_row(8, licence_end=None, legal_rep_id_end=None),
    customer_row(9, status="closed", uscc=None, mgr_staff_id=None),  # G1: out of scope
    customer_row(10, cust_name="九江长江实业有限公司\x07"),
    customer_row(11, business_scope="建筑材料销售☀货物进出口"),
]
# Rules not listed here (new ones, say) must still agree everywhere; their count is not pinned.
EXPECTED = {
    "MER-G1-STATUS": 1,
    "MER-G3-ROUTABLE": 3,
    "MER-E2-USCC-REQUIRED": 2,
    "MER-E2-USCC-FORMAT": 2,
    "MER-E5-LICENCE-END-REQUIRED": 1,
    "MER-E5-LICENCE-EXPIRED": 1,
    "MER-P3-LEGAL-REP-ID-VALID": 2,
    "MER-M1-MCC-KNOWN": 1,
    "MER-M1-MCC-MATCHES-MER-ID": 1,
    "MER-C1-PHONE-FORMAT": 1,
    "MER-C1-PHONE-REQUIRED": 0,
    "CUS-G1-STATUS": 0,
    "CUS-G3-ROUTABLE": 1,
    "CUS-E2-USCC-REQUIRED": 1,
    "CUS-E2-USCC-FORMAT": 0,
    "CUS-E5-LICENCE-END-REQUIRED": 1,
    "CUS-P3-LEGAL-REP-ID-VALID": 1,
    "CUS-P4-LEGAL-REP-ID-END-REQUIRED": 1,
    "CUS-C1-PHONE-FORMAT": 1,
    "MER-G2-BIZ-NAME-TEXT": 1,
    "MER-P1-LEGAL-REP-NAME-TEXT": 1,
    "MER-P1-LEGAL-REP-NAME": 0,
    "MER-P5-BO-NAME-TEXT": 1,
    "MER-M2-BIZ-ADDRESS-TEXT": 1,
    "MER-G2-PHONE-TEXT": 1,
    "MER-E1-REG-NAME-TEXT": 1,
    "MER-G2-SETTLE-ACCT-NAME-TEXT": 1,
    "MER-M6-SETTLE-NAME-CORPORATE": 0,
    "CUS-E1-NAME-TEXT": 1,
    "CUS-E9-SCOPE-TEXT": 1,
}
SOURCES = ("gx_sql", "gx_pandas", "extracted")


def load_frame(engine: sa.Engine, table: str) -> pd.DataFrame:
    """The table as pandas reads it: DATE columns become datetime64, missing values NaN/NaT."""
    contract = RECORD_TABLES[table]
    dates = [c.name for c in contract.c if isinstance(c.type, sa.Date)]
    with engine.connect() as conn:
        return pd.read_sql(sa.select(contract), conn, parse_dates=dates)


def counts_on(url: str) -> dict[str, dict[str, int | None]]:
    """Per source (GX in the database, GX on pandas, the extractor), per rule: failing records."""
    engine = build_source(url, MERCHANTS, CUSTOMERS)
    counts: dict[str, dict[str, int | None]] = {source: {} for source in SOURCES}
    try:
        for suite in SUITES.values():
            for source, gx in (
                ("gx_sql", validate_with_gx(source_engine(url), suite, CTX)),
                ("gx_pandas", validate_dataframe_with_gx(load_frame(engine, suite.table), suite, CTX)),
            ):
                errors = {o.rule_id: o.error for o in gx.outcomes.values() if o.error}
                assert not errors, f"{source}: {errors}"
                counts[source].update({rule_id: o.unexpected for rule_id, o in gx.outcomes.items()})
            extracted = Counter(r.id for rec in failing_records(engine, suite, CTX) for r in rec.rules)
            counts["extracted"].update({rule.id: extracted[rule.id] for rule in suite.rules})
    finally:
        engine.dispose()
    return counts


@pytest.fixture(scope="module")
def counts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, dict[str, int | None]]]]:
    """{backend: {source: {rule id: count}}}, the same bank built on every backend of the `databases` fixture."""
    found: dict[str, dict[str, dict[str, int | None]]] = {}
    for backend in BACKENDS:
        dbs = Databases(backend, tmp_path_factory.mktemp(backend))
        try:
            found[backend] = counts_on(dbs.new("gx_parity"))
        finally:
            dbs.drop_all()
    yield found


def all_rule_ids() -> list[str]:
    return [rule.id for suite in SUITES.values() for rule in suite.rules]


def test_expected_counts_name_existing_rules() -> None:
    assert set(EXPECTED) <= set(all_rule_ids())


@pytest.mark.parametrize("rule_id", all_rule_ids())
def test_same_count_on_sqlite_postgresql_pandas_and_extractor(
    counts: dict[str, dict[str, dict[str, int | None]]], rule_id: str
) -> None:
    seen = {
        f"{backend}/{source}": counts[backend][source].get(rule_id)
        for backend in BACKENDS
        for source in SOURCES
    }
    assert len(set(seen.values())) == 1, seen
    if rule_id in EXPECTED:
        assert set(seen.values()) == {EXPECTED[rule_id]}, seen


def test_pandas_without_active_staff_reports_the_staff_rules_as_errors(sqlite_databases: Databases) -> None:
    url = sqlite_databases.new("no_staff")
    engine = build_source(url, [merchant_row(1)])
    suite = SUITES["merchant"]
    gx = validate_dataframe_with_gx(load_frame(engine, "merchant"), suite, CheckContext(CHECK_DATE))
    staff_rules = {r.id for r in suite.rules if r.kind == "active_staff"}
    assert staff_rules
    assert {o.rule_id for o in gx.outcomes.values() if o.error} == staff_rules
    assert all("active staff" in (gx.outcomes[r].error or "") for r in staff_rules)
    engine.dispose()


def test_every_kind_has_a_registered_expectation_with_its_own_name() -> None:
    from great_expectations.expectations.registry import get_expectation_impl

    from expectations.gx.expectations import EXPECTATION_CLASSES, ExpectRecordsToPassDqgovRule

    assert set(EXPECTATION_CLASSES) == set(KINDS)
    names = {cls.expectation_type for cls in EXPECTATION_CLASSES.values()}
    assert len(names) == len(KINDS)
    for kind, cls in EXPECTATION_CLASSES.items():
        assert issubclass(cls, ExpectRecordsToPassDqgovRule)
        assert cls.check_kind == kind
        assert get_expectation_impl(cls.expectation_type) is cls


def test_expectation_round_trips_through_its_configuration() -> None:
    from expectations.gx.expectations import check_context, expectations_for

    suite: Suite = SUITES["merchant"]
    expectations = expectations_for(suite, CTX, with_active_staff=True)
    assert [e.rule_id for e in expectations] == [r.id for r in suite.rules]
    expectation = next(e for e in expectations if e.rule_id == "MER-P3-LEGAL-REP-ID-VALID")
    assert expectation.column_list[0] == suite.key
    assert {"legal_rep_id_no", "legal_rep_id_type", "status"} <= set(expectation.column_list)
    again = expectation.configuration.to_domain_obj()
    assert type(again) is type(expectation)
    assert again.configuration.kwargs["rule_id"] == "MER-P3-LEGAL-REP-ID-VALID"
    assert again.configuration.kwargs["check_date"] == CHECK_DATE.isoformat()
    assert again.ignore_row_if == "never"
    # the staff list travels by digest, not in the configuration
    assert check_context(again.check_date, again.active_staff_digest) == CTX
    assert "M101" not in str(again.configuration.to_json_dict())


def test_rows_are_never_ignored_for_missing_values() -> None:
    from expectations.gx.expectations import EXPECTATION_CLASSES

    cls = EXPECTATION_CLASSES["required"]
    kwargs: dict[str, Any] = {
        "column_list": ["mer_id", "uscc"],
        "rule_id": "MER-E2-USCC-REQUIRED",
        "rule_table": "merchant",
        "check_date": "2026-11-20",
    }
    assert cls(**kwargs).ignore_row_if == "never"
    with pytest.raises(ValueError, match="never"):
        cls(**kwargs, ignore_row_if="any_value_is_missing")
    with pytest.raises(ValueError):
        cls(**{**kwargs, "check_date": "20.11.2026"})


def test_frame_records_turn_pandas_missing_values_and_timestamps_into_python() -> None:
    from expectations.gx.expectations import frame_records

    frame = pd.DataFrame(
        {
            "mer_id": ["1", "2"],
            "uscc": ["X", np.nan],
            "licence_end": pd.to_datetime(["2030-01-31", None]),
            "updated_at": pd.to_datetime(["2026-11-01 09:00", None]),
            "status": pd.array(["active", pd.NA], dtype="string"),
        }
    )
    assert frame_records(frame, "merchant") == [
        {
            "mer_id": "1",
            "uscc": "X",
            "licence_end": dt.date(2030, 1, 31),
            "updated_at": dt.datetime(2026, 11, 1, 9, 0),
            "status": "active",
        },
        {"mer_id": "2", "uscc": None, "licence_end": None, "updated_at": None, "status": None},
    ]
    assert type(frame_records(frame, "merchant")[0]["licence_end"]) is dt.date


def test_a_kind_without_a_name_of_its_own_gets_one_from_its_kind() -> None:
    from expectations.gx.expectations import _class_name

    assert _class_name("uscc") == "ExpectColumnValuesToBeValidUscc"
    assert _class_name("settle_acct_luhn") == "ExpectRecordsToPassSettleAcctLuhnCheck"
