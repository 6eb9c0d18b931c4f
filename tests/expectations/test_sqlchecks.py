"""The SQL predicates agree with the Python reference in `expectations.checks`, on SQLite and PostgreSQL.

Values go into a temporary table; one query evaluates a predicate over all of them, compiled to text
with literal binds (as the rules use it) and also run with bound parameters.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from expectations import checks, sqlchecks
from expectations.kinds.base import sql_judged
from tests.dbenv import PG_ADMIN_URL

URLS = {"sqlite": "sqlite://", "postgresql": PG_ADMIN_URL}
CHECK_DATE = dt.date(2025, 6, 30)

sample = sa.table("sqlchecks_sample", sa.column("i"), sa.column("id_type"), sa.column("v"))
id_type: sa.ColumnClause[Any] = sa.column("id_type")  # untyped, the hardest case for the predicates
v: sa.ColumnClause[Any] = sa.column("v")
Row = tuple[str | None, str | None]  # (id_type, v)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def conn(request: pytest.FixtureRequest) -> Iterator[sa.Connection]:
    engine = sa.create_engine(URLS[request.param])
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    connection.exec_driver_sql("CREATE TEMPORARY TABLE sqlchecks_sample (i INTEGER, id_type TEXT, v TEXT)")
    yield connection
    connection.close()
    engine.dispose()  # closes the pooled session, which drops the temporary table


@pytest.fixture(scope="module", params=["lookups", "body"])
def body(request: pytest.FixtureRequest) -> ColumnElement[int] | None:
    """The MOD 11-2 check's two forms: digits looked up in the value, or taken from `id_body` (the form
    the derived layers compute once per row)."""
    return sqlchecks.id_body(v) if request.param == "body" else None


def evaluate(conn: sa.Connection, predicate: ColumnElement[bool], rows: Sequence[Row]) -> list[bool | None]:
    """The predicate for every row, in order; asserts the literal-binds and bound forms agree."""
    conn.execute(sa.delete(sample))
    conn.execute(sa.insert(sample), [{"i": n, "id_type": t, "v": x} for n, (t, x) in enumerate(rows)])
    derived = sa.select(sample).subquery("src")
    query = sa.select(predicate.label("ok")).select_from(derived).order_by(sa.column("i"))
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    literal = [None if r is None else bool(r) for r in conn.execute(sa.text(sql)).scalars()]
    bound = [None if r is None else bool(r) for r in conn.execute(query).scalars()]
    assert literal == bound
    return literal


def assert_agrees(
    conn: sa.Connection,
    predicate: ColumnElement[bool],
    reference: Callable[[str], bool],
    values: Sequence[str],
) -> None:
    got = evaluate(conn, predicate, [(None, x) for x in values])
    expected = [reference(x) for x in values]
    assert {x: g for x, g, e in zip(values, got, expected, strict=True) if g != e} == {}


# Hand-made vectors ---------------------------------------------------------------------------------------

USCC_CASES = {
    "91350100M000100Y43": True,
    "91110000600037341L": True,
    "91110108551385082Q": True,
    "91350100M000100Y44": False,  # wrong check character
    "91350100m000100Y43": False,  # lower case
    "91110108551385082q": False,
    "91350100I000100Y43": False,  # I, O, S, V, Z are not in the alphabet
    "91350100O000100Y43": False,
    "91350100S000100Y43": False,
    "91350100V000100Y43": False,
    "91350100Z000100Y43": False,
    "91350100M000100Y4": False,  # wrong length
    "91350100M000100Y430": False,
    " 91350100M000100Y43": False,
    "91350100M000100Y43\n": False,  # re.search's `$` would accept this one
    "": False,
}

ID01_CASES = {
    "11010519491231002X": True,
    "11010519491231002x": False,  # lower-case x
    "110105194912310021": False,  # wrong check digit
    "11010519491331002X": False,  # month 13
    "110105194912310": False,
}


def id_no(body17: str) -> str:
    return body17 + checks.mod11_2_check_char(body17)


ID_CASES: list[tuple[str, str, bool]] = [
    ("01", "11010519491231002X", True),
    ("01", id_no("11010520000229123"), True),  # 2000 is a leap year
    ("01", id_no("11010519000229123"), False),  # 1900 is not
    ("01", id_no("11010520230229123"), False),
    ("01", id_no("11010520240229123"), True),
    ("01", id_no("11010518991231123"), False),  # before 1900
    ("01", id_no("11010519000101123"), True),
    ("01", id_no("11010520250630123"), True),  # the check date itself
    ("01", id_no("11010520250701123"), False),  # after the check date
    ("01", id_no("11010519490431123"), False),  # 31 April
    ("01", id_no("11010519490400123"), False),  # day 0
    ("01", id_no("11010519490015123"), False),  # month 0
    ("04", id_no("81000019900101123"), True),  # residence permits
    ("04", id_no("82000019900101123"), True),
    ("04", id_no("83000019900101123"), True),
    ("04", id_no("84000019900101123"), False),
    ("04", "11010519491231002X", False),
    ("01", id_no("81000019900101123"), True),
    ("05", id_no("93310019900101123"), True),  # 2023 PR card
    ("05", id_no("93310019901301123"), False),
    ("05", "ABC123456789012", True),  # 2017 PR card
    ("05", "AB1123456789012", False),
    ("05", "abc123456789012", False),
    ("05", "ABC12345678901", False),
    ("02", "H12345678", True),
    ("02", "M1234567890", True),
    ("02", "H123456789", False),
    ("02", "h12345678", False),
    ("03", "12345678", True),
    ("03", "1234567890", True),
    ("03", "123456789", False),
    ("06", "E12345678", True),
    ("06", "E1234", True),
    ("06", "E123", False),
    ("06", "e12345678", False),
    ("06", "A" * 18, False),
    ("07", "11010519491231002X", False),  # unknown type
    ("", "11010519491231002X", False),
    ("1", "11010519491231002X", False),
]

PHONE_CASES = {
    "13800138000": True,
    "19912345678": True,
    "12800138000": False,
    "1380013800": False,
    "138001380001": False,
    "13800138000\n": False,
    "0791-88888888": True,
    "079188888888": True,
    "010-1234567": True,
    "0101234567": True,
    "0791--8888888": False,
    "07918-88888888": False,
    "1380013800０": False,  # a full-width digit
    " 13800138000": False,
    "": False,
}


def test_uscc_vectors(conn: sa.Connection) -> None:
    got = evaluate(conn, sqlchecks.is_valid_uscc(v), [(None, x) for x in USCC_CASES])
    assert got == list(USCC_CASES.values())
    assert got == [checks.is_valid_uscc(x) for x in USCC_CASES]


def test_mod11_id_vectors(conn: sa.Connection, body: ColumnElement[int] | None) -> None:
    got = evaluate(conn, sqlchecks.is_valid_mod11_id(v, CHECK_DATE, body), [(None, x) for x in ID01_CASES])
    assert got == list(ID01_CASES.values())


def test_month_ends_in_leap_and_common_years(conn: sa.Connection, body: ColumnElement[int] | None) -> None:
    values = [
        id_no(f"110105{year}{month:02d}{day:02d}123")
        for year in (1900, 1999, 2000, 2024)
        for month in range(1, 13)
        for day in range(28, 33)
    ]
    assert_agrees(
        conn,
        sqlchecks.is_valid_mod11_id(v, CHECK_DATE, body),
        lambda x: checks.is_valid_mod11_id(x, CHECK_DATE),
        values,
    )


def test_id_vectors(conn: sa.Connection, body: ColumnElement[int] | None) -> None:
    rows = [(t, x) for t, x, _ in ID_CASES]
    got = evaluate(conn, sqlchecks.is_valid_id(id_type, v, CHECK_DATE, body), rows)
    assert got == [ok for _, _, ok in ID_CASES]
    assert got == [checks.is_valid_id(t, x, CHECK_DATE) for t, x, _ in ID_CASES]


def test_luhn_vectors(conn: sa.Connection) -> None:
    values = ["6222021234567890128", "6222021234567890127", "0000000000", "79927398713", "9" * 25]
    assert evaluate(conn, sqlchecks.is_luhn(v), [(None, x) for x in values]) == [
        checks.luhn_ok(x) for x in values
    ]
    others = ["622202123456789012a", "9" * 26, " 6222021234567890128", "６222021234567890128"]
    assert evaluate(conn, sqlchecks.is_luhn(v), [(None, x) for x in others]) == [False] * len(others)


def test_phone_vectors(conn: sa.Connection) -> None:
    got = evaluate(conn, sqlchecks.is_valid_phone(v), [(None, x) for x in PHONE_CASES])
    assert got == list(PHONE_CASES.values())


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        ("[0-9]{8}|[0-9]{10}", "1234567890"),
        ("[0-9]{8}|[0-9]{10}", "123456789"),
        ("[A-Z]+", "ABC"),
        ("[A-Z]+", "ABc"),
        ("[A-Z]+", "ABC\n"),
        ("[A-Z]+", "É"),
        ("a|b", "ab"),
        ("[0-9]+", "１２"),
    ],
)
def test_matches_is_a_full_match(conn: sa.Connection, pattern: str, value: str) -> None:
    expected = re.fullmatch(pattern, value) is not None
    assert evaluate(conn, sqlchecks.matches(v, pattern), [(None, value)]) == [expected]


def test_null_input_is_false_never_null(conn: sa.Connection) -> None:
    predicates = [
        sqlchecks.is_valid_uscc(v),
        sqlchecks.is_valid_mod11_id(v, CHECK_DATE),
        sqlchecks.is_valid_mod11_id(v, CHECK_DATE, sqlchecks.id_body(v)),
        sqlchecks.is_valid_id(id_type, v, CHECK_DATE),
        sqlchecks.is_valid_id(id_type, v, CHECK_DATE, sqlchecks.id_body(v)),
        sqlchecks.is_luhn(v),
        sqlchecks.is_valid_phone(v),
        sqlchecks.matches(v, "[0-9]*"),
    ]
    rows: list[Row] = [
        (None, None),
        ("01", None),
        ("04", None),
        ("05", None),
        ("02", None),
        (None, "H12345678"),
    ]
    for predicate in predicates:
        assert evaluate(conn, predicate, rows) == [False] * len(rows)


def test_char_index(conn: sa.Connection) -> None:
    rows: list[Row] = [(None, "A"), (None, "a"), (None, "Y"), (None, "I"), (None, "")]
    query = (
        sa.select(sqlchecks.char_index(checks.USCC_ALPHABET, v)).select_from(sample).order_by(sa.column("i"))
    )
    conn.execute(sa.delete(sample))
    conn.execute(sa.insert(sample), [{"i": n, "id_type": t, "v": x} for n, (t, x) in enumerate(rows)])
    assert list(conn.execute(query).scalars()) == [11, 0, 31, 0, 1]  # '' is found at 1 in both


# Compiled text -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
@pytest.mark.parametrize("col", [v, sa.column("v", sa.String(40))], ids=["untyped", "typed"])
def test_compiles_with_literal_binds(dialect: sa.Dialect, col: sa.ColumnClause[Any]) -> None:
    predicates = [
        sqlchecks.is_valid_uscc(col),
        sqlchecks.is_valid_id(sa.column("id_type", sa.String(4)), col, CHECK_DATE),
        sqlchecks.is_luhn(col),
        sqlchecks.is_valid_phone(col),
    ]
    for predicate in predicates:
        sql = str(predicate.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        assert "CAST" not in sql.upper()
        assert ":" not in sql  # sa.text, which GX runs the query through, would take `:x` for a parameter
        if dialect.name == "postgresql":
            assert "%" not in sql and "\\" not in sql  # psycopg doubles `%`; backslashes depend on settings
    uscc = str(predicates[0].compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    position, modulo = ("strpos(", "mod(") if dialect.name == "postgresql" else ("instr(", " % ")
    assert position in uscc and modulo in uscc


def test_regexp_exists_on_any_sqlalchemy_sqlite_engine(tmp_path: Path) -> None:
    """GX makes its own engine from a URL; the pysqlite dialect registers REGEXP on its connections too."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'source.db'}")
    try:
        with engine.connect() as connection:
            query = sa.select(sqlchecks.is_valid_phone(sa.literal("13800138000")))
            assert connection.execute(query).scalar() == 1
    finally:
        engine.dispose()


# Properties ----------------------------------------------------------------------------------------------

EXAMPLES = settings(max_examples=50, deadline=None)


def digit_string(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=size, max_size=size)


@st.composite
def mutated(draw: st.DrawFn, values: st.SearchStrategy[str], alphabet: str) -> str:
    """A value with one character replaced from `alphabet`."""
    value = draw(values)
    i = draw(st.integers(0, len(value) - 1))
    return value[:i] + draw(st.sampled_from(alphabet)) + value[i + 1 :]


uscc_bodies = st.text(alphabet=checks.USCC_ALPHABET, min_size=17, max_size=17)
valid_usccs = uscc_bodies.map(lambda body: body + checks.uscc_check_char(body))
uscc_like = st.one_of(
    valid_usccs,
    valid_usccs.map(str.lower),
    mutated(valid_usccs, checks.USCC_ALPHABET + "IOSVZaxy０ \n"),
    st.text(alphabet=checks.USCC_ALPHABET + "IOSVZaxy", min_size=16, max_size=19),
)

years = st.one_of(
    st.integers(1890, 2030), st.sampled_from([1900, 2000, 2023, 2024, 2100]), st.integers(0, 9999)
)
birth_dates = st.one_of(
    st.dates(dt.date(1890, 1, 1), dt.date(2040, 12, 31)).map(lambda day: day.strftime("%Y%m%d")),
    st.builds(lambda y, m, d: f"{y:04d}{m:02d}{d:02d}", years, st.integers(0, 13), st.integers(0, 32)),
)
id_bodies = st.builds(
    str.__add__,
    st.one_of(st.sampled_from((*checks.RESIDENCE_PERMIT_PREFIXES, "110105", "933100")), digit_string(6)),
    st.builds(str.__add__, birth_dates, digit_string(3)),
)
id18_like = st.one_of(
    id_bodies.map(lambda body: body + checks.mod11_2_check_char(body)),
    st.builds(str.__add__, id_bodies, st.sampled_from("0123456789Xx")),
    st.text(alphabet="0123456789X", min_size=16, max_size=19),
)
check_dates = st.dates(dt.date(1990, 1, 1), dt.date(2035, 12, 31))

hk_macao_permits = st.builds(
    str.__add__, st.sampled_from("HMhX"), st.one_of(digit_string(8), digit_string(9), digit_string(10))
)
taiwan_permits = st.text(alphabet="0123456789", min_size=7, max_size=11)
pr_cards_2017 = st.builds(str.__add__, st.text(alphabet="ABCZab1", min_size=3, max_size=3), digit_string(12))
passports = st.text(alphabet="ABEGZ0123456789ae", min_size=3, max_size=19)
id_rows = st.one_of(  # mostly the number shapes of the type, so that valid ones are common
    st.tuples(st.sampled_from(["01", "04", "05"]), id18_like),
    st.tuples(st.just("02"), hk_macao_permits),
    st.tuples(st.just("03"), taiwan_permits),
    st.tuples(st.just("05"), pr_cards_2017),
    st.tuples(st.just("06"), passports),
    st.tuples(
        st.sampled_from(["01", "02", "03", "04", "05", "06", "07", ""]),
        st.one_of(id18_like, hk_macao_permits, taiwan_permits, pr_cards_2017, passports),
    ),
)

card_bodies = st.integers(9, 24).flatmap(digit_string)
card_like = st.one_of(
    card_bodies.map(lambda body: body + checks.luhn_check_digit(body)),
    st.integers(10, 25).flatmap(digit_string),
)

phone_like = st.one_of(
    st.builds(lambda b, rest: f"1{b}{rest}", st.sampled_from("0123456789"), digit_string(9)),
    st.builds(
        lambda area, dash, local: f"0{area}{dash}{local}",
        st.text(alphabet="0123456789", min_size=1, max_size=4),
        st.sampled_from(["", "-", "--", " "]),
        st.text(alphabet="0123456789", min_size=6, max_size=9),
    ),
    st.text(alphabet="0123456789-+ ０\n", max_size=14),
)


@EXAMPLES
@given(values=st.lists(uscc_like, min_size=20, max_size=60))
def test_uscc_agrees_with_python(conn: sa.Connection, values: list[str]) -> None:
    assert_agrees(conn, sqlchecks.is_valid_uscc(v), checks.is_valid_uscc, values)


@EXAMPLES
@given(values=st.lists(id18_like, min_size=20, max_size=60), check_date=check_dates)
def test_mod11_id_agrees_with_python(
    conn: sa.Connection, body: ColumnElement[int] | None, values: list[str], check_date: dt.date
) -> None:
    assert_agrees(
        conn,
        sqlchecks.is_valid_mod11_id(v, check_date, body),
        lambda x: checks.is_valid_mod11_id(x, check_date),
        values,
    )


@EXAMPLES
@given(rows=st.lists(id_rows, min_size=20, max_size=60), check_date=check_dates)
def test_id_agrees_with_python(
    conn: sa.Connection, body: ColumnElement[int] | None, rows: list[tuple[str, str]], check_date: dt.date
) -> None:
    got = evaluate(conn, sqlchecks.is_valid_id(id_type, v, check_date, body), rows)
    expected = [checks.is_valid_id(t, x, check_date) for t, x in rows]
    assert {row: g for row, g, e in zip(rows, got, expected, strict=True) if g != e} == {}


@EXAMPLES
@given(values=st.lists(card_like, min_size=20, max_size=60))
def test_luhn_agrees_with_python(conn: sa.Connection, values: list[str]) -> None:
    assert_agrees(conn, sqlchecks.is_luhn(v), checks.luhn_ok, values)


@EXAMPLES
@given(values=st.lists(phone_like, min_size=20, max_size=60))
def test_phone_agrees_with_python(conn: sa.Connection, values: list[str]) -> None:
    assert_agrees(conn, sqlchecks.is_valid_phone(v), checks.is_valid_phone, values)


# Text, names, addresses, division codes, settlement accounts --------------------------------------------

TEXT_CASES = [
    "九江长江实业有限公司",
    "九江长江（集团）实业有限公司",
    " 九江",
    "九江\u3000",
    "\u200b九江",
    "\ufeff九江\xa0",
    "九江\n",
    "无",
    " 无 ",
    "Test",
    "nULl",
    "？",
    "***",
    "00",
    "0",
    "哈哈哈",
    "ＡＢＣ超市",
    "张　三",
    "张 三",
    "\u3000",
    "",
    # control and invisible characters, and emoji, anywhere in the value (G2)
    "九江\x1b长江",
    "九江\x07",
    "九江\r\n长江",
    "九江\t长江",
    "\x01九江",
    "九江\x7f",
    "九江\x85长江",
    "九江\x9f",
    "张\u200b三",
    "张\u200c三",
    "张\u200d三",
    "张\u2060三",
    "张\ufeff三",
    "张\u200f三",
    "张\u202e三",
    "张\u2066三\u2069",
    "软\xad连字符",
    "九江😀餐厅",
    "👨\u200d👩\u200d👧",
    "☎九江",
    "✂裁缝店",
    "➿",
    "🀄麻将馆",
    "🫶",
    "1\ufe0f\u20e3号店",
    "🇨🇳商店",
    "九江\U0001fb00",  # symbols for legacy computing: not emoji
    "九江\u27c0",  # just past the dingbats
    "九江\u25ff",  # just before the miscellaneous symbols
    "José García",
    "九江·长江",
]
PERSON_NAME_CASES = [
    "张三",
    "阿卜杜拉·买买提",
    "JOHN SMITH",
    "José García",
    "刘䶮",
    "𠀾李",
    "张",
    "张三1",
    "A" * 31,
]
ADDRESS_CASES = [
    "江西省九江市",
    "广西壮族自治区南宁市",
    "香港特别行政区",
    "江西九江",
    "中国江西省",
    "北京",
    "",
]
COUNTY_CASES = [
    "360403",
    "360113",
    "441900",
    "360421",
    "360400",
    "360101",
    "36040",
    "3604031",
    "",
    "３６０４０３",
]
SETTLE_CASES: list[Row] = [
    ("corporate", "1234567890"),
    ("corporate", "1" * 25),
    ("corporate", "123456789"),
    ("corporate", "1" * 26),
    ("corporate", "1502-2080093"),
    ("personal", "6222021234567890128"),
    ("personal", "6222021234567894"),
    ("personal", "6222021234567890127"),
    ("personal", "622202123456789"),
    ("personal", "6222 021234567890128"),
    ("other", "6222021234567890128"),
    (None, "1234567890"),
    ("corporate", None),
]


def strings(conn: sa.Connection, expression: ColumnElement[Any], values: Sequence[str]) -> list[Any]:
    conn.execute(sa.delete(sample))
    conn.execute(sa.insert(sample), [{"i": n, "id_type": None, "v": x} for n, x in enumerate(values)])
    derived = sa.select(sample).subquery("src")
    query = sa.select(expression.label("out")).select_from(derived).order_by(sa.column("i"))
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    return list(conn.execute(sa.text(sql)).scalars())


def test_strip_blanks_and_blank_agree_with_python(conn: sa.Connection) -> None:
    assert strings(conn, sqlchecks.strip_blanks(v), TEXT_CASES) == [
        checks.strip_blanks(x) for x in TEXT_CASES
    ]
    got = evaluate(conn, sqlchecks.is_blank(v), [(None, x) for x in TEXT_CASES])
    assert got == [not checks.is_given(x) for x in TEXT_CASES]


def test_text_vectors(conn: sa.Connection) -> None:
    assert_agrees(conn, sqlchecks.is_text_defect(v), checks.is_text_defect, TEXT_CASES)
    assert_agrees(conn, sqlchecks.is_placeholder_text(v), checks.is_placeholder_text, TEXT_CASES)


def test_text_with_odd_characters_is_a_defect_judged_by_no_other_check(conn: sa.Connection) -> None:
    odd = TEXT_CASES[TEXT_CASES.index("九江\x1b长江") : TEXT_CASES.index("九江\U0001fb00")]
    assert evaluate(conn, sqlchecks.is_text_defect(v), [(None, x) for x in odd]) == [True] * len(odd)
    judged, _ = sql_judged(v)
    assert evaluate(conn, judged, [(None, x) for x in odd]) == [False] * len(odd)
    fine = ["九江\U0001fb00", "九江\u27c0", "九江\u25ff", "José García", "九江·长江"]
    assert evaluate(conn, sqlchecks.is_text_defect(v), [(None, x) for x in fine]) == [False] * len(fine)


def test_a_nul_character_is_a_defect_on_sqlite(tmp_path: Path) -> None:
    """PostgreSQL's text cannot hold NUL; SQLite's can, and the predicate finds it there too."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'nul.sqlite'}")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TEMPORARY TABLE sqlchecks_sample (i INTEGER, id_type TEXT, v TEXT)")
        values = ["九江\x00长江", "\x00", "九江"]
        assert evaluate(conn, sqlchecks.is_text_defect(v), [(None, x) for x in values]) == [True, True, False]
        assert [checks.is_text_defect(x) for x in values] == [True, True, False]
    engine.dispose()


def test_name_address_and_county_vectors(conn: sa.Connection) -> None:
    assert_agrees(conn, sqlchecks.is_person_name(v), checks.is_person_name, PERSON_NAME_CASES)
    assert_agrees(conn, sqlchecks.starts_with_province(v), checks.starts_with_province, ADDRESS_CASES)
    assert_agrees(conn, sqlchecks.is_current_county(v), checks.is_current_county, COUNTY_CASES)
    assert (
        evaluate(conn, sqlchecks.is_current_county(v), [(None, x) for x in COUNTY_CASES])
        == [
            True,
            True,
            True,
        ]
        + [False] * 7
    )


def test_settle_account_vectors(conn: sa.Connection) -> None:
    got = evaluate(conn, sqlchecks.is_valid_settle_account(id_type, v), SETTLE_CASES)
    expected = [
        t is not None and x is not None and checks.is_valid_settle_account(t, x) for t, x in SETTLE_CASES
    ]
    assert (
        got
        == expected
        == [True, True, False, False, False, True, True, False, False, False, False, False, False]
    )


def test_new_predicates_are_never_null(conn: sa.Connection) -> None:
    rows: list[Row] = [(None, None), ("corporate", None), (None, "x")]
    for predicate in (
        sqlchecks.is_text_defect(v),
        sqlchecks.is_placeholder_text(v),
        sqlchecks.is_person_name(v),
        sqlchecks.starts_with_province(v),
        sqlchecks.is_current_county(v),
        sqlchecks.is_valid_settle_account(id_type, v),
        sqlchecks.contains(v, checks.FULL_WIDTH),
    ):
        assert None not in evaluate(conn, predicate, rows)
    assert evaluate(conn, sqlchecks.is_blank(v), rows) == [True, True, False]


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_new_predicates_compile_without_casts_colons_or_percents(dialect: sa.Dialect) -> None:
    col = sa.column("v", sa.String(40))
    for predicate in (
        sqlchecks.is_text_defect(col),
        sqlchecks.is_person_name(col),
        sqlchecks.starts_with_province(col),
        sqlchecks.is_valid_settle_account(sa.column("t", sa.String(20)), col),
    ):
        sql = str(predicate.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        assert "CAST" not in sql.upper() and ":" not in sql
        if dialect.name == "postgresql":
            assert "%" not in sql and "\\" not in sql


TEXT_ALPHABET = "九江无详测试tesTNUL0aA*?-/ \u3000\u200b\ufeff\xa0\t\nＡ０？（）；·\x1b\x07\r\x7f\u200d\u2060😀☀\U0001faff\U0001fb00"
text_like = st.one_of(
    st.text(alphabet=TEXT_ALPHABET, max_size=8),
    st.builds(
        lambda pad1, word, pad2: pad1 + word + pad2,
        st.sampled_from(["", " ", "\u3000", "\u200b"]),
        st.sampled_from([*sorted(checks.PLACEHOLDERS), "九江", "好运来餐厅", "哈哈", "1111"]),
        st.sampled_from(["", " ", "\u3000", "\t"]),
    ),
)
name_like = st.text(alphabet="张三李四·•A zÉé1(（䶮𠀾 \u3000ＪＯ", max_size=32)
address_like = st.builds(
    str.__add__,
    st.one_of(
        st.sampled_from(checks.PROVINCE_NAMES), st.sampled_from(["江西", "广西", "中国", "", " 江西省"])
    ),
    st.text(alphabet="九江市浔阳区路1号 ", max_size=6),
)
county_like = st.one_of(
    st.sampled_from(sorted(checks.county_codes())),
    st.builds(lambda p, s: p + s, st.sampled_from(["36", "44", "11", "81"]), digit_string(4)),
    st.builds(lambda p: p + "00", digit_string(4)),
    st.text(alphabet="0123456789０", min_size=5, max_size=7),
)
settle_like = st.tuples(
    st.sampled_from(["corporate", "personal", "other", ""]),
    st.one_of(card_like, st.text(alphabet="0123456789 -", min_size=8, max_size=27)),
)


@EXAMPLES
@given(values=st.lists(text_like, min_size=20, max_size=60))
def test_text_defect_agrees_with_python(conn: sa.Connection, values: list[str]) -> None:
    assert_agrees(conn, sqlchecks.is_text_defect(v), checks.is_text_defect, values)
    assert_agrees(conn, sqlchecks.is_placeholder_text(v), checks.is_placeholder_text, values)
    assert strings(conn, sqlchecks.strip_blanks(v), values) == [checks.strip_blanks(x) for x in values]


@EXAMPLES
@given(values=st.lists(name_like, min_size=20, max_size=60))
def test_person_name_agrees_with_python(conn: sa.Connection, values: list[str]) -> None:
    assert_agrees(conn, sqlchecks.is_person_name(v), checks.is_person_name, values)


@EXAMPLES
@given(values=st.lists(address_like, min_size=20, max_size=60))
def test_province_address_agrees_with_python(conn: sa.Connection, values: list[str]) -> None:
    assert_agrees(conn, sqlchecks.starts_with_province(v), checks.starts_with_province, values)


@EXAMPLES
@given(values=st.lists(county_like, min_size=20, max_size=60))
def test_county_code_agrees_with_python(conn: sa.Connection, values: list[str]) -> None:
    assert_agrees(conn, sqlchecks.is_current_county(v), checks.is_current_county, values)


@EXAMPLES
@given(rows=st.lists(settle_like, min_size=20, max_size=60))
def test_settle_account_agrees_with_python(conn: sa.Connection, rows: list[tuple[str, str]]) -> None:
    got = evaluate(conn, sqlchecks.is_valid_settle_account(id_type, v), rows)
    expected = [checks.is_valid_settle_account(t, x) for t, x in rows]
    assert {row: g for row, g, e in zip(rows, got, expected, strict=True) if g != e} == {}
