"""Masking of personal data for display (JR/T 0171-2020 conventions, domain/reference.md).

The store keeps only masked values; the unmasked value stays in the source system.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from remediation.store.hashkey import KeyChain, current_chain

# source column -> kind of personal data (names: see `is_person_name`, which decides per record)
SENSITIVE_COLUMNS: Mapping[str, str] = {
    "legal_rep_id_no": "id",
    "bo_id_no": "id",
    "contact_phone": "phone",
    "settle_acct_no": "account",
    "legal_rep_name": "name",
    "bo_name": "name",
}
# merchant types whose registered name is a business's, not a natural person's (clause M4, JR/T 0171)
BUSINESS_MERCHANT_TYPES = frozenset({"enterprise", "individual"})


def is_person_name(column: str, record: Mapping[str, Any]) -> bool:
    """Whether `column` of this record holds a natural person's name (masked as surname + `*`).

    The legal representative and the beneficial owner always; a merchant's registered name unless the
    record is an `enterprise` or `individual` merchant (a `micro` merchant is registered under its
    operator's name); the settlement account's holder unless the account is `corporate` and the merchant a
    business. The record's own type columns decide, as stored: a missing or unknown type means a person.
    """
    if SENSITIVE_COLUMNS.get(column) == "name":
        return True
    business = record.get("mer_type") in BUSINESS_MERCHANT_TYPES
    if column == "mer_reg_name":
        return not business
    if column == "settle_acct_name":
        return not (business and record.get("settle_acct_type") == "corporate")
    return False


def _hide_digits(value: str) -> str:
    """Digits become `*`; anything else in a number (a letter, a blank, a dash) is the defect, and shows."""
    return "".join("*" if ch.isdigit() else ch for ch in value)


def mask_first3_last4(value: str) -> str:
    """ID numbers and mobile numbers: `110***********002X`, `138****8000` (birth date always hidden). A
    character that is not a digit stays in its place (`157O***2075`): it is what makes the value wrong."""
    if len(value) <= 7:
        return _hide_digits(value)
    return value[:3] + _hide_digits(value[3:-4]) + value[-4:]


def mask_account(value: str, personal: bool = True) -> str:
    if personal and len(value) > 10:
        return value[:6] + _hide_digits(value[6:-4]) + value[-4:]
    return _hide_digits(value[:-4]) + value[-4:] if len(value) > 4 else value


def odd_positions(column: str, record: Mapping[str, Any]) -> list[tuple[int, str]]:
    """(1-based position, character) of what is not a digit in a phone, an account or a resident ID
    number (type 01): where the defect is, safe to show. An 18-digit ID's final check character `X` is
    not odd; other ID types may carry letters, so they have no odd positions."""
    kind = SENSITIVE_COLUMNS.get(column)
    value = record.get(column)
    if value is None or kind not in ("id", "phone", "account"):
        return []
    if kind == "id" and record.get(column.removesuffix("_no") + "_type") != "01":
        return []
    text = str(value)
    return [
        (i, ch)
        for i, ch in enumerate(text, start=1)
        if not ch.isdigit() and not (kind == "id" and i == 18 and ch in "Xx")
    ]


def mask_name(value: str) -> str:
    return value[:1] + "*" if value else value


def mask_value(column: str, value: Any, record: Mapping[str, Any] | None = None) -> str | None:
    """The value of `column` as the platform may show and store it, judged within its `record`.

    Without the record, names that depend on the record's type are masked, and an account number is
    masked as a corporate one (last 4 only). Every display path outside the owner's edit form uses this.
    """
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    record = record if record is not None else {}
    if is_person_name(column, record):
        return mask_name(text)
    kind = SENSITIVE_COLUMNS.get(column)
    if kind == "account":
        return mask_account(text, personal=record.get("settle_acct_type") == "personal")
    return _MASKERS[kind](text) if kind else text


_MASKERS = {"id": mask_first3_last4, "phone": mask_first3_last4}


def masked_summary(columns: tuple[str, ...], values: Mapping[str, Any], limit: int = 300) -> str:
    """`col=value; col=value` for a rule's columns, masked within the record `values`, for the to-do list."""
    parts = [
        f"{c}={mask_value(c, values.get(c), values) if values.get(c) is not None else '∅'}" for c in columns
    ]
    return "; ".join(parts)[:limit]


def value_hash(columns: Sequence[str], values: Mapping[str, Any], chain: KeyChain | None = None) -> str:
    """A keyed fingerprint of a rule's raw values: an exemption holds only while it is unchanged.

    HMAC-SHA-256 of the values' SHA-256, folded through the key chain (`remediation.store.hashkey`; by default
    the one this process is configured with): without the key, trying every value that fits the mask
    shown next to it finds nothing.
    """
    raw = [None if values.get(c) is None else str(values.get(c)) for c in columns]
    digest = hashlib.sha256(json.dumps(raw, ensure_ascii=False).encode()).digest()
    return (chain or current_chain()).hash(digest)


_SUMMARY_PART = re.compile(r"(?:^|(?<=; ))([a-z][a-z0-9_]*)=")
_NAME_IN_TEXT = re.compile(r"(?<![a-z0-9_])(mer_reg_name|settle_acct_name|legal_rep_name|bo_name)=([^;\n]*)")


def _summary_parts(text: str) -> list[tuple[str, int, int]]:
    """(column, start, end) of each value in a `col=value; col=value` summary."""
    marks = list(_SUMMARY_PART.finditer(text))
    ends = [m.start() - 2 for m in marks[1:]] + [len(text)]
    return [(m.group(1), m.end(), end) for m, end in zip(marks, ends, strict=True)]


def remask_summary(text: str) -> str:
    """A stored `col=value; …` summary with every natural person's name masked.

    The types the summary itself shows decide (`is_person_name`); a summary that does not show them is
    masked as a person's. For values stored before names were masked by type.
    """
    parts = _summary_parts(text)
    record = {column: text[start:end] for column, start, end in parts}
    out, pos = [], 0
    for column, start, end in parts:
        value = text[start:end]
        if value != "∅" and is_person_name(column, record):
            value = mask_name(value)
        out.append(text[pos:start] + value)
        pos = end
    return "".join(out) + text[pos:]


def remask_text(text: str) -> str:
    """Free text (a digest) with the value after every `mer_reg_name=` or `settle_acct_name=` masked as a
    person's name: without the record's types, the safe reading."""
    return _NAME_IN_TEXT.sub(
        lambda m: f"{m.group(1)}={m.group(2) if m.group(2) == '∅' else mask_name(m.group(2))}", text
    )
