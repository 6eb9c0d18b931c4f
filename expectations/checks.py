"""Check algorithms of the data standard, in plain Python.

These are the reference implementations: the SQL predicates in `expectations.sqlchecks` must agree with
them on every input (tests compare the two), and the demo bank uses them to make valid and invalid codes.
Where python-stdnum is stricter than the standard (see domain/reference.md) we do not use it.
"""

from __future__ import annotations

import datetime as dt
import re

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
LONG_TERM = dt.date(9999, 12, 31)
EARLIEST_BIRTH = dt.date(1900, 1, 1)

_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
_ID18_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}")


def uscc_check_char(body: str) -> str:
    """The 18th character for a 17-character USCC body (GB 32100-2015)."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """18 characters of the USCC alphabet (upper case only) with a correct check character."""
    return bool(_USCC_SHAPE.fullmatch(value)) and uscc_check_char(value[:17]) == value[17]


def mod11_2_check_char(body: str) -> str:
    """The 18th character for a 17-digit ID body (GB 11643, ISO 7064 MOD 11-2)."""
    total = sum(int(ch) * w for ch, w in zip(body, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def embedded_birth_date(value: str) -> dt.date | None:
    """The date in positions 7-14 of an 18-character ID, or None when it is not a real date."""
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def is_valid_mod11_id(value: str, check_date: dt.date) -> bool:
    """An 18-character ID with a MOD 11-2 check character and a real birth date not after the check date."""
    if not _ID18_SHAPE.fullmatch(value) or mod11_2_check_char(value[:17]) != value[17]:
        return False
    born = embedded_birth_date(value)
    return born is not None and EARLIEST_BIRTH <= born <= check_date


ID_FORMATS: dict[str, re.Pattern[str]] = {
    "02": re.compile(r"[HM]([0-9]{8}|[0-9]{10})"),
    "03": re.compile(r"[0-9]{8}|[0-9]{10}"),
    "05": re.compile(r"[A-Z]{3}[0-9]{12}"),  # the 2017 format; the 2023 format is checked as MOD 11-2
    "06": re.compile(r"[A-Z0-9]{5,17}"),
}
ID_TYPES = ("01", "02", "03", "04", "05", "06")
RESIDENCE_PERMIT_PREFIXES = ("810000", "820000", "830000")


def is_valid_id(id_type: str, value: str, check_date: dt.date) -> bool:
    """Clause P3: the number is valid for its ID type (codes 01-06 of the data standard)."""
    if id_type == "01":
        return is_valid_mod11_id(value, check_date)
    if id_type == "04":
        return value.startswith(RESIDENCE_PERMIT_PREFIXES) and is_valid_mod11_id(value, check_date)
    if id_type == "05":
        if value.startswith("9") and len(value) == 18:
            return is_valid_mod11_id(value, check_date)
        return bool(ID_FORMATS["05"].fullmatch(value))
    pattern = ID_FORMATS.get(id_type)
    return pattern is not None and bool(pattern.fullmatch(value))


def luhn_ok(digits: str) -> bool:
    """The Luhn check used by bank cards; `digits` must be all digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that makes `body` + digit pass the Luhn check."""
    for d in "0123456789":
        if luhn_ok(body + d):
            return d
    raise AssertionError("unreachable")


def is_valid_phone(value: str) -> bool:
    """Clause C1: a mainland mobile number or a landline with area code."""
    return bool(_MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value))
