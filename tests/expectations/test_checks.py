"""The check algorithms in Python: the verified vectors of domain/reference.md, and properties of the
check characters (every single-character error and every adjacent transposition is caught)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expectations import checks
from expectations.reference import CITIES_WITHOUT_COUNTIES, PLACEHOLDERS, PROVINCE_NAMES, county_codes

TODAY = dt.date(2026, 11, 20)
EXAMPLES = settings(max_examples=200, deadline=None)

# --- vectors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "91110108551385082Q"])
def test_uscc_vectors(code: str) -> None:
    assert checks.uscc_check_char(code[:17]) == code[17]
    assert checks.is_valid_uscc(code)
    assert not checks.is_valid_uscc(code.lower())


def test_uscc_weights() -> None:
    assert checks.USCC_WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_uscc_accepts_codes_starting_with_a_letter() -> None:
    """python-stdnum rejects these; the standard does not (N: agriculture, Y: other authorities)."""
    for prefix in ("N1", "N2", "N3", "Y1", "A1"):
        body = prefix + "360402MA35L7XK0"
        assert checks.is_valid_uscc(body + checks.uscc_check_char(body))


def test_organisation_code_vector() -> None:
    assert checks.org_code_check_char("55138508") == "2"
    assert "91110108551385082Q"[8:17] == "551385082"  # the organisation code inside a USCC


def test_mod11_2_vector() -> None:
    assert checks.mod11_2_check_char("11010519491231002") == "X"
    assert checks.is_valid_id("01", "11010519491231002X", TODAY)
    assert not checks.is_valid_id("01", "11010519491231002x", TODAY)


@pytest.mark.parametrize(
    ("id_type", "number", "valid"),
    [
        ("04", "810000199001011234"[:17], True),  # residence permit for Hong Kong residents
        ("04", "830000197006154567"[:17], True),  # for Taiwan residents
        ("01", "810000199001011234"[:17], True),  # the MOD 11-2 algorithm alone does not know prefixes
        ("05", "936156198808080012"[:17], True),  # 2023 permanent residence card
        ("04", "360402198506121234"[:17], False),  # not a residence permit prefix
        ("01", "360421198001011234"[:17], True),  # 九江县 was abolished in 2017: old IDs keep its code
    ],
)
def test_eighteen_character_ids(id_type: str, number: str, valid: bool) -> None:
    assert checks.is_valid_id(id_type, number + checks.mod11_2_check_char(number), TODAY) is valid


def test_luhn_vector() -> None:
    assert checks.luhn_ok("6222021234567890128")
    assert checks.luhn_check_digit("622202123456789012") == "8"
    assert not checks.luhn_ok("6222021234567890127")


@pytest.mark.parametrize(
    ("acct_type", "number", "valid"),
    [
        ("corporate", "1234567890", True),
        ("corporate", "1" * 25, True),
        ("corporate", "123456789", False),
        ("corporate", "1" * 26, False),
        ("corporate", "1502-2080093", False),
        ("corporate", "１２３４５６７８９０", False),  # full-width digits are not digits here
        ("personal", "6222021234567890128", True),
        ("personal", "6222021234567894", True),
        ("personal", "6222021234567890127", False),
        ("personal", "622202123456789", False),
        ("personal", "62220212345678901280", False),
        ("other", "6222021234567890128", False),
    ],
)
def test_settlement_accounts(acct_type: str, number: str, valid: bool) -> None:
    assert checks.is_valid_settle_account(acct_type, number) is valid


# --- text (G2) and names ----------------------------------------------------------------------------------


def test_blanks_are_every_unicode_space_and_the_zero_width_ones() -> None:
    spaces = {chr(c) for c in range(0x110000) if chr(c).isspace()}
    assert spaces <= set(checks.BLANKS)
    assert {"\u200b", "\ufeff", "\u3000", "\xa0"} <= set(checks.BLANKS)


@pytest.mark.parametrize(
    ("value", "defect"),
    [
        ("九江长江实业有限公司", False),
        ("九江长江（集团）实业有限公司", False),  # full-width brackets are Chinese typography
        ("餐饮服务；食品销售", False),
        ("鑫", False),  # one character repeats nothing
        ("3D打印店", False),
        (" 九江", True),
        ("九江\u3000", True),
        ("\u200b九江", True),
        ("无", True),
        ("不详", True),
        ("Test", True),
        ("NULL", True),
        ("？", True),
        ("***", True),
        ("00", True),
        ("哈哈哈", True),
        ("ＡＢＣ超市", True),
        ("３Ｄ打印店", True),
        ("张　三", True),  # a full-width space inside
        ("张 三", False),
        ("九江\x1b[31m长江", True),  # ESC: a terminal colour code pasted in
        ("九江长江\x07", True),  # BEL
        ("九江\r\n长江", True),  # CR LF inside: a line break in a one-line datum
        ("九江\t长江", True),
        ("九江\x00", True),
        ("九江\x7f", True),  # DEL
        ("张\u200b三", True),  # zero-width space inside
        ("张\u200d三", True),  # zero-width joiner
        ("张\u2060三", True),  # word joiner
        ("张\ufeff三", True),  # a byte-order mark inside
        ("九江\u202e司公", True),  # right-to-left override
        ("九江好运来😀餐厅", True),  # emoji
        ("☀阳光超市", True),  # miscellaneous symbols
        ("✂裁缝店", True),  # dingbats
        ("1\ufe0f\u20e3号店", True),  # keycap emoji
        ("阿卜杜拉·买买提", False),
        ("José García", False),
        ("No.1 餐厅", False),
    ],
)
def test_text_defects(value: str, defect: bool) -> None:
    assert checks.is_text_defect(value) is defect


def test_judged_text_strips_blanks_and_leaves_placeholders_to_g2() -> None:
    assert checks.judged_text(" 13800138000\u3000") == "13800138000"
    assert checks.judged_text("无") is None
    assert checks.judged_text("   ") is None
    assert checks.judged_text(None) is None
    assert checks.judged_text("138") == "138"
    assert checks.judged_text("1380013\u200b8000") is None  # G2's finding, not also C1's
    assert checks.judged_text("张\x1b三") is None


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("张三", True),
        ("欧阳娜娜", True),
        ("阿卜杜拉·买买提", True),
        ("JOHN SMITH", True),
        ("José García", True),
        ("刘䶮", True),  # CJK extension A
        ("𠀾李", True),  # extension B
        ("张", False),
        ("张三1", False),
        ("张三(经办人)", False),
        ("阿卜杜拉•买买提", False),  # U+2022 is not the middle dot U+00B7
        ("ＪＯＨＮ", False),
        ("A" * 31, False),
        ("A" * 30, True),
    ],
)
def test_person_names(name: str, valid: bool) -> None:
    assert checks.is_person_name(name) is valid


def test_addresses_begin_with_a_full_province_name() -> None:
    assert len(PROVINCE_NAMES) == len(set(PROVINCE_NAMES)) == 34
    for province in (
        "江西省",
        "北京市",
        "广西壮族自治区",
        "内蒙古自治区",
        "香港特别行政区",
        "澳门特别行政区",
    ):
        assert checks.starts_with_province(province + "某某路1号")
    for address in (
        "江西九江市浔阳区",
        "广西南宁市青秀区",
        "内蒙古呼和浩特市",
        "九江市浔阳区",
        "中国江西省九江市",
    ):
        assert not checks.starts_with_province(address)


def test_placeholders_hold_the_standards_list() -> None:
    assert {"无", "不详", "未知", "测试", "test", "null", "NULL", "-", "/", "***", "?"} <= PLACEHOLDERS


# --- division codes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "current"),
    [
        ("360403", True),  # 浔阳区
        ("360404", True),  # 柴桑区, since 2017
        ("360113", True),  # 红谷滩区, since 2019
        ("150105", True),  # renamed 赛罕区 in 2000: same code
        ("441900", True),  # 东莞市: a city without counties
        ("360421", False),  # 九江县, abolished 2017
        ("360105", False),  # 湾里区, abolished 2019
        ("360100", False),  # 南昌市: a city
        ("360101", False),  # 市辖区
        ("360000", False),  # 江西省
        ("36040", False),
        ("3604030", False),
    ],
)
def test_county_codes(code: str, current: bool) -> None:
    assert checks.is_current_county(code) is current


def test_county_codes_are_six_digits_and_many() -> None:
    codes = county_codes()
    assert 2800 < len(codes) < 3200
    assert all(len(c) == 6 and c.isascii() and c.isdigit() for c in codes)
    assert codes >= CITIES_WITHOUT_COUNTIES


# --- properties of the check characters -------------------------------------------------------------------


def _replace(value: str, i: int, ch: str) -> str:
    return value[:i] + ch + value[i + 1 :]


def _swap(value: str, i: int) -> str:
    return value[:i] + value[i + 1] + value[i] + value[i + 2 :]


uscc_bodies = st.text(alphabet=checks.USCC_ALPHABET, min_size=17, max_size=17)
digit_bodies = st.text(alphabet="0123456789", min_size=17, max_size=17)
org_bodies = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)
card_bodies = st.integers(10, 24).flatmap(lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n))


@EXAMPLES
@given(body=uscc_bodies, i=st.integers(0, 17), ch=st.sampled_from(checks.USCC_ALPHABET))
def test_uscc_catches_every_single_character_error(body: str, i: int, ch: str) -> None:
    code = body + checks.uscc_check_char(body)
    assert checks.is_valid_uscc(code)
    assert checks.is_valid_uscc(_replace(code, i, ch)) is (code[i] == ch)


@EXAMPLES
@given(body=uscc_bodies, i=st.integers(0, 16))
def test_uscc_catches_every_adjacent_transposition(body: str, i: int) -> None:
    code = body + checks.uscc_check_char(body)
    swapped = _swap(code, i)
    assert checks.is_valid_uscc(swapped) is (swapped == code)


@EXAMPLES
@given(body=digit_bodies, i=st.integers(0, 16), d=st.sampled_from("0123456789"))
def test_mod11_2_catches_every_single_digit_error(body: str, i: int, d: str) -> None:
    check = checks.mod11_2_check_char(body)
    assert checks.mod11_2_check_char(_replace(body, i, d)) != check or body[i] == d


@EXAMPLES
@given(body=digit_bodies, i=st.integers(0, 15))
def test_mod11_2_catches_every_adjacent_transposition(body: str, i: int) -> None:
    swapped = _swap(body, i)
    assert (checks.mod11_2_check_char(swapped) == checks.mod11_2_check_char(body)) is (swapped == body)


@EXAMPLES
@given(body=org_bodies, i=st.integers(0, 7), ch=st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"))
def test_organisation_code_catches_every_single_character_error(body: str, i: int, ch: str) -> None:
    changed = _replace(body, i, ch)
    # weights 3 7 9 10 5 8 4 2 and values 0-35: a change by 11 or 22 in value keeps the sum mod 11
    same_class = (int(ch, 36) - int(body[i], 36)) % 11 == 0
    assert (checks.org_code_check_char(changed) == checks.org_code_check_char(body)) is same_class


@EXAMPLES
@given(body=card_bodies, i=st.integers(0, 24), d=st.sampled_from("0123456789"))
def test_luhn_catches_every_single_digit_error(body: str, i: int, d: str) -> None:
    number = body + checks.luhn_check_digit(body)
    i %= len(number)
    assert checks.luhn_ok(number)
    assert checks.luhn_ok(_replace(number, i, d)) is (number[i] == d)


@EXAMPLES
@given(body=card_bodies, i=st.integers(0, 24))
def test_luhn_catches_adjacent_transpositions_except_09(body: str, i: int) -> None:
    number = body + checks.luhn_check_digit(body)
    i %= len(number) - 1
    swapped = _swap(number, i)
    missed = {number[i], number[i + 1]} == {"0", "9"}
    assert checks.luhn_ok(swapped) is (swapped == number or missed)
