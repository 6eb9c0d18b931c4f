"""The check algorithms of `expectations.checks` as SQL predicates, identical on SQLite and PostgreSQL.

Each predicate is a SQLAlchemy Core expression that gives, for every non-null input, the same answer as
its Python reference (the tests compare them value by value on both databases). Rules compile them to
SQL text with `literal_binds=True`, so they must run anywhere without raising:

- No casts. A substring is never CAST to an integer or a date, which would abort the whole scan on
  PostgreSQL at the first bad row. A digit's value is `char_index('0123456789', ch) - 1`, and a birth
  date is checked arithmetically (month 1-12, day within the month with the Gregorian leap-year rule,
  1900-01-01 <= date <= check date). Checksums only run behind a shape check, in
  `CASE WHEN <shape> THEN <checksum> ELSE false END`, and cannot fail anyway (mod by constants).
- Nulls: a predicate is never NULL. A NULL input gives false (callers that must skip nulls filter them
  first). `char_index` alone passes a NULL through.
- The PostgreSQL text holds no `%` (psycopg's paramstyle doubles it; modulo is `mod()` there), no
  backslash, and no colon (`sa.text`, which GX runs queries through, would read `:1` as a parameter).
  It does hold `{n}` regex quantifiers: a GX query template must double them (`{{n}}`).

Regexes are full-string matches in the common subset of Python `re` and PostgreSQL ARE (`[0-9]`, not
`\\d`). PostgreSQL evaluates `~` itself; SQLite calls the REGEXP function that SQLAlchemy's pysqlite
dialect registers on each connection of its engines (GX's own engine included, a bare `sqlite3`
connection not). That function is `re.search`, whose `$` also matches before a final newline, so on
SQLite the pattern ends in `\\Z` instead of `$`.
"""

from __future__ import annotations

import datetime as dt
import operator
from functools import partial, reduce
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from expectations import checks
from expectations.reference import PLACEHOLDERS, PROVINCE_NAMES, county_codes

__all__ = [
    "char_index",
    "contains",
    "contains_any",
    "id_body",
    "is_blank",
    "is_current_county",
    "is_luhn",
    "is_person_name",
    "is_placeholder_core",
    "is_placeholder_text",
    "is_text_defect",
    "is_valid_id",
    "is_valid_mod11_id",
    "is_valid_phone",
    "is_valid_settle_account",
    "is_valid_uscc",
    "matches",
    "starts_with_province",
    "strip_blanks",
]

DIGITS = "0123456789"
USCC_SHAPE = "[0-9A-HJ-NPQRTUWXY]{18}"
ID18_SHAPE = "[0-9]{17}[0-9X]"
PHONE = "1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}"
LUHN_MAX_DIGITS = 25
# The digit d stands at position (2d, less 9 from 10 on) here: one lookup gives a doubled digit's sum.
LUHN_DOUBLED = "".join(sorted(DIGITS, key=lambda d: 2 * int(d) - 9 * (int(d) > 4)))


class _CharIndex(FunctionElement[int]):
    type = sa.Integer()
    inherit_cache = True


@compiles(_CharIndex)
def _instr(element: _CharIndex, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_CharIndex, "postgresql")
def _strpos(element: _CharIndex, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


class _Mod(FunctionElement[int]):
    type = sa.Integer()
    inherit_cache = True


@compiles(_Mod)
def _mod_function(element: _Mod, compiler: SQLCompiler, **kw: Any) -> str:
    return f"mod({compiler.process(element.clauses, **kw)})"


@compiles(_Mod, "sqlite")
def _mod_operator(element: _Mod, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's mod() exists only in builds with the math functions, and returns a float there.
    dividend, divisor = (compiler.process(c, **kw) for c in element.clauses)
    return f"(({dividend}) % ({divisor}))"


class _FullMatch(FunctionElement[bool]):
    """col, the pattern anchored for `re.search` (SQLite), the pattern anchored for everyone else."""

    type = sa.Boolean()
    inherit_cache = True


@compiles(_FullMatch)
def _full_match(element: _FullMatch, compiler: SQLCompiler, **kw: Any) -> str:
    col, pattern, _ = element.clauses
    return compiler.process(col.regexp_match(pattern), **kw)


@compiles(_FullMatch, "sqlite")
def _full_match_sqlite(element: _FullMatch, compiler: SQLCompiler, **kw: Any) -> str:
    col, _, search_pattern = element.clauses
    return compiler.process(col.regexp_match(search_pattern), **kw)


class _ContainsAny(FunctionElement[bool]):
    """col, a character class as characters (PostgreSQL), the same class in `re` escapes (SQLite)."""

    type = sa.Boolean()
    inherit_cache = True


@compiles(_ContainsAny)
def _contains_any(element: _ContainsAny, compiler: SQLCompiler, **kw: Any) -> str:
    col, pattern, _ = element.clauses
    return compiler.process(col.regexp_match(pattern), **kw)


@compiles(_ContainsAny, "sqlite")
def _contains_any_sqlite(element: _ContainsAny, compiler: SQLCompiler, **kw: Any) -> str:
    col, _, escaped = element.clauses
    return compiler.process(col.regexp_match(escaped), **kw)


def _escaped(char_class: str) -> str:
    """A character class of characters and ranges, every character as a Python `re` escape."""
    return "".join(ch if ch == "-" else f"\\U{ord(ch):08x}" for ch in char_class)


def char_index(alphabet: str, ch: ColumnElement[Any]) -> ColumnElement[int]:
    """1-based position of `ch` in `alphabet`, 0 if absent (case-sensitive; NULL for NULL)."""
    return _CharIndex(sa.literal(alphabet), ch)


def matches(col: ColumnElement[Any], pattern: str) -> ColumnElement[bool]:
    """`re.fullmatch(pattern, col)`; `pattern` must be in the common subset of Python re and ARE."""
    # A capturing group, not `(?:`: `sa.text` would read `:1` in `(?:1[3-9]...` as a parameter.
    anchored = _FullMatch(col, sa.literal(f"^({pattern})$"), sa.literal(f"^({pattern})\\Z"))
    return sa.func.coalesce(anchored, sa.false(), type_=sa.Boolean)


def contains(col: ColumnElement[Any], char_class: str) -> ColumnElement[bool]:
    """`re.search(f"[{char_class}]", col)`: whether any character of the class occurs (never NULL)."""
    found = col.regexp_match(f"[{char_class}]")  # both engines search: no anchors, no `.`
    return sa.func.coalesce(found, sa.false(), type_=sa.Boolean)


def contains_any(col: ColumnElement[Any], char_class: str) -> ColumnElement[bool]:
    """`contains` for a class that may hold control characters (never NUL on PostgreSQL, whose text cannot
    hold it): SQLite reads the class as `re` escapes, so NUL, CR and LF stay out of the SQL text there."""
    literal = char_class.replace("\x00", "\x01")  # a NUL-to-x range starts at U+0001
    found = _ContainsAny(col, sa.literal(f"[{literal}]"), sa.literal(f"[{_escaped(char_class)}]"))
    return sa.func.coalesce(found, sa.false(), type_=sa.Boolean)


def _never_null(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return sa.case((condition, sa.true()), else_=sa.false())


# --- text (clause G2) -----------------------------------------------------------------------------------


def strip_blanks(col: ColumnElement[Any]) -> ColumnElement[str]:
    """`checks.strip_blanks`: ltrim/rtrim with a character set exist alike in SQLite, PostgreSQL and Oracle."""
    return _StripBlanks(col, sa.literal(checks.BLANKS))


class _StripBlanks(FunctionElement[str]):
    """col, the blanks."""

    type = sa.String()
    inherit_cache = True


@compiles(_StripBlanks)
def _strip_blanks(element: _StripBlanks, compiler: SQLCompiler, **kw: Any) -> str:
    col, blanks = element.clauses
    return compiler.process(sa.func.ltrim(sa.func.rtrim(col, blanks), blanks), **kw)


@compiles(_StripBlanks, "postgresql")
def _strip_blanks_pg(element: _StripBlanks, compiler: SQLCompiler, **kw: Any) -> str:
    """Trimmed only when the first or the last character is a blank. PostgreSQL's `rtrim`/`ltrim` with a
    set of multibyte characters measure every character of the value and of the set on each call, about
    0.5 µs a value; most values have no blank at either end, and `left`/`right` and `strpos` cost less
    than half of that. Same answer for every value: an empty one (`strpos` of '' is 1) and NULL take the
    ELSE branch."""
    col, blanks = element.clauses
    # Literal numbers, not bound ones: a fresh parameter on each compile would make the SELECT's and the
    # GROUP BY's copies of one expression differ (a peer query groups by the stripped value).
    one, zero = sa.literal_column("1", sa.Integer), sa.literal_column("0", sa.Integer)
    at_ends = sa.and_(
        sa.func.strpos(blanks, sa.func.left(col, one)) == zero,
        sa.func.strpos(blanks, sa.func.right(col, one)) == zero,
    )
    trimmed = sa.func.ltrim(sa.func.rtrim(col, blanks), blanks)
    return compiler.process(sa.case((at_ends, col), else_=trimmed), **kw)


def is_blank(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """NULL or nothing but blanks: the opposite of `checks.is_given`."""
    return _never_null(sa.or_(col.is_(None), strip_blanks(col) == ""))


def is_placeholder_text(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """`checks.is_placeholder_text`: a placeholder, one repeated character, or a value holding full-width
    letters/digits, control or invisible characters, or emoji (one regular expression)."""
    return is_placeholder_core(strip_blanks(col))


def is_placeholder_core(core: ColumnElement[Any]) -> ColumnElement[bool]:
    """`is_placeholder_text` of a value already stripped of its blanks (`strip_blanks`)."""
    first = sa.func.substr(core, 1, 1, type_=sa.String)
    repeated = sa.and_(sa.func.length(core) >= 2, sa.func.replace(core, first, "") == "")
    not_text = contains_any(core, checks.FULL_WIDTH + checks.ODD_CHARS)
    return _never_null(sa.or_(core.in_(sorted(PLACEHOLDERS)), repeated, not_text))


def is_text_defect(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """Clause G2 (`checks.is_text_defect`): leading/trailing blanks or placeholder text."""
    return _never_null(sa.or_(col != strip_blanks(col), is_placeholder_text(col)))


def starts_with_province(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """Clauses E8/M2: begins with the full name of a province-level division."""
    by_length: dict[int, list[str]] = {}
    for name in PROVINCE_NAMES:
        by_length.setdefault(len(name), []).append(name)
    return _never_null(
        sa.or_(*(sa.func.substr(col, 1, n).in_(names) for n, names in sorted(by_length.items())))
    )


def is_person_name(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """Clause P1: 2-30 characters, only Chinese characters, `·`, Latin letters and spaces."""
    return matches(col, checks.PERSON_NAME)


def is_current_county(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """Clause M3: a current GB/T 2260 county-level code (an `IN` list of python-stdnum's table)."""
    return _never_null(col.in_(sorted(county_codes())))


def _char(col: ColumnElement[Any], position: int | ColumnElement[int]) -> ColumnElement[str]:
    return sa.func.substr(col, position, 1, type_=sa.String)


def _value(alphabet: str, col: ColumnElement[Any], position: int | ColumnElement[int]) -> ColumnElement[int]:
    return char_index(alphabet, _char(col, position)) - 1


def _weighted_sum(alphabet: str, col: ColumnElement[Any], weights: tuple[int, ...]) -> ColumnElement[int]:
    terms = (_value(alphabet, col, i) * w for i, w in enumerate(weights, start=1))
    return reduce(operator.add, terms)


def _number(col: ColumnElement[Any], first: int, last: int) -> ColumnElement[int]:
    """The decimal number in positions first..last (1-based, inclusive) of an all-digit value."""
    terms = (_value(DIGITS, col, p) * 10 ** (last - p) for p in range(first, last + 1))
    return reduce(operator.add, terms)


def _when_shaped(shape: ColumnElement[bool], check: ColumnElement[bool]) -> ColumnElement[bool]:
    return sa.case((shape, check), else_=sa.false())


def is_valid_uscc(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """Clause E2: 18 characters of the USCC alphabet (upper case) with the GB 32100 check character."""
    total = _weighted_sum(checks.USCC_ALPHABET, col, checks.USCC_WEIGHTS)
    check = _Mod(31 - _Mod(total, 31), 31)
    return _when_shaped(matches(col, USCC_SHAPE), _value(checks.USCC_ALPHABET, col, 18) == check)


def _is_real_date(
    year: ColumnElement[int], month: ColumnElement[int], day: ColumnElement[int]
) -> ColumnElement[bool]:
    leap = sa.or_(sa.and_(_Mod(year, 4) == 0, _Mod(year, 100) != 0), _Mod(year, 400) == 0)
    days_in_month = sa.case(
        (month == 2, sa.case((leap, 29), else_=28)),
        (month.in_([4, 6, 9, 11]), 30),
        else_=31,
    )
    return sa.and_(month.between(1, 12), day.between(1, days_in_month))


def _as_number(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def id_body(col: ColumnElement[Any]) -> ColumnElement[int]:
    """The first 17 digits of an 18-character ID number as one integer, NULL unless `col` has the shape
    of one (`ID18_SHAPE`). Given to `is_valid_mod11_id` (computed once per row, `expectations.derived`),
    it turns the check's 25 digit lookups, each a `substr` that walks the value, into integer arithmetic."""
    return sa.case((matches(col, ID18_SHAPE), sa.cast(sa.func.substr(col, 1, 17), sa.BigInteger)))


def _body_number(body: ColumnElement[int], first: int, last: int) -> ColumnElement[int]:
    """`_number` of an ID, taken from its 17-digit body (`id_body`)."""
    return _Mod(body // 10 ** (17 - last), 10 ** (last - first + 1))


def is_valid_mod11_id(
    col: ColumnElement[Any], check_date: dt.date, body: ColumnElement[int] | None = None
) -> ColumnElement[bool]:
    """An 18-character ID with a MOD 11-2 check character and a real birth date from 1900 to `check_date`.

    With `body` (`id_body(col)`, as a column computed beforehand), the digits are taken from it; without,
    each is looked up in `col` (a form that needs nothing computed beforehand)."""
    if body is None:
        number = partial(_number, col)
        total = _weighted_sum(DIGITS, col, checks.ID_WEIGHTS)
        shaped = matches(col, ID18_SHAPE)
    else:
        number = partial(_body_number, body)
        total = reduce(operator.add, (number(i, i) * w for i, w in enumerate(checks.ID_WEIGHTS, start=1)))
        shaped = body.is_not(None)
    year, month, day = number(7, 10), number(11, 12), number(13, 14)
    born = year * 10000 + month * 100 + day
    check_ok = _value(checks.ID_CHECK_CHARS, col, 18) == _Mod(total, 11)
    return _when_shaped(
        shaped,
        sa.and_(
            check_ok,
            _is_real_date(year, month, day),
            born.between(_as_number(checks.EARLIEST_BIRTH), _as_number(check_date)),
        ),
    )


def is_valid_id(
    type_col: ColumnElement[Any],
    no_col: ColumnElement[Any],
    check_date: dt.date,
    body: ColumnElement[int] | None = None,
) -> ColumnElement[bool]:
    """Clause P3: the ID number is valid for its type (codes 01-06); false for unknown types. `body`: see
    `is_valid_mod11_id`."""
    uses_mod11 = sa.or_(
        type_col == "01",
        sa.and_(type_col == "04", sa.func.substr(no_col, 1, 6).in_(checks.RESIDENCE_PERMIT_PREFIXES)),
        sa.and_(type_col == "05", _char(no_col, 1) == "9", sa.func.length(no_col) == 18),
    )
    return sa.case(
        (uses_mod11, is_valid_mod11_id(no_col, check_date, body)),
        *((type_col == code, matches(no_col, fmt.pattern)) for code, fmt in checks.ID_FORMATS.items()),
        else_=sa.false(),
    )


def is_luhn(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """`checks.luhn_ok` for all-digit values of up to 25 digits; false for anything else."""
    length = sa.func.length(col)
    total: ColumnElement[int] = sa.literal(0)
    for i in range(LUHN_MAX_DIGITS):  # i-th digit from the right, every second one doubled
        term = _value(LUHN_DOUBLED if i % 2 else DIGITS, col, length - i)
        total = total + sa.case((length > i, term), else_=0)
    return _when_shaped(matches(col, f"[0-9]{{0,{LUHN_MAX_DIGITS}}}"), _Mod(total, 10) == 0)


def is_valid_settle_account(type_col: ColumnElement[Any], col: ColumnElement[Any]) -> ColumnElement[bool]:
    """Clause M5: corporate 10-25 digits; personal 16-19 digits passing Luhn; false for other types."""
    return sa.case(
        (type_col == "corporate", matches(col, "[0-9]{10,25}")),
        (type_col == "personal", sa.and_(matches(col, "[0-9]{16,19}"), is_luhn(col))),
        else_=sa.false(),
    )


def is_valid_phone(col: ColumnElement[Any]) -> ColumnElement[bool]:
    """Clause C1: a mainland mobile number or a landline with area code."""
    return matches(col, PHONE)
