"""The record page's content: what is wrong, the values involved (masked, except on the owner's own edit
form, which is audited), the actions the viewer may take, and the to-do's history."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from expectations.checks import ID_TYPES
from expectations.contract import ENTITY_TYPES, MERCHANT_TYPES
from expectations.reference import county_codes, mcc_codes
from expectations.rulebook import Rule, Suite
from portal.auth import client_of
from portal.deps import PageNotFound, config
from portal.scoping import Viewer
from remediation.checks.corrections import (
    FieldError,
    editable_columns,
    form_value,
    masked,
    shown_columns,
    suite_and_rule,
)
from remediation.errors import AmbiguousKey, DqgovError
from remediation.masking import odd_positions
from remediation.reporting.appeal_views import appeal_history
from remediation.reporting.queries import todo_corrections, todo_detail, todo_history
from remediation.store.models import ACTIVE_STATUSES, TodoStatus
from remediation.store.source_records import read_record
from remediation.workflow.appeals import AppealStatus
from remediation.workflow.audit import audit
from remediation.workflow.evidence import MB, files_of, max_bytes


@dataclass(frozen=True)
class ValueRow:
    column: str
    shown: str | None  # masked
    editable: bool
    raw: str  # the value in clear: only for editable rows on the owner's form, else ""
    input_type: str  # text | date | number
    odd: tuple[tuple[int, str], ...] = ()  # where a number has something other than a digit: the defect
    choices: tuple[str, ...] = ()  # a coded field: the codes of the data standard, as a drop-down
    suggest: str = ""  # a code list offered while typing (a datalist): mcc | area


# coded fields of the contract: chosen from their codes, not typed
CHOICES: Mapping[str, tuple[str, ...]] = {
    "legal_rep_id_type": ID_TYPES,
    "bo_id_type": ID_TYPES,
    "settle_acct_type": ("corporate", "personal"),
    "mer_type": MERCHANT_TYPES,
    "entity_type": ENTITY_TYPES,
}
SUGGEST = {"mcc": "mcc", "biz_area_code": "area"}


def code_lists(wanted: set[str]) -> dict[str, list[str]]:
    """The reference code lists a form offers while typing: ISO 18245 MCCs, GB/T 2260 county codes."""
    lists: dict[str, list[str]] = {}
    if "mcc" in wanted:
        lists["mcc"] = sorted(mcc_codes())
    if "area" in wanted:
        lists["area"] = sorted(county_codes())
    return lists


# what identifies the record to the person fixing it, shown on its page (masked as everywhere else)
CONTEXT_COLUMNS = (
    "mer_reg_name",
    "mer_biz_name",
    "cust_name",
    "mer_type",
    "entity_type",
    "status",
    "reg_address",
    "biz_address",
    "biz_area_code",
)


def _input_type(column: str, value: Any) -> str:
    if column.endswith(("_end", "_date")):
        return "date"
    return "number" if column == "reg_capital" else "text"


def record_context(
    request: Request,
    person: Viewer,
    todo_id: int,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, list[FieldError]] | None = None,
) -> dict[str, Any]:
    cfg = config(request)
    detail = todo_detail(cfg.store, person.scope, todo_id)
    if detail is None:
        raise PageNotFound()
    row = detail.row
    owner = row.assignee_staff_id == person.staff_id
    active = row.status in ACTIVE_STATUSES
    suite: Suite | None = None
    rule: Rule | None = None
    with contextlib.suppress(KeyError, DqgovError):  # a rule gone from the YAML: still show the to-do
        suite, rule = suite_and_rule(row.table_name, row.rule_id, cfg.suites())
    editable = editable_columns(suite, rule) if suite and rule and owner and active else ()
    columns = shown_columns(suite, rule) if suite and rule else tuple(row.columns.split(";"))
    record: dict[str, Any] | None = None
    source_error = False
    ambiguous: AmbiguousKey | None = None
    try:
        record = read_record(cfg.source(), row.table_name, row.record_key)
    except AmbiguousKey as exc:  # another row carries the key: show neither, offer no form
        ambiguous = exc
    except Exception:  # the source is down or unreachable: show the stored masked values instead
        source_error = True
    values: list[ValueRow] = []
    if record is not None:
        for column in columns:
            raw = form_value(record.get(column)) if column in editable else ""
            if typed is not None and column in typed and column in editable:
                raw = typed[column]
            shown = masked(column, record.get(column), record)
            values.append(
                ValueRow(
                    column,
                    shown,
                    column in editable,
                    raw,
                    _input_type(column, record.get(column)),
                    tuple(odd_positions(column, record)),
                    CHOICES.get(column, ()),
                    SUGGEST.get(column, ""),
                )
            )
        if editable:
            audit(
                cfg.store,
                person.staff_id,
                "unmasked_view",
                table_name=row.table_name,
                record_key=row.record_key,
                detail=f"to-do {todo_id}: edit form shows {', '.join(editable)}",
                client=client_of(request),
            )
    facts = [
        (column, masked(column, record.get(column), record))
        for column in CONTEXT_COLUMNS
        if record is not None and column in record and record.get(column) not in (None, "")
    ]
    appeals = appeal_history(cfg.store, todo_id)
    pending_appeal = any(a.status == AppealStatus.PENDING for a in appeals)
    return {
        "detail": detail,
        "facts": facts,
        "code_lists": code_lists({v.suggest for v in values if v.editable and v.suggest}),
        "row": row,
        "rule": rule,
        "owner": owner,
        "active": active,
        "values": values,
        "editable": editable,
        "can_correct": bool(editable) and record is not None,
        "not_editable": owner and active and not editable,
        "can_claim": owner and row.status == TodoStatus.OPEN,
        "can_appeal": owner and active and not pending_appeal,
        "record_gone": record is None and not source_error and ambiguous is None,
        "source_error": source_error,
        "ambiguous": ambiguous,
        "errors": errors or {},
        "history": todo_history(cfg.store, todo_id),
        "appeals": appeals,
        "evidence": files_of(cfg.store, [a.id for a in appeals], person.staff_id),
        "max_evidence_mb": f"{max_bytes() / MB:g}",
        "corrections": todo_corrections(cfg.store, todo_id),
    }
