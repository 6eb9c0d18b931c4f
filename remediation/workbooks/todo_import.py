"""A returned to-do workbook, read and judged: refused whole, or previewed row by row.

Refused whole (`WorkbookRefused`, naming sheet, row and column; nothing is read further and nothing
changes): a file that is not a plain .xlsx or is too big or a zip bomb (`safety.py`), a sheet that is
not ours, a missing or wrong signature, a changed header or key column, a formula in any cell, a row for
a to-do that is not the importer's own. Otherwise every row with a typed value is judged with the same
rules as the portal's correction form (`remediation.checks.corrections`) and marked accepted or rejected
with the reason per field; rows of to-dos closed since, or applied from this file before, are set aside.
The file is read in streaming mode, a chunk of rows at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from expectations.rulebook import Suite, load_suites
from remediation.checks.corrections import (
    FieldError,
    editable_columns,
    parse_changes,
    suite_and_rule,
    validate_changes,
)
from remediation.errors import AmbiguousKey, DqgovError
from remediation.masking import mask_value
from remediation.store.models import ACTIVE_STATUSES, Todo
from remediation.store.source_records import read_record
from remediation.store.workflow_models import WorkbookImport
from remediation.workbooks.layout import (
    COLUMNS,
    FIELD_SLOTS,
    HEADERS,
    INDEX,
    SHEETS,
    SIGNATURE_SHEET,
    TODO_SHEET,
    fields_of,
    key_cells,
    where,
)
from remediation.workbooks.safety import WorkbookRefused, check_file
from remediation.workbooks.signature import Issue, Signer
from remediation.workbooks.todo_export import SIGNATURE_FIELDS

CHUNK = 1000


@dataclass
class RowResult:
    row: int
    todo_id: int
    table: str
    record_key: str
    rule_id: str
    typed: dict[str, str]  # field -> the text typed (clear: the importer's own record)
    status: str  # accepted | rejected | closed | applied_before; after --apply the correction's outcome
    reasons: dict[str, list[str]] = field(default_factory=dict)  # field -> why it was rejected
    detail: str = ""

    def shown(self) -> dict[str, str]:
        """The typed values masked, for screens and logs."""
        return {c: mask_value(c, v) or "" for c, v in self.typed.items()}


@dataclass
class Preview:
    issue: Issue
    rows: list[RowResult]
    blank: int  # rows with nothing typed

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)


def _refuse(row: int, column: str | None, reason: str, reason_zh: str) -> WorkbookRefused:
    return WorkbookRefused(where(TODO_SHEET, row, column), reason, reason_zh)


def _text(value: Any) -> str:
    """A cell as the correction form would have received it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_issue(book: Any, signer: Signer) -> Issue:
    names = list(book.sheetnames)
    for name in names:
        if name not in SHEETS:
            raise WorkbookRefused(
                f"sheet {name}",
                "this sheet is not part of the workbook the platform issued",
                "该工作表不是平台导出工作簿的一部分",
            )
    for name in SHEETS:
        if name not in names:
            raise WorkbookRefused(
                f"sheet {name}",
                "the sheet is missing: not a workbook the platform issued",
                "缺少该工作表，不是平台导出的工作簿",
            )
    pairs: dict[str, Any] = {}
    for row in book[SIGNATURE_SHEET].iter_rows(min_row=1, max_col=2, values_only=True):
        if row and row[0] is not None:
            pairs[str(row[0])] = row[1] if len(row) > 1 else None
    try:
        issue = Issue(
            issue_id=str(pairs["issue_id"]),
            staff_id=str(pairs["staff_id"]) if pairs.get("staff_id") else None,
            inst_code=str(pairs["inst_code"]) if pairs.get("inst_code") else None,
            issued_at=str(pairs["issued_at"]),
            issued_by=str(pairs["issued_by"]),
            rows=int(pairs["rows"]),
        )
        signature = str(pairs["signature"])
    except (KeyError, TypeError, ValueError):
        issue, signature = None, ""
    if (
        issue is None
        or set(pairs) != {*SIGNATURE_FIELDS, "signature"}
        or not signer.issue_holds(issue, signature)
    ):
        raise WorkbookRefused(
            f"sheet {SIGNATURE_SHEET}",
            "the signature is missing or wrong: "
            "this is not a workbook the platform issued, or it was altered",
            "签名缺失或不符：该文件不是平台导出的工作簿，或已被改动",
        )
    return issue


def _rows(sheet: Any) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of the to-do sheet after checking the header; refuses formula cells."""
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        values: list[Any] = []
        for index, cell in enumerate(cells):
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")):
                column = COLUMNS[index].name if index < len(COLUMNS) else None
                place = where(TODO_SHEET, number, column) if column else f"sheet {TODO_SHEET}, row {number}"
                raise WorkbookRefused(
                    place, "formulas are not accepted: type the value itself", "不接受公式，请直接填写值"
                )
            values.append(value)
        extra = [v for v in values[len(COLUMNS) :] if v not in (None, "")]
        if extra:
            raise WorkbookRefused(
                f"sheet {TODO_SHEET}, row {number}",
                "a value right of the last column",
                "最后一列右侧有内容，请勿增加列",
            )
        values = (values + [None] * len(COLUMNS))[: len(COLUMNS)]
        if number == 1:
            for spec, text, got in zip(COLUMNS, HEADERS, values, strict=True):
                if got != text:
                    raise _refuse(
                        1,
                        spec.name,
                        "the header was changed: columns must stay as issued",
                        "表头被改动，请勿增删或移动列",
                    )
            continue
        if any(v not in (None, "") for v in values):
            yield number, values


def _chunks(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[list[tuple[int, list[Any]]]]:
    chunk: list[tuple[int, list[Any]]] = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Judge:
    """Judges rows against the store and the source, one chunk at a time."""

    def __init__(
        self,
        store: sa.Engine,
        source: sa.Engine,
        staff_id: str,
        issue: Issue,
        signer: Signer,
        suites: list[Suite] | None,
        check_date: dt.date,
    ) -> None:
        self.store, self.source, self.staff_id, self.issue = store, source, staff_id, issue
        self.signer, self.suites, self.day = signer, suites, check_date

    def chunk(self, rows: Sequence[tuple[int, list[Any]]]) -> tuple[list[RowResult], int]:
        ids = {v[INDEX["todo_id"]] for _, v in rows if isinstance(v[INDEX["todo_id"]], int)}
        with self.store.connect() as conn:
            todos = {t.id: t for t in conn.execute(sa.select(Todo).where(Todo.id.in_(sorted(ids))))}
            applied = set(
                conn.scalars(
                    sa.select(WorkbookImport.todo_id).where(
                        WorkbookImport.issue_id == self.issue.issue_id,
                        WorkbookImport.todo_id.in_(sorted(ids)),
                    )
                )
            )
        results, blank = [], 0
        for number, values in rows:
            todo = self._issued_todo(number, values, todos)
            typed = self._typed(number, values)
            if not typed:
                blank += 1
                continue
            self._own(number, todo)
            result = RowResult(
                number, todo.id, todo.table_name, todo.record_key, todo.rule_id, typed, "accepted"
            )
            if todo.status not in ACTIVE_STATUSES:
                result.status, result.detail = (
                    "closed",
                    f"to-do {todo.id} is {todo.status}: nothing to correct",
                )
            elif todo.id in applied:
                result.status, result.detail = "applied_before", "applied from this workbook before"
            else:
                self._validate(result)
            results.append(result)
        return results, blank

    def _issued_todo(self, number: int, values: list[Any], todos: dict[int, Any]) -> Any:
        keys = key_cells(values)
        todo = todos.get(values[INDEX["todo_id"]])
        if not self.signer.row_holds(self.issue.issue_id, keys, _text(values[INDEX["tag"]])):
            raise _refuse(
                number,
                self._changed_column(values, todo),
                "a key column was changed or the row was not issued in this workbook",
                "关键列被改动，或该行不是本工作簿导出的",
            )
        if todo is None:
            raise _refuse(number, "todo_id", "the to-do no longer exists", "该待办已不存在")
        return todo

    def _own(self, number: int, todo: Any) -> None:
        """A typed row must be the importer's own to-do (untyped rows of others are left alone)."""
        if todo.assignee_staff_id != self.staff_id:
            raise _refuse(
                number,
                "assignee",
                f"to-do {todo.id} is assigned to {todo.assignee_staff_id or 'nobody'}, not "
                f"{self.staff_id}: only its assignee may correct it",
                f"待办 {todo.id} 属于 {todo.assignee_staff_id or '无人'}，不是 {self.staff_id}；"
                "只能更正本人名下的待办",
            )

    def _changed_column(self, values: list[Any], todo: Any) -> str:
        if todo is None:
            return "todo_id"
        for name, now in (
            ("table", todo.table_name),
            ("record_key", todo.record_key),
            ("rule_id", todo.rule_id),
        ):
            if _text(values[INDEX[name]]) != now:
                return name
        try:
            suite, rule = suite_and_rule(todo.table_name, todo.rule_id, self.suites)
            fields = fields_of(suite, rule)
        except (KeyError, DqgovError, ValueError):
            return "rule_id"
        for n in range(1, FIELD_SLOTS + 1):
            if _text(values[INDEX[f"field_{n}"]]) != (fields[n - 1] if n <= len(fields) else ""):
                return f"field_{n}"
        return "tag"

    def _typed(self, number: int, values: list[Any]) -> dict[str, str]:
        typed: dict[str, str] = {}
        for n in range(1, FIELD_SLOTS + 1):
            column, text = _text(values[INDEX[f"field_{n}"]]), _text(values[INDEX[f"value_{n}"]]).strip()
            if text and not column:
                raise _refuse(
                    number,
                    f"value_{n}",
                    "a value where the row has no field to correct",
                    "该行此处没有可更正的字段",
                )
            if text:
                typed[column] = text
        return typed

    def _validate(self, result: RowResult) -> None:
        suite, rule = suite_and_rule(result.table, result.rule_id, self.suites)
        changes, errors = parse_changes(suite.table, result.typed, editable_columns(suite, rule))
        try:
            record = read_record(self.source, suite.table, result.record_key)
        except AmbiguousKey as exc:
            result.status, result.detail = "rejected", str(exc)
            return
        if record is None:
            result.status, result.detail = (
                "rejected",
                f"{suite.table} {result.record_key} is not in the source",
            )
            return
        if not errors:
            errors, _ = validate_changes(self.store, self.source, suite, rule, record, changes, self.day)
        if errors:
            result.status = "rejected"
            result.reasons = {c: [reason(e) for e in errs] for c, errs in errors.items()}


def reason(error: FieldError) -> str:
    if error.code == "date":
        return "日期须写成 YYYY-MM-DD（date as YYYY-MM-DD）"
    if error.code == "number":
        return "须为数字（a number）"
    return f"{error.rule_id}：{error.description}。{error.hint}".rstrip("。") + "。"


def judge_workbook(
    path: Path,
    store: sa.Engine,
    source: sa.Engine,
    staff_id: str,
    *,
    check_date: dt.date,
    suites: list[Suite] | None = None,
    name: str | None = None,
) -> Preview:
    """The preview of a returned workbook, or `WorkbookRefused`; changes nothing."""
    from openpyxl import load_workbook

    check_file(path, name)
    signer = Signer()
    try:
        book = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception:  # openpyxl raises many kinds on a damaged file; none is the user's to read
        raise WorkbookRefused(
            f"file {name or path.name}",
            "the workbook cannot be read (damaged?)",
            "无法读取该工作簿（文件可能已损坏）",
        ) from None
    try:
        issue = read_issue(book, signer)
        suites = suites if suites is not None else load_suites()  # read once, not once per row
        judge = Judge(store, source, staff_id, issue, signer, suites, check_date)
        rows: list[RowResult] = []
        blank = 0
        for chunk in _chunks(_rows(book[TODO_SHEET])):
            results, empty = judge.chunk(chunk)
            rows += results
            blank += empty
    finally:
        book.close()
    return Preview(issue, rows, blank)
