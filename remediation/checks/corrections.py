"""Fix in place: a correction typed by the to-do's assignee, validated with the same rules, written back,
then re-checked at once.

1. Only the assignee of an active to-do may correct it, and only the columns of its rule (never the key,
   status, institution or manager: those are not data corrections).
2. The new values are judged by `expectations.compiler.python_failures` over the whole record with the new
   values: the same rules as the daily SQL. The correction is refused, field by field with each rule's
   description and hint, when the to-do's own rule still fails, or when a rule on a changed column fails
   now that passed before. Nothing is written on a refusal.
3. An accepted correction goes to the source through the write-back adapter (remediation/checks/writeback.py),
   a `dq_correction` row and a to-do event record it (with masked values only: the store never holds
   personal data in clear), and then:
   - adapter `update`: `verification.recheck_record` checks the record at once; the to-do closes as
     *fixed* when it passes (closure is proven by data, not by the click);
   - adapter `outbox`: the to-do waits as *pending verification* until a check sees the new values.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from expectations.compiler import python_failures
from expectations.contract import RECORD_TABLES
from expectations.kinds import CheckContext, load_peers
from expectations.rulebook import Rule, Suite
from remediation.checks.rules import rules_of
from remediation.checks.verification import claim_fixed, recheck_record
from remediation.checks.writeback import NOT_WRITABLE, WriteBack, WriteBackError
from remediation.clock import now, today_shanghai
from remediation.errors import AmbiguousKey, InvalidState, NotFound
from remediation.lifecycle import Lifecycle
from remediation.masking import is_person_name, mask_value
from remediation.store.models import ACTIVE_STATUSES, Staff, Todo, TodoStatus
from remediation.store.source_records import read_record
from remediation.store.workflow_models import Correction
from remediation.workflow.actions import add_event, lock_todo, require_assignee, transaction
from remediation.workflow.audit import audit


@dataclass(frozen=True)
class FieldError:
    column: str
    rule_id: str | None  # None: the value could not be read (see `code`)
    description: str = ""
    hint: str = ""
    code: str = "rule"  # rule | date | number


@dataclass(frozen=True)
class CorrectionOutcome:
    status: str  # refused | write_failed | verified | still_failing | queued
    errors: dict[str, list[FieldError]] = field(default_factory=dict)
    correction_id: int | None = None
    todo_status: str | None = None
    failing_rules: tuple[str, ...] = ()
    detail: str = ""


def suite_and_rule(table: str, rule_id: str, suites: list[Suite] | None = None) -> tuple[Suite, Rule]:
    suite = rules_of(table, suites)
    return suite, suite.rule(rule_id)


def editable_columns(suite: Suite, rule: Rule) -> tuple[str, ...]:
    """The columns a correction of this rule may change."""
    return tuple(c for c in rule.columns if c != suite.key and c not in NOT_WRITABLE)


def shown_columns(suite: Suite, rule: Rule) -> tuple[str, ...]:
    """The values involved: the rule's columns, those its `when` reads, and columns its check compares with."""
    cols = [*rule.columns, *rule.when]
    cols += [v for k, v in rule.params.items() if k.endswith("column") and isinstance(v, str)]
    return tuple(dict.fromkeys(c for c in cols if c in RECORD_TABLES[suite.table].c))


def masked(
    column: str, value: Any, record: Mapping[str, Any], before: Mapping[str, Any] | None = None
) -> str | None:
    """A value as it may be shown outside the owner's edit form, judged within its record.

    With `before` (the record before a correction), a name is masked if either version says it is a
    person's: correcting the record's type never unmasks the name it came with.
    """
    if before is not None and is_person_name(column, before):
        record = before
    return mask_value(column, value, record)


def form_value(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def parse_changes(
    table: str, raw: Mapping[str, str], editable: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, list[FieldError]]]:
    """Form text to column values: an empty field is NULL; dates are YYYY-MM-DD; text is taken as typed."""
    contract = RECORD_TABLES[table]
    values: dict[str, Any] = {}
    errors: dict[str, list[FieldError]] = {}
    for column in editable:
        if column not in raw:
            continue
        text = raw[column]
        kind = contract.c[column].type
        if isinstance(kind, sa.Date):
            try:
                values[column] = dt.date.fromisoformat(text.strip()) if text.strip() else None
            except ValueError:
                errors[column] = [FieldError(column, None, code="date")]
        elif isinstance(kind, sa.Numeric):
            try:
                values[column] = Decimal(text.strip()) if text.strip() else None
            except InvalidOperation:
                errors[column] = [FieldError(column, None, code="number")]
        else:
            values[column] = text if text != "" else None
    return values, errors


def _context(
    store: sa.Engine, source: sa.Engine, suite: Suite, changed: set[str], day: dt.date
) -> CheckContext:
    with store.connect() as conn:
        active = frozenset(conn.scalars(sa.select(Staff.staff_id).where(Staff.active.is_(True))))
    peers = {}
    with source.connect() as conn:
        for rule in suite.rules:
            if rule.kind == "unique_among_in_scope" and rule.columns[0] in changed:
                peers[(suite.table, rule.columns[0])] = load_peers(conn, rule)
    return CheckContext(check_date=day, active_staff=active, peers=peers)


def validate_changes(
    store: sa.Engine,
    source: sa.Engine,
    suite: Suite,
    rule: Rule,
    record: Mapping[str, Any],
    changes: Mapping[str, Any],
    day: dt.date,
) -> tuple[dict[str, list[FieldError]], set[str]]:
    """(errors per column, every rule the record would still fail) for the record with `changes` applied."""
    changed = {c for c, v in changes.items() if v != record.get(c)}
    ctx = _context(store, source, suite, changed, day)
    before, after = python_failures(suite, [dict(record), {**record, **changes}], ctx)
    errors: dict[str, list[FieldError]] = {}
    for other in suite.rules:
        if other.id not in after:
            continue
        own = other.id == rule.id
        broken = other.id not in before and bool(changed & set(other.columns))
        if not (own or broken):
            continue
        targets = [c for c in other.columns if c in changes] or [rule.columns[0]]
        for column in targets:
            errors.setdefault(column, []).append(FieldError(column, other.id, other.description, other.hint))
    return errors, after


def submit_correction(
    store: sa.Engine,
    source: sa.Engine,
    todo_id: int,
    staff_id: str,
    raw: Mapping[str, str],
    writeback: WriteBack,
    *,
    check_date: dt.date | None = None,
    client: str | None = None,
    suites: list[Suite] | None = None,
    lifecycle: Lifecycle | None = None,
) -> CorrectionOutcome:
    """Validate, write back, record and re-check one correction (see the module docstring)."""
    day = check_date or today_shanghai()
    with store.connect() as conn:
        todo = conn.execute(sa.select(Todo).where(Todo.id == todo_id)).first()
    if todo is None:
        raise NotFound(f"there is no to-do {todo_id}", code="todo_not_found", todo=todo_id)
    require_assignee(todo, staff_id, "correct it")
    if todo.status not in ACTIVE_STATUSES:
        raise InvalidState(
            f"to-do {todo_id} is {todo.status}: there is nothing left to correct",
            code="nothing_to_correct",
            todo=todo_id,
        )
    suite, rule = suite_and_rule(todo.table_name, todo.rule_id, suites)
    editable = editable_columns(suite, rule)
    changes, errors = parse_changes(suite.table, raw, editable)
    try:
        record = read_record(source, suite.table, todo.record_key)
    except AmbiguousKey as exc:
        _refused_ambiguous(store, staff_id, todo, exc, client)
        raise
    if record is None:
        raise NotFound(
            f"{suite.table} {todo.record_key} is not in the source any more",
            code="record_gone",
            table=suite.table,
            key=todo.record_key,
        )
    if not errors:
        errors, _ = validate_changes(store, source, suite, rule, record, changes, day)
    if errors:
        failing = sorted({e.rule_id or e.code for errs in errors.values() for e in errs})
        audit(
            store,
            staff_id,
            "correction_refused",
            table_name=suite.table,
            record_key=todo.record_key,
            detail=f"to-do {todo_id}: {', '.join(sorted(errors))} fail {', '.join(failing)}",
            client=client,
        )
        return CorrectionOutcome("refused", errors, todo_status=todo.status, failing_rules=tuple(failing))
    changed = {c: v for c, v in changes.items() if v != record.get(c)}
    shown = {c: masked(c, v, {**record, **changes}, record) for c, v in changed.items()}
    before = {c: masked(c, record.get(c), record) for c in changed}
    try:
        reference = (
            writeback.write(suite.table, todo.record_key, changed, staff_id) if changed else "no change"
        )
    except AmbiguousKey as exc:  # a second row appeared since the record was read
        _refused_ambiguous(store, staff_id, todo, exc, client)
        raise
    except WriteBackError as exc:
        correction_id = _record(store, todo, staff_id, shown, before, "write_failed", str(exc))
        audit(
            store,
            staff_id,
            "correction_failed",
            table_name=suite.table,
            record_key=todo.record_key,
            detail=f"correction {correction_id}: {exc}",
            client=client,
        )
        return CorrectionOutcome(
            "write_failed", correction_id=correction_id, todo_status=todo.status, detail=str(exc)
        )
    correction_id = _record(store, todo, staff_id, shown, before, "written", reference)
    audit(
        store,
        staff_id,
        "correction",
        table_name=suite.table,
        record_key=todo.record_key,
        detail=f"correction {correction_id} of to-do {todo_id} ({writeback.name}): "
        f"{', '.join(sorted(changed)) or 'no change'}",
        client=client,
    )
    if not writeback.immediate:
        if todo.status == TodoStatus.OPEN:
            claim_fixed(store, todo_id, staff_id, f"correction {correction_id} sent to the source system")
        return CorrectionOutcome(
            "queued",
            correction_id=correction_id,
            todo_status=TodoStatus.PENDING_VERIFICATION.value,
            detail=reference,
        )
    summary = recheck_record(
        source, store, suite.table, todo.record_key, day, suites=suites, lifecycle=lifecycle
    )
    status_now = next((t.status for t in summary.todos if t.id == todo_id), None)
    verified = status_now == TodoStatus.FIXED
    outcome = "verified" if verified else "still_failing"
    with store.begin() as conn:
        conn.execute(
            sa.update(Correction)
            .where(Correction.id == correction_id)
            .values(status=outcome, detail=f"{reference}; re-check run {summary.run_id}")
        )
    return CorrectionOutcome(
        outcome, correction_id=correction_id, todo_status=status_now, failing_rules=summary.failing_rules
    )


def _refused_ambiguous(
    store: sa.Engine, staff_id: str, todo: Any, exc: AmbiguousKey, client: str | None
) -> None:
    audit(
        store,
        staff_id,
        "correction_refused",
        table_name=todo.table_name,
        record_key=todo.record_key,
        detail=f"to-do {todo.id}: {exc.rows} source rows share the key",
        client=client,
    )


def _record(
    store: sa.Engine,
    todo: Any,
    staff_id: str,
    shown: Mapping[str, Any],
    before: Mapping[str, Any],
    status: str,
    detail: str,
) -> int:
    """The dq_correction row and the to-do's event ("correction 3: uscc: 9136…X → 9136…B"), in one
    transaction; the values, before and after, are masked."""
    at = now()
    with transaction(store) as conn:
        lock_todo(conn, todo.id)
        correction_id = int(
            conn.execute(
                sa.insert(Correction)
                .values(
                    todo_id=todo.id,
                    table_name=todo.table_name,
                    record_key=todo.record_key,
                    changes=json.dumps(dict(shown), ensure_ascii=False),
                    status=status,
                    staff_id=staff_id,
                    created_at=at,
                    detail=detail[:2000],
                )
                .returning(Correction.id)
            ).scalar_one()
        )
        event = "corrected" if status == "written" else "correction_failed"
        changed = "; ".join(f"{c}: {before.get(c) or '—'} → {shown[c] or '—'}" for c in sorted(shown))
        add_event(
            conn,
            todo.id,
            staff_id,
            event,
            todo.status,
            todo.status,
            f"correction {correction_id}: {changed or 'no change'}",
            at,
        )
    return correction_id
