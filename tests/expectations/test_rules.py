"""The rule files: every rule cites the standard, each fails exactly on its defect, SQL and Python agree."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from expectations.compiler import python_failures
from expectations.kinds import KINDS, CheckContext
from expectations.rulebook import CLAUSE_IDS, RuleFileError, clauses_covered, load_suite, load_suites
from expectations.runner import failing_records
from tests.factories import CHECK_DATE, STAFF, build_source, customer_row, merchant_row, resident_id, uscc

SUITES = {s.table: s for s in load_suites()}
CTX = CheckContext(CHECK_DATE, active_staff=frozenset(s[0] for s in STAFF if s[4]))
MERCHANT_ONLY = {"M1", "M2", "M3", "M4", "M5", "M6"}
CUSTOMER_ONLY = {"E4", "E6", "E7"}

CARD_19 = "6222021234567890128"  # Luhn-valid
CARD_16 = "6222021234567894"
NO_BO: dict[str, Any] = {"bo_name": None, "bo_id_type": None, "bo_id_no": None, "bo_id_end": None}
MICRO: dict[str, Any] = {
    "mer_type": "micro",
    "mer_reg_name": "张三",
    "uscc": None,
    "licence_end": None,
    "reg_address": None,
    "business_scope": None,
    **NO_BO,
    "settle_acct_type": "personal",
    "settle_acct_no": CARD_19,
    "settle_acct_name": "张三",
}
INDIVIDUAL: dict[str, Any] = {"mer_type": "individual", "uscc": uscc("92"), **NO_BO}
PERSONAL: dict[str, Any] = {
    "settle_acct_type": "personal",
    "settle_acct_no": CARD_19,
    "settle_acct_name": "张三",
}
_bodies = itertools.count(1)


def org(prefix: str) -> str:
    """A valid USCC with `prefix`, unique among the test's customers (clause E4)."""
    return uscc(prefix, f"360402MB{next(_bodies):06d}0")


def wrong_check(code: str) -> str:
    return code[:17] + ("1" if code[17] == "0" else "0")


SHARED = org("91")  # two active customers: a duplicate
SHARED_PADDED = org("91")  # the same, once with a trailing blank
SHARED_WITH_CLOSED = org("91")  # an active and a closed customer: allowed

# (table, overrides, rule ids that must fail: nothing else may)
DEFECTS: list[tuple[str, dict[str, Any], set[str]]] = [
    # G1 G2 G3
    ("merchant", {"status": "frozen"}, {"MER-G1-STATUS"}),
    ("merchant", {"mer_biz_name": "无"}, {"MER-G2-BIZ-NAME-TEXT"}),
    ("merchant", {"mer_biz_name": "TEST"}, {"MER-G2-BIZ-NAME-TEXT"}),
    ("merchant", {"mer_biz_name": "好运来餐厅\u3000"}, {"MER-G2-BIZ-NAME-TEXT"}),
    ("merchant", {"mer_biz_name": "\u200b好运来餐厅"}, {"MER-G2-BIZ-NAME-TEXT"}),
    ("merchant", {"mer_biz_name": "ＡＢＣ超市"}, {"MER-G2-BIZ-NAME-TEXT"}),
    ("merchant", {"mer_biz_name": "？"}, {"MER-G2-BIZ-NAME-TEXT"}),
    ("merchant", {"uscc": uscc("91") + " "}, {"MER-G2-USCC-TEXT"}),  # padding only: no E2 as well
    ("merchant", {"uscc": "0" * 18}, {"MER-G2-USCC-TEXT"}),  # passes the check character
    ("merchant", {"uscc": " " + uscc("91")[:17] + "Z"}, {"MER-G2-USCC-TEXT", "MER-E2-USCC-FORMAT"}),
    ("merchant", {"legal_rep_id_no": resident_id() + "\t"}, {"MER-G2-LEGAL-REP-ID-NO-TEXT"}),
    ("merchant", {"bo_id_no": "***"}, {"MER-G2-BO-ID-NO-TEXT"}),
    ("merchant", {"biz_area_code": "３６０４０３"}, {"MER-G2-AREA-CODE-TEXT"}),
    ("merchant", {"mcc": "0000", "mer_id": "102360400000001"}, {"MER-G2-MCC-TEXT"}),
    ("merchant", {"settle_acct_no": "1111111111"}, {"MER-G2-SETTLE-ACCT-NO-TEXT"}),
    ("merchant", {"settle_acct_name": "九江市浔阳区好运来餐饮有限公司 "}, {"MER-G2-SETTLE-ACCT-NAME-TEXT"}),
    ("merchant", {"contact_phone": "00000000000"}, {"MER-G2-PHONE-TEXT"}),  # shaped like a landline
    ("merchant", {"contact_phone": "１３８00138000"}, {"MER-G2-PHONE-TEXT"}),
    ("merchant", {"contact_phone": "-"}, {"MER-G2-PHONE-TEXT"}),
    ("merchant", {"mgr_staff_id": "M103"}, {"MER-G3-ROUTABLE"}),
    ("merchant", {"mgr_staff_id": "X999"}, {"MER-G3-ROUTABLE"}),
    ("merchant", {"mgr_staff_id": None}, {"MER-G3-ROUTABLE"}),
    # E1
    ("merchant", {"mer_reg_name": None}, {"MER-E1-REG-NAME-REQUIRED"}),
    ("merchant", {"mer_reg_name": "\u3000"}, {"MER-E1-REG-NAME-REQUIRED"}),
    ("merchant", {"mer_reg_name": "不详"}, {"MER-E1-REG-NAME-TEXT"}),
    ("merchant", {"mer_reg_name": " 九江市浔阳区好运来餐饮有限公司"}, {"MER-E1-REG-NAME-TEXT"}),
    ("merchant", {"mer_reg_name": "鑫", "settle_acct_name": "鑫"}, {"MER-E1-REG-NAME-LENGTH"}),
    # E2 E3
    ("merchant", {"uscc": None}, {"MER-E2-USCC-REQUIRED"}),
    ("merchant", {"uscc": "  "}, {"MER-E2-USCC-REQUIRED"}),
    ("merchant", {**INDIVIDUAL, "uscc": None}, {"MER-E2-USCC-REQUIRED"}),
    ("merchant", {"uscc": uscc("91").lower()}, {"MER-E2-USCC-FORMAT"}),
    ("merchant", {"uscc": uscc("91")[:17] + "Z"}, {"MER-E2-USCC-FORMAT"}),
    ("merchant", {"uscc": uscc("91")[:17]}, {"MER-E2-USCC-FORMAT"}),
    ("merchant", {"mer_type": None}, {"MER-E3-MER-TYPE-REQUIRED"}),
    ("merchant", {"mer_type": "企业"}, {"MER-E3-MER-TYPE"}),
    ("merchant", {"mer_type": "enterprise "}, {"MER-E3-MER-TYPE"}),
    ("merchant", {"uscc": uscc("92")}, {"MER-E3-USCC-PREFIX"}),
    ("merchant", {**INDIVIDUAL, "uscc": uscc("91")}, {"MER-E3-USCC-PREFIX"}),
    (
        "merchant",
        {**INDIVIDUAL, "uscc": wrong_check(uscc("93"))},
        {"MER-E2-USCC-FORMAT", "MER-E3-USCC-PREFIX"},
    ),
    # E5
    ("merchant", {"licence_end": None}, {"MER-E5-LICENCE-END-REQUIRED"}),
    ("merchant", {"licence_end": CHECK_DATE - dt.timedelta(days=1)}, {"MER-E5-LICENCE-EXPIRED"}),
    ("merchant", {**MICRO, "licence_end": dt.date(2020, 1, 1)}, {"MER-E5-LICENCE-EXPIRED"}),
    # E8 E9
    ("merchant", {"reg_address": None}, {"MER-E8-REG-ADDRESS-REQUIRED"}),
    ("merchant", {"reg_address": "不详"}, {"MER-E8-REG-ADDRESS-TEXT"}),
    ("merchant", {"reg_address": "江西省九江市浔阳区庐山路８８号"}, {"MER-E8-REG-ADDRESS-TEXT"}),
    ("merchant", {"reg_address": "江西省九江市"}, {"MER-E8-REG-ADDRESS-LENGTH"}),
    ("merchant", {"reg_address": "九江市浔阳区庐山路88号"}, {"MER-E8-REG-ADDRESS-PROVINCE"}),
    ("merchant", {"reg_address": "江西九江市浔阳区庐山路88号"}, {"MER-E8-REG-ADDRESS-PROVINCE"}),
    ("merchant", {"reg_address": "浔阳区"}, {"MER-E8-REG-ADDRESS-LENGTH", "MER-E8-REG-ADDRESS-PROVINCE"}),
    ("merchant", {**MICRO, "reg_address": "九江市浔阳区庐山路88号"}, {"MER-E8-REG-ADDRESS-PROVINCE"}),
    ("merchant", {"business_scope": None}, {"MER-E9-SCOPE-REQUIRED"}),
    ("merchant", {"business_scope": "测试"}, {"MER-E9-SCOPE-TEXT"}),
    ("merchant", {"business_scope": "餐饮"}, {"MER-E9-SCOPE-LENGTH"}),
    # P1-P4
    ("merchant", {"legal_rep_name": None}, {"MER-P1-LEGAL-REP-NAME-REQUIRED"}),
    ("merchant", {"legal_rep_name": "张　三"}, {"MER-P1-LEGAL-REP-NAME-TEXT"}),  # full-width space
    ("merchant", {"legal_rep_name": "王王"}, {"MER-P1-LEGAL-REP-NAME-TEXT"}),
    ("merchant", {"legal_rep_name": "张三1"}, {"MER-P1-LEGAL-REP-NAME"}),
    ("merchant", {"legal_rep_name": "张三(经办人)"}, {"MER-P1-LEGAL-REP-NAME"}),
    ("merchant", {"legal_rep_name": "阿卜杜拉•买买提"}, {"MER-P1-LEGAL-REP-NAME"}),  # U+2022, not U+00B7
    ("merchant", {"legal_rep_name": "张"}, {"MER-P1-LEGAL-REP-NAME"}),
    ("merchant", {"legal_rep_name": "A" + "B" * 30}, {"MER-P1-LEGAL-REP-NAME"}),
    ("merchant", {"legal_rep_id_type": None}, {"MER-P2-LEGAL-REP-ID-TYPE-REQUIRED"}),
    ("merchant", {"legal_rep_id_type": "07"}, {"MER-P2-LEGAL-REP-ID-TYPE"}),
    ("merchant", {"legal_rep_id_type": "1"}, {"MER-P2-LEGAL-REP-ID-TYPE"}),
    ("merchant", {"legal_rep_id_no": None}, {"MER-P3-LEGAL-REP-ID-REQUIRED"}),
    ("merchant", {"legal_rep_id_no": resident_id()[:17] + "0"}, {"MER-P3-LEGAL-REP-ID-VALID"}),
    ("merchant", {"legal_rep_id_no": resident_id("36040219851312123")}, {"MER-P3-LEGAL-REP-ID-VALID"}),
    (
        "merchant",
        {"legal_rep_id_no": resident_id("11010519491231002")[:17] + "x"},
        {"MER-P3-LEGAL-REP-ID-VALID"},
    ),
    ("merchant", {"legal_rep_id_type": "02", "legal_rep_id_no": "H1234567"}, {"MER-P3-LEGAL-REP-ID-VALID"}),
    (
        "merchant",
        {"legal_rep_id_type": "04", "legal_rep_id_no": resident_id()},
        {"MER-P3-LEGAL-REP-ID-VALID"},
    ),
    ("merchant", {"legal_rep_id_end": None}, {"MER-P4-LEGAL-REP-ID-END-REQUIRED"}),
    ("merchant", {"legal_rep_id_end": dt.date(2020, 1, 1)}, {"MER-P4-LEGAL-REP-ID-EXPIRED"}),
    # P5
    ("merchant", NO_BO, {"MER-P5-BO-REQUIRED"}),
    ("merchant", {"bo_id_end": None}, {"MER-P5-BO-REQUIRED"}),
    ("merchant", {**INDIVIDUAL, "bo_name": "李四"}, {"MER-P5-BO-ALL-OR-NONE"}),
    ("merchant", {**MICRO, "bo_name": "李四", "bo_id_type": "01"}, {"MER-P5-BO-ALL-OR-NONE"}),
    ("merchant", {"bo_name": " 李四"}, {"MER-P5-BO-NAME-TEXT"}),
    ("merchant", {"bo_name": "李四5"}, {"MER-P5-BO-NAME"}),
    ("merchant", {"bo_id_type": "99"}, {"MER-P5-BO-ID-TYPE"}),
    ("merchant", {"bo_id_no": resident_id()[:17] + "0"}, {"MER-P5-BO-ID-VALID"}),
    ("merchant", {"bo_id_end": CHECK_DATE - dt.timedelta(days=1)}, {"MER-P5-BO-ID-EXPIRED"}),
    # M1-M6
    ("merchant", {"mcc": None}, {"MER-M1-MCC-REQUIRED"}),
    ("merchant", {"mcc": "1234", "mer_id": "102360412340001"}, {"MER-M1-MCC-KNOWN"}),
    ("merchant", {"mcc": "5411"}, {"MER-M1-MCC-MATCHES-MER-ID"}),
    ("merchant", {"biz_address": None}, {"MER-M2-BIZ-ADDRESS-REQUIRED"}),
    ("merchant", {"biz_address": "无"}, {"MER-M2-BIZ-ADDRESS-TEXT"}),
    ("merchant", {"biz_address": "北京市朝阳区"}, {"MER-M2-BIZ-ADDRESS-LENGTH"}),
    ("merchant", {"biz_address": "浔阳区庐山路88号好运来餐厅"}, {"MER-M2-BIZ-ADDRESS-PROVINCE"}),
    ("merchant", {"biz_area_code": None}, {"MER-M3-AREA-CODE-REQUIRED"}),
    ("merchant", {"biz_area_code": "360421"}, {"MER-M3-AREA-CODE-CURRENT"}),  # 九江县, abolished 2017
    ("merchant", {"biz_area_code": "360400"}, {"MER-M3-AREA-CODE-CURRENT"}),  # 九江市: a city
    ("merchant", {"biz_area_code": "360101"}, {"MER-M3-AREA-CODE-CURRENT"}),  # 市辖区
    ("merchant", {"biz_area_code": "36040"}, {"MER-M3-AREA-CODE-CURRENT"}),
    ("merchant", {"settle_acct_type": None}, {"MER-M4-SETTLE-TYPE-REQUIRED"}),
    ("merchant", {"settle_acct_type": "对公"}, {"MER-M4-SETTLE-TYPE"}),
    ("merchant", PERSONAL, {"MER-M4-SETTLE-TYPE"}),  # an enterprise settling to a card
    (
        "merchant",
        {**MICRO, "settle_acct_type": "corporate", "settle_acct_no": "36020123456789"},
        {"MER-M4-SETTLE-TYPE"},
    ),
    ("merchant", {"settle_acct_no": None}, {"MER-M5-SETTLE-ACCT-NO-REQUIRED"}),
    ("merchant", {"settle_acct_no": "150220800"}, {"MER-M5-SETTLE-ACCT-NO"}),
    ("merchant", {"settle_acct_no": "1" + "0" * 25}, {"MER-M5-SETTLE-ACCT-NO"}),
    ("merchant", {"settle_acct_no": "1502-2080093000"}, {"MER-M5-SETTLE-ACCT-NO"}),
    ("merchant", {**MICRO, "settle_acct_no": CARD_19[:-1] + "7"}, {"MER-M5-SETTLE-ACCT-NO"}),
    ("merchant", {**MICRO, "settle_acct_no": "622202123456789"}, {"MER-M5-SETTLE-ACCT-NO"}),
    ("merchant", {**MICRO, "settle_acct_no": "622202 1234567890128"}, {"MER-M5-SETTLE-ACCT-NO"}),
    ("merchant", {"settle_acct_name": None}, {"MER-M6-SETTLE-ACCT-NAME-REQUIRED"}),
    ("merchant", {"settle_acct_name": "好运来餐厅"}, {"MER-M6-SETTLE-NAME-CORPORATE"}),
    ("merchant", {**MICRO, "settle_acct_name": "李四"}, {"MER-M6-SETTLE-NAME-PERSONAL"}),
    ("merchant", {**INDIVIDUAL, **PERSONAL, "settle_acct_name": "张三丰"}, {"MER-M6-SETTLE-NAME-PERSONAL"}),
    # C1
    ("merchant", {"contact_phone": ""}, {"MER-C1-PHONE-REQUIRED"}),
    ("merchant", {"contact_phone": "12800138000"}, {"MER-C1-PHONE-FORMAT"}),
    ("merchant", {"contact_phone": "1380013800a"}, {"MER-C1-PHONE-FORMAT"}),
    ("merchant", {"contact_phone": "+8613800138000"}, {"MER-C1-PHONE-FORMAT"}),
    ("merchant", {"contact_phone": "138 0013 8000"}, {"MER-C1-PHONE-FORMAT"}),
    # customers
    ("customer_org", {"status": "frozen"}, {"CUS-G1-STATUS"}),
    ("customer_org", {"uscc": org("91") + "\u3000"}, {"CUS-G2-USCC-TEXT"}),
    ("customer_org", {"legal_rep_id_no": "null"}, {"CUS-G2-LEGAL-REP-ID-NO-TEXT"}),
    ("customer_org", {"bo_id_no": "?"}, {"CUS-G2-BO-ID-NO-TEXT"}),
    ("customer_org", {"contact_phone": "NULL"}, {"CUS-G2-PHONE-TEXT"}),
    ("customer_org", {"mgr_staff_id": "M103"}, {"CUS-G3-ROUTABLE"}),
    ("customer_org", {"cust_name": None}, {"CUS-E1-NAME-REQUIRED"}),
    ("customer_org", {"cust_name": "测试"}, {"CUS-E1-NAME-TEXT"}),
    ("customer_org", {"cust_name": "A"}, {"CUS-E1-NAME-LENGTH"}),
    ("customer_org", {"uscc": None}, {"CUS-E2-USCC-REQUIRED"}),
    ("customer_org", {"uscc": org("91")[:17] + "I"}, {"CUS-E2-USCC-FORMAT"}),
    ("customer_org", {"entity_type": None}, {"CUS-E3-ENTITY-TYPE-REQUIRED"}),
    ("customer_org", {"entity_type": "company"}, {"CUS-E3-ENTITY-TYPE"}),
    ("customer_org", {"entity_type": "cooperative", "uscc": org("91")}, {"CUS-E3-USCC-PREFIX"}),
    ("customer_org", {"entity_type": "social_org", "uscc": org("12")}, {"CUS-E3-USCC-PREFIX"}),
    ("customer_org", {"entity_type": "rural_collective", "uscc": org("93")}, {"CUS-E3-USCC-PREFIX"}),
    ("customer_org", {"entity_type": "rural_collective", "uscc": org("NA")}, {"CUS-E3-USCC-PREFIX"}),
    ("customer_org", {"entity_type": "rural_collective", "uscc": org("N2").lower()}, {"CUS-E2-USCC-FORMAT"}),
    ("customer_org", {"uscc": SHARED}, {"CUS-E4-USCC-UNIQUE"}),
    ("customer_org", {"uscc": SHARED}, {"CUS-E4-USCC-UNIQUE"}),
    ("customer_org", {"uscc": SHARED_PADDED}, {"CUS-E4-USCC-UNIQUE"}),
    ("customer_org", {"uscc": SHARED_PADDED + " "}, {"CUS-E4-USCC-UNIQUE", "CUS-G2-USCC-TEXT"}),
    ("customer_org", {"licence_end": None}, {"CUS-E5-LICENCE-END-REQUIRED"}),
    ("customer_org", {"licence_end": dt.date(2026, 11, 19)}, {"CUS-E5-LICENCE-EXPIRED"}),
    ("customer_org", {"establishment_date": None}, {"CUS-E6-ESTABLISHED-REQUIRED"}),
    ("customer_org", {"establishment_date": dt.date(1900, 1, 1)}, {"CUS-E6-ESTABLISHED-RANGE"}),
    ("customer_org", {"establishment_date": dt.date(1949, 9, 30)}, {"CUS-E6-ESTABLISHED-RANGE"}),
    ("customer_org", {"establishment_date": CHECK_DATE + dt.timedelta(days=1)}, {"CUS-E6-ESTABLISHED-RANGE"}),
    ("customer_org", {"reg_capital": None}, {"CUS-E7-CAPITAL-REQUIRED"}),
    (
        "customer_org",
        {"entity_type": "cooperative", "uscc": org("93"), "reg_capital": 0},
        {"CUS-E7-CAPITAL-POSITIVE"},
    ),
    ("customer_org", {"reg_capital": -10}, {"CUS-E7-CAPITAL-POSITIVE"}),
    ("customer_org", {"reg_address": None}, {"CUS-E8-REG-ADDRESS-REQUIRED"}),
    ("customer_org", {"reg_address": "/"}, {"CUS-E8-REG-ADDRESS-TEXT"}),
    ("customer_org", {"reg_address": "上海市浦东新区"}, {"CUS-E8-REG-ADDRESS-LENGTH"}),
    ("customer_org", {"reg_address": "广西南宁市青秀区民族大道1号"}, {"CUS-E8-REG-ADDRESS-PROVINCE"}),
    ("customer_org", {"business_scope": None}, {"CUS-E9-SCOPE-REQUIRED"}),
    ("customer_org", {"business_scope": "未知"}, {"CUS-E9-SCOPE-TEXT"}),
    ("customer_org", {"business_scope": "贸易"}, {"CUS-E9-SCOPE-LENGTH"}),
    ("customer_org", {"legal_rep_name": ""}, {"CUS-P1-LEGAL-REP-NAME-REQUIRED"}),
    ("customer_org", {"legal_rep_name": "李四 "}, {"CUS-P1-LEGAL-REP-NAME-TEXT"}),
    ("customer_org", {"legal_rep_name": "李四（法人）"}, {"CUS-P1-LEGAL-REP-NAME"}),
    ("customer_org", {"legal_rep_id_type": None}, {"CUS-P2-LEGAL-REP-ID-TYPE-REQUIRED"}),
    ("customer_org", {"legal_rep_id_type": "身份证"}, {"CUS-P2-LEGAL-REP-ID-TYPE"}),
    ("customer_org", {"legal_rep_id_no": None}, {"CUS-P3-LEGAL-REP-ID-REQUIRED"}),
    ("customer_org", {"legal_rep_id_no": "110105194912310021"}, {"CUS-P3-LEGAL-REP-ID-VALID"}),
    (
        "customer_org",
        {"legal_rep_id_type": "05", "legal_rep_id_no": "usa123456789012"},
        {"CUS-P3-LEGAL-REP-ID-VALID"},
    ),
    ("customer_org", {"legal_rep_id_end": None}, {"CUS-P4-LEGAL-REP-ID-END-REQUIRED"}),
    (
        "customer_org",
        {"legal_rep_id_end": CHECK_DATE - dt.timedelta(days=1)},
        {"CUS-P4-LEGAL-REP-ID-EXPIRED"},
    ),
    ("customer_org", {"bo_id_type": None}, {"CUS-P5-BO-REQUIRED"}),
    ("customer_org", {"entity_type": "cooperative", "uscc": org("93"), **NO_BO}, {"CUS-P5-BO-REQUIRED"}),
    (
        "customer_org",
        {"entity_type": "social_org", "uscc": org("51"), **NO_BO, "bo_id_no": resident_id()},
        {"CUS-P5-BO-ALL-OR-NONE"},
    ),
    ("customer_org", {"bo_name": "无名氏\u3000"}, {"CUS-P5-BO-NAME-TEXT"}),
    ("customer_org", {"bo_name": "Li Si 2"}, {"CUS-P5-BO-NAME"}),
    ("customer_org", {"bo_id_type": "00"}, {"CUS-P5-BO-ID-TYPE"}),
    ("customer_org", {"bo_id_type": "02"}, {"CUS-P5-BO-ID-VALID"}),
    ("customer_org", {"bo_id_end": dt.date(2021, 5, 1)}, {"CUS-P5-BO-ID-EXPIRED"}),
    ("customer_org", {"contact_phone": None}, {"CUS-C1-PHONE-REQUIRED"}),
    ("customer_org", {"contact_phone": "0792-81234"}, {"CUS-C1-PHONE-FORMAT"}),
    # out of scope (G1): nothing fires on a closed record
    ("customer_org", {"status": "closed", "uscc": None, "cust_name": "无"}, set()),
    ("merchant", {"status": "closed", "mcc": "0000", "settle_acct_type": "对公"}, set()),
]

# valid values the standard allows, which must never raise a to-do
UNUSUAL: list[tuple[str, dict[str, Any]]] = [
    ("merchant", {"legal_rep_id_no": resident_id("11010519491231002")}),  # check digit X
    ("merchant", {"legal_rep_id_no": resident_id("36042119800101123")}),  # code of the abolished 九江县
    ("merchant", {"legal_rep_id_type": "04", "legal_rep_id_no": resident_id("81000019900101123")}),
    ("merchant", {"legal_rep_id_type": "04", "legal_rep_id_no": resident_id("82000019851231002")}),
    ("merchant", {"bo_id_type": "04", "bo_id_no": resident_id("83000019700615456")}),
    ("merchant", {"legal_rep_id_type": "05", "legal_rep_id_no": resident_id("93615619880808001")}),
    ("merchant", {"bo_id_type": "05", "bo_id_no": resident_id("91184019750505123"), "bo_name": "JOHN SMITH"}),
    ("merchant", {"legal_rep_id_type": "05", "legal_rep_id_no": "USA123456789012"}),
    ("merchant", {"legal_rep_id_type": "02", "legal_rep_id_no": "M1234567890"}),
    ("merchant", {"legal_rep_id_type": "03", "legal_rep_id_no": "12345678"}),
    ("merchant", {"legal_rep_id_type": "06", "legal_rep_id_no": "E12345678"}),
    ("merchant", {"legal_rep_id_end": dt.date(9999, 12, 31), "licence_end": dt.date(9999, 12, 31)}),
    ("merchant", {"bo_id_end": dt.date(9999, 12, 31)}),
    ("merchant", {"licence_end": CHECK_DATE, "legal_rep_id_end": CHECK_DATE}),  # expires today
    (
        "merchant",
        {
            "uscc": uscc("93"),
            "mer_reg_name": "九江市濂溪区绿源蔬菜种植专业合作社",
            "settle_acct_name": "九江市濂溪区绿源蔬菜种植专业合作社",
        },
    ),
    ("merchant", {"uscc": uscc("91")}),  # every merchant here shares this USCC: chain stores
    ("merchant", MICRO),  # no USCC, licence, registered address, scope or beneficial owner
    (
        "merchant",
        {
            **MICRO,
            "legal_rep_name": "阿卜杜拉·买买提",
            "mer_reg_name": "阿卜杜拉·买买提",
            "settle_acct_name": "阿卜杜拉·买买提",
        },
    ),
    ("merchant", {**MICRO, "settle_acct_no": CARD_16, "mer_biz_name": "鑫"}),  # one character is not repeated
    ("merchant", INDIVIDUAL),
    ("merchant", {**INDIVIDUAL, **PERSONAL}),  # an individual business settling to the owner's card
    ("merchant", {"settle_acct_no": "1234567890"}),
    ("merchant", {"settle_acct_no": "1" * 24 + "0"}),
    ("merchant", {"status": "suspended"}),
    ("merchant", {"contact_phone": "07928123456"}),
    ("merchant", {"contact_phone": "010-12345678"}),
    ("merchant", {"contact_phone": "02081234567"}),
    ("merchant", {"contact_phone": "19912345678"}),
    ("merchant", {"legal_rep_name": "阿卜杜拉·买买提"}),
    ("merchant", {"legal_rep_name": "JOHN SMITH", "legal_rep_id_type": "06", "legal_rep_id_no": "E12345678"}),
    (
        "merchant",
        {"legal_rep_name": "José García", "legal_rep_id_type": "06", "legal_rep_id_no": "PA1234567"},
    ),
    ("merchant", {"legal_rep_name": "刘䶮"}),  # CJK extension A
    ("merchant", {"bo_name": "古丽米拉·艾合买提"}),
    (
        "merchant",
        {"mer_reg_name": "九江长江（集团）实业有限公司", "settle_acct_name": "九江长江（集团）实业有限公司"},
    ),
    ("merchant", {"biz_address": "广东省东莞市南城街道鸿福路88号", "biz_area_code": "441900"}),  # no counties
    ("merchant", {"biz_address": "江西省南昌市红谷滩区会展路99号", "biz_area_code": "360113"}),  # since 2019
    ("merchant", {"biz_address": "内蒙古自治区呼和浩特市赛罕区大学东街1号", "biz_area_code": "150105"}),
    ("merchant", {"reg_address": "广西壮族自治区南宁市青秀区民族大道1号"}),
    ("merchant", {"reg_address": "新疆维吾尔自治区乌鲁木齐市天山区解放南路1号"}),
    ("merchant", {"reg_address": "香港特别行政区中西区皇后大道中1号"}),
    ("merchant", {"reg_address": "北京市朝阳区建国路1号"}),  # exactly 10 characters
    ("merchant", {"reg_address": "江西省九江市浔阳区"}),  # 9 characters: long enough
    ("merchant", {"business_scope": "餐饮服务"}),  # exactly 4 characters
    ("customer_org", {"entity_type": "rural_collective", "uscc": org("N1")}),
    ("customer_org", {"entity_type": "rural_collective", "uscc": org("N2")}),
    ("customer_org", {"entity_type": "rural_collective", "uscc": org("N3")}),
    ("customer_org", {"entity_type": "cooperative", "uscc": org("93")}),
    ("customer_org", {"entity_type": "public_institution", "uscc": org("12"), "reg_capital": None, **NO_BO}),
    ("customer_org", {"entity_type": "social_org", "uscc": org("51"), "reg_capital": 0}),
    ("customer_org", {"entity_type": "social_org", "uscc": org("52"), **NO_BO}),
    ("customer_org", {"entity_type": "social_org", "uscc": org("53")}),
    ("customer_org", {"entity_type": "individual", "uscc": org("92"), "reg_capital": None, **NO_BO}),
    ("customer_org", {"uscc": SHARED_WITH_CLOSED}),
    ("customer_org", {"uscc": SHARED_WITH_CLOSED, "status": "closed"}),
    ("customer_org", {"establishment_date": dt.date(1949, 10, 1)}),
    ("customer_org", {"establishment_date": CHECK_DATE}),
    ("customer_org", {"reg_capital": 0.01}),
    ("customer_org", {"status": "dormant"}),
    ("customer_org", {"legal_rep_name": "艾力·吐尔逊", "bo_name": "艾力·吐尔逊"}),
    ("customer_org", {"contact_phone": "0792-8123456"}),
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


def test_each_defect_fails_exactly_its_rule_in_sql_and_python(databases: Any) -> None:
    rows: dict[str, list[dict[str, Any]]] = {"merchant": [], "customer_org": []}
    expected: dict[str, set[str]] = {}
    cases = (
        [(t, o, e) for t, o, e in DEFECTS] + [(t, o, set()) for t, o in UNUSUAL] + [("merchant", {}, set())]
    )
    for seq, (table, overrides, rule_ids) in enumerate(cases, start=1):
        row = record(table, seq, overrides)
        rows[table].append(row)
        expected[row[SUITES[table].key]] = rule_ids
    in_python = {
        row[suite.key]: failed
        for suite in SUITES.values()
        for row, failed in zip(rows[suite.table], python_failures(suite, rows[suite.table], CTX), strict=True)
    }
    assert {k: v for k, v in in_python.items() if v != expected[k]} == {}
    failed = failures_in_sql(databases.new("source"), rows)
    assert {k: failed.get(k, set()) for k in expected if failed.get(k, set()) != expected[k]} == {}


def test_uniqueness_in_python_sees_the_records_outside_the_batch() -> None:
    """A correction judged alone (the portal) still sees the other holders of its USCC via `ctx.peers`."""
    suite = SUITES["customer_org"]
    rule = suite.rule("CUS-E4-USCC-UNIQUE")
    row = customer_row(1, uscc=SHARED)
    alone = KINDS[rule.kind].python_fails([row], rule, CTX)
    peers = {("customer_org", "uscc"): {SHARED: frozenset({"C00000000001", "C00000000002"})}}
    with_peers = CheckContext(CHECK_DATE, CTX.active_staff, peers=peers)
    only_itself = CheckContext(CHECK_DATE, CTX.active_staff, peers={("customer_org", "uscc"): {}})
    assert alone == [False]
    assert KINDS[rule.kind].python_fails([row], rule, with_peers) == [True]
    assert KINDS[rule.kind].python_fails([row], rule, only_itself) == [False]


def test_every_clause_is_covered_where_it_applies() -> None:
    merchant, customer = SUITES["merchant"], SUITES["customer_org"]
    assert clauses_covered([merchant]) == set(CLAUSE_IDS) - CUSTOMER_ONLY
    assert clauses_covered([customer]) == set(CLAUSE_IDS) - MERCHANT_ONLY
    for suite in SUITES.values():
        for rule in suite.rules:
            assert rule.clauses and rule.description and rule.hint and rule.regulation
            assert rule.id.startswith({"merchant": "MER-", "customer_org": "CUS-"}[suite.table])


def test_every_rule_has_a_defect_case() -> None:
    covered = {rule_id for _, _, ids in DEFECTS for rule_id in ids}
    assert {r.id for s in SUITES.values() for r in s.rules} - covered == set()


def test_placeholder_text_is_reported_by_a_text_rule_on_every_column_a_check_judges() -> None:
    """Text checks pass placeholders (one defect, one to-do): the column's text rule must catch them."""
    for suite in SUITES.values():
        text_rules = {r.columns[0] for r in suite.rules if r.kind == "text_quality" and not r.when}
        judged = {c for r in suite.rules for c in KINDS[r.kind].judged_columns(r)}
        assert judged - text_rules == set(), suite.table


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
    (
        "table: merchant\nrules: [{id: MER-X-1, clause: P2, columns: [legal_rep_id_type], check: in_set,"
        " params: {values: [01, 02]}}]\n",
        "rule MER-X-1: params: 'values' must list strings (quote codes such as '01')",
    ),
    (
        "table: merchant\nrules: [{id: MER-X-1, clause: M4, columns: [settle_acct_type],"
        " check: allowed_for_type, params: {type_column: mer_type, allowed: {micro: personal}}}]\n",
        "rule MER-X-1: params: 'allowed' must map each value to a list",
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
