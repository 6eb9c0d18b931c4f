"""Check algorithms of the data standard, in plain Python.

These are the reference implementations: the SQL predicates in `expectations.sqlchecks` must agree with
them on every input (tests compare the two), and the demo bank uses them to make valid and invalid codes.
Where python-stdnum is stricter than the standard (see domain/reference.md) we do not use it.

Text is judged the way clause G2 reads: a value is *given* when it holds more than blanks, and the format
checks judge it without its leading/trailing blanks (the padding itself is G2's finding). `BLANKS` are
Unicode's White_Space characters plus the zero-width ones, which look like nothing on screen either.
"""

from __future__ import annotations

import datetime as dt
import re

from expectations.reference import PLACEHOLDERS, PROVINCE_NAMES, county_codes

BLANKS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u180e"
    + "".join(map(chr, range(0x2000, 0x200E)))
    + "\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)
# Full-width digits, Latin letters and the full-width space: each has a half-width form that belongs in
# its place. Full-width punctuation (，；（）) is how Chinese text is written and is not listed.
FULL_WIDTH = "０-９Ａ-Ｚａ-ｚ\u3000"
# Characters that belong in no identity datum, anywhere in a value (clause G2; the ranges are documented in
# docs/decisions.md, "Rules: interpretations of the data standard"). Regex character classes of ranges:
# control characters (Unicode Cc: C0, DEL, C1) ...
CONTROL_CHARS = "\x00-\x1f\x7f-\x9f"
# ... invisible format characters: soft hyphen, Mongolian vowel separator, zero-width space/non-joiner/
# joiner, the direction marks and embeddings, word joiner and invisible operators, isolates, BOM ...
INVISIBLE_CHARS = "\xad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
# ... and emoji: miscellaneous symbols and dingbats, the pictographs from U+1F000 (mahjong tiles to
# symbols and pictographs extended-A, regional indicators and skin tones included), the combining keycap
# and the emoji presentation selector.
EMOJI_CHARS = "\u2600-\u27bf\U0001f000-\U0001faff\u20e3\ufe0f"
ODD_CHARS = CONTROL_CHARS + INVISIBLE_CHARS + EMOJI_CHARS
# Clause P1: Chinese characters (CJK unified ideographs with extensions A-H, compatibility ideographs),
# the middle dot U+00B7, Latin letters (with the accented ones of Latin-1 and Latin Extended-A/B) and spaces.
PERSON_NAME = "[一-鿿㐀-䶿豈-﫿𠀀-𲎯·A-Za-zÀ-ÖØ-öø-ɏ ]{2,30}"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
LONG_TERM = dt.date(9999, 12, 31)
EARLIEST_BIRTH = dt.date(1900, 1, 1)

_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
_ID18_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[0-9]{2,3}-?[0-9]{7,8}")
_NOT_TEXT = re.compile(f"[{FULL_WIDTH}{ODD_CHARS}]")
_PERSON_NAME = re.compile(PERSON_NAME)
_CORPORATE_ACCOUNT = re.compile(r"[0-9]{10,25}")
_CARD_ACCOUNT = re.compile(r"[0-9]{16,19}")


# --- text (clause G2) -----------------------------------------------------------------------------------


def strip_blanks(value: str) -> str:
    return value.strip(BLANKS)


def is_given(value: object) -> bool:
    """Not NULL and not only blanks: what `required` asks for."""
    return value is not None and not (isinstance(value, str) and strip_blanks(value) == "")


def is_one_repeated_char(value: str) -> bool:
    """Two or more characters, all the same (`***`, `0000`). A single character repeats nothing."""
    return len(value) >= 2 and value.replace(value[0], "") == ""


def is_placeholder_text(value: str) -> bool:
    """A placeholder of clause G2, a string of one repeated character, or a value holding full-width
    letters/digits/space, control or invisible characters, or emoji (`FULL_WIDTH`, `ODD_CHARS`).

    Judged without leading/trailing blanks: a padded placeholder is a placeholder. Every other check
    passes such a value (`judged_text`): it is clause G2's finding alone.
    """
    core = strip_blanks(value)
    return core in PLACEHOLDERS or is_one_repeated_char(core) or bool(_NOT_TEXT.search(core))


def is_text_defect(value: str) -> bool:
    """Clause G2: leading/trailing blanks, or placeholder text (see `is_placeholder_text`), which includes
    control characters (ESC, BEL, CR, LF, TAB … inside the value), zero-width characters and emoji."""
    return value != strip_blanks(value) or is_placeholder_text(value)


def judged_text(value: object) -> str | None:
    """The text a format check judges: without leading/trailing blanks; None when the value is missing
    or is placeholder text, which clause G2's rule reports on its own (one defect, one to-do)."""
    if not is_given(value):
        return None
    text = strip_blanks(str(value))
    return None if is_placeholder_text(text) else text


def starts_with_province(value: str) -> bool:
    """Clauses E8/M2: begins with the full name of a province-level division (江西省, 广西壮族自治区, …)."""
    return value.startswith(PROVINCE_NAMES)


def is_person_name(value: str) -> bool:
    """Clause P1: 2-30 characters, only Chinese characters, `·`, Latin letters and spaces."""
    return bool(_PERSON_NAME.fullmatch(value))


def is_current_county(value: str) -> bool:
    """Clause M3: a current GB/T 2260 county-level code (python-stdnum's table)."""
    return value in county_codes()


def is_valid_settle_account(acct_type: str, number: str) -> bool:
    """Clause M5: corporate 10-25 digits; personal 16-19 digits passing Luhn; false for other types."""
    if acct_type == "corporate":
        return bool(_CORPORATE_ACCOUNT.fullmatch(number))
    if acct_type == "personal":
        return bool(_CARD_ACCOUNT.fullmatch(number)) and luhn_ok(number)
    return False


# --- codes ------------------------------------------------------------------------------------------------


def uscc_check_char(body: str) -> str:
    """The 18th character for a 17-character USCC body (GB 32100-2015)."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """18 characters of the USCC alphabet (upper case only) with a correct check character."""
    return bool(_USCC_SHAPE.fullmatch(value)) and uscc_check_char(value[:17]) == value[17]


def org_code_check_char(body: str) -> str:
    """The 9th character for an 8-character organisation code body (GB 11714; positions 9-17 of a USCC)."""
    total = sum(int(ch, 36) * w for ch, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


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
