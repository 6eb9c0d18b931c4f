"""Masking of personal data for display (JR/T 0171-2020 conventions, domain/reference.md).

The store keeps only masked values; the unmasked value stays in the source system.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

# source column -> kind of personal data
SENSITIVE_COLUMNS: Mapping[str, str] = {
    "legal_rep_id_no": "id",
    "bo_id_no": "id",
    "contact_phone": "phone",
    "settle_acct_no": "account",
    "legal_rep_name": "name",
    "bo_name": "name",
}


def mask_first3_last4(value: str) -> str:
    """ID numbers and mobile numbers: `110***********002X`, `138****8000` (birth date always hidden)."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_account(value: str, personal: bool = True) -> str:
    if personal and len(value) > 10:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_name(value: str) -> str:
    return value[:1] + "*" if value else value


_MASKERS = {"id": mask_first3_last4, "phone": mask_first3_last4, "account": mask_account, "name": mask_name}


def mask_value(column: str, value: Any) -> str | None:
    """The value as the platform may show and store it."""
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    kind = SENSITIVE_COLUMNS.get(column)
    return _MASKERS[kind](text) if kind else text


def masked_summary(columns: tuple[str, ...], values: Mapping[str, Any], limit: int = 300) -> str:
    """`col=value; col=value` for a rule's columns, masked, for the to-do list."""
    parts = [f"{c}={mask_value(c, values.get(c)) if values.get(c) is not None else '∅'}" for c in columns]
    return "; ".join(parts)[:limit]


def value_hash(columns: Sequence[str], values: Mapping[str, Any]) -> str:
    """A fingerprint of a rule's raw values: an exemption holds only while it is unchanged."""
    raw = [None if values.get(c) is None else str(values.get(c)) for c in columns]
    return hashlib.sha256(json.dumps(raw, ensure_ascii=False).encode()).hexdigest()
