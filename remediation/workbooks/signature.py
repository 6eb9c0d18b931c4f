"""The signature that ties a returned workbook to what was issued.

A workbook carries its issue (id, for whom, which scope, when) on a hidden sheet, signed with a key
derived from the store's value-hash key chain (`remediation.store.hashkey`), and every to-do row carries a
tag binding its key columns to that issue. Only the platform holds the key, so a file it did not issue,
or a row whose to-do, record, rule or fields were changed, fails the check. A file issued before a key
rotation still verifies: every key of the chain is tried.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from remediation.store.hashkey import KeyChain, current_chain

_LABEL = b"dqgov to-do workbook signature v1"
ROW_TAG_CHARS = 24


@dataclass(frozen=True)
class Issue:
    issue_id: str
    staff_id: str | None  # the account manager's workbook, or None
    inst_code: str | None  # the institution's workbook (its subtree), or None
    issued_at: str  # ISO instant, UTC
    issued_by: str
    rows: int

    @property
    def scope(self) -> str:
        return f"staff:{self.staff_id}" if self.staff_id else f"inst:{self.inst_code}"


def _derived(key: bytes) -> bytes:
    return hmac.digest(key, _LABEL, "sha256")


def _mac(derived: bytes, body: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.digest(derived, body, "sha256")).decode().rstrip("=")


def _issue_body(issue: Issue) -> bytes:
    return json.dumps(asdict(issue), sort_keys=True, ensure_ascii=False).encode()


def _row_body(issue_id: str, cells: Sequence[object]) -> bytes:
    return json.dumps([issue_id, *("" if c is None else str(c) for c in cells)], ensure_ascii=False).encode()


class Signer:
    """Signs with the chain's newest key; verifies with any key of the chain."""

    def __init__(self, chain: KeyChain | None = None) -> None:
        self.chain = chain or current_chain()
        self.keys = tuple(_derived(k) for k in self.chain.keys)  # the chain's keys, for this purpose only

    def sign_issue(self, issue: Issue) -> str:
        return _mac(self.keys[-1], _issue_body(issue))

    def issue_holds(self, issue: Issue, signature: str) -> bool:
        body = _issue_body(issue)
        return any(hmac.compare_digest(_mac(k, body), signature) for k in self.keys)

    def row_tag(self, issue_id: str, cells: Sequence[object]) -> str:
        return _mac(self.keys[-1], _row_body(issue_id, cells))[:ROW_TAG_CHARS]

    def row_holds(self, issue_id: str, cells: Sequence[object], tag: str) -> bool:
        body = _row_body(issue_id, cells)
        return any(hmac.compare_digest(_mac(k, body)[:ROW_TAG_CHARS], tag) for k in self.keys)
