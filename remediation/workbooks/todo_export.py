"""The to-do workbook of an account manager or an institution (its subtree), written in streaming mode.

Reads never write: the export changes nothing in the store. What was issued is carried by the file
itself, signed (`signature.py`), so a returned file can be matched to it without a record of the issue.
Rows are sorted by record type and rule, so each drop-down covers one block of rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from expectations.contract import PRIMARY_KEYS
from expectations.rulebook import Rule, Suite, load_suites
from remediation.checks.rules import rules_of
from remediation.clock import now
from remediation.errors import DqgovError, NotFound
from remediation.masking import mask_value
from remediation.reporting.orgtree import institution_tree, subtree_codes
from remediation.reporting.spreadsheet import neutral
from remediation.store.models import ACTIVE_STATUSES, Staff, Todo
from remediation.workbooks.layout import (
    CARD_TEXT,
    COLUMNS,
    FIELD_SLOTS,
    GUIDE,
    GUIDE_SHEET,
    HEADERS,
    INDEX,
    SIGNATURE_SHEET,
    TODO_SHEET,
    code_list,
    fields_of,
    key_cells,
    letter,
)
from remediation.workbooks.signature import Issue, Signer

CHUNK = 1000
NAME_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "merchant": ("mer_reg_name", ("mer_type", "settle_acct_type")),
    "customer_org": ("cust_name", ()),
}


@dataclass(frozen=True)
class ExportScope:
    staff_id: str | None = None
    inst_code: str | None = None

    def __post_init__(self) -> None:
        if (self.staff_id is None) == (self.inst_code is None):
            raise DqgovError("choose one scope: an account manager (--staff) or an institution (--inst)")


def _scope_clause(store: sa.Engine, scope: ExportScope) -> sa.ColumnElement[bool]:
    if scope.staff_id is not None:
        with store.connect() as conn:
            if conn.scalar(sa.select(Staff.staff_id).where(Staff.staff_id == scope.staff_id)) is None:
                raise NotFound(
                    f"there is no staff member {scope.staff_id}", code="staff_not_found", staff=scope.staff_id
                )
        return Todo.assignee_staff_id == scope.staff_id
    tree = institution_tree(store)
    assert scope.inst_code is not None
    if scope.inst_code not in tree:
        raise NotFound(
            f"there is no institution {scope.inst_code}", code="institution_not_found", inst=scope.inst_code
        )
    return Todo.inst_code.in_(sorted(subtree_codes(tree, scope.inst_code)))


def _todos(store: sa.Engine, clause: sa.ColumnElement[bool]) -> Iterator[list[Any]]:
    """The scope's active to-dos in chunks, sorted so a rule's rows are one block."""
    stmt = (
        sa.select(
            Todo.id,
            Todo.table_name,
            Todo.record_key,
            Todo.rule_id,
            Todo.clause,
            Todo.masked_value,
            Todo.due_date,
            Todo.card,
            Todo.assignee_staff_id,
        )
        .where(clause, Todo.status.in_(ACTIVE_STATUSES))
        .order_by(Todo.table_name, Todo.rule_id, Todo.record_key)
    )
    with store.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(stmt)
        for chunk in result.partitions(CHUNK):
            yield list(chunk)


def _names(source: sa.Engine, table: str, keys: Sequence[str]) -> dict[str, str | None]:
    """The records' names as they may be shown (a natural person's masked)."""
    name, types = NAME_COLUMNS[table]
    key = PRIMARY_KEYS[table]
    columns: list[sa.ColumnClause[Any]] = [sa.column(c) for c in (key, name, *types)]
    with source.connect() as conn:
        rows = conn.execute(
            sa.select(*columns).select_from(sa.table(table)).where(sa.column(key).in_(sorted(set(keys))))
        ).all()
    return {r[0]: mask_value(name, r[1], dict(r._mapping)) for r in rows}


def _row(todo: Any, suite: Suite, rule: Rule, name: str | None, signer: Signer, issue_id: str) -> list[Any]:
    fields = fields_of(suite, rule)
    row: list[Any] = [None] * len(COLUMNS)
    values = {
        "todo_id": todo.id,
        "table": todo.table_name,
        "record_key": todo.record_key,
        "record_name": name,
        "rule_id": todo.rule_id,
        "clause": todo.clause,
        "description": rule.description,
        "hint": rule.hint,
        "current": todo.masked_value,
        "due_date": todo.due_date,
        "card": CARD_TEXT.get(todo.card, todo.card),
        "assignee": todo.assignee_staff_id,
    }
    for n, column in enumerate(fields, start=1):
        values[f"field_{n}"] = column
    for column, value in values.items():
        row[INDEX[column]] = neutral(value)
    row[INDEX["tag"]] = signer.row_tag(issue_id, key_cells(row))
    return row


class _Blocks:
    """Contiguous row ranges per (slot, code list): one drop-down each."""

    def __init__(self) -> None:
        self.ranges: dict[tuple[int, tuple[str, ...]], list[tuple[int, int]]] = {}

    def add(self, slot: int, values: tuple[str, ...], row: int) -> None:
        spans = self.ranges.setdefault((slot, values), [])
        if spans and spans[-1][1] == row - 1:
            spans[-1] = (spans[-1][0], row)
        else:
            spans.append((row, row))


def _todo_sheet(book: Any) -> Any:
    from openpyxl.worksheet.protection import SheetProtection

    sheet = book.create_sheet(TODO_SHEET)
    for index, column in enumerate(COLUMNS):
        sheet.column_dimensions[letter(index)].width = column.width
    sheet.column_dimensions[letter(INDEX["tag"])].hidden = True
    sheet.freeze_panes = "D2"
    # locked cells cannot be changed; open cells (the new values) can; rows may be deleted
    sheet.protection = SheetProtection(
        sheet=True,
        deleteRows=False,
        formatColumns=False,
        autoFilter=False,
        selectLockedCells=False,
        selectUnlockedCells=False,
    )
    return sheet


def export_todos(
    store: sa.Engine,
    source: sa.Engine,
    scope: ExportScope,
    out: Path,
    *,
    issued_by: str,
    suites: list[Suite] | None = None,
) -> Issue:
    """Write the scope's open to-dos to `out` (written whole, then moved into place); returns the issue."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.workbook.protection import WorkbookProtection
    from openpyxl.worksheet.datavalidation import DataValidation

    clause = _scope_clause(store, scope)
    suites = suites if suites is not None else load_suites()  # read once, not once per row
    signer = Signer()
    issue_id = str(uuid.uuid4())
    book = Workbook(write_only=True)
    book.security = WorkbookProtection(lockStructure=True)  # no sheet added, removed or renamed
    sheet = _todo_sheet(book)
    head_font, key_fill = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    open_fill, unlocked = PatternFill("solid", fgColor="FFF9DB"), Protection(locked=False)
    header = []
    for column, text in zip(COLUMNS, HEADERS, strict=True):
        cell = WriteOnlyCell(sheet, text)
        cell.font = head_font
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        if column.key:
            cell.fill = key_fill
        header.append(cell)
    sheet.append(header)
    blocks, count, row_number = _Blocks(), 0, 1
    known: dict[tuple[str, str], _RuleInfo] = {}  # per rule, not per row
    for chunk in _todos(store, clause):
        names: dict[str, str | None] = {}
        for table in {t.table_name for t in chunk}:
            names |= _names(source, table, [t.record_key for t in chunk if t.table_name == table])
        for todo in chunk:
            found = known.get((todo.table_name, todo.rule_id))
            if found is None:
                found = known[(todo.table_name, todo.rule_id)] = _rule_info(
                    todo.table_name, todo.rule_id, suites
                )
            suite, rule, fields = found
            if rule is None or suite is None:
                continue  # a rule gone from the YAML: nothing the rules could validate
            row_number += 1
            values = _row(todo, suite, rule, names.get(todo.record_key), signer, issue_id)
            cells: list[Any] = list(values)
            for n, (field, codes) in enumerate(fields, start=1):
                cell = WriteOnlyCell(sheet, None)
                cell.protection, cell.fill = unlocked, open_fill
                # typed as text, so an ID or account number keeps every digit; a date field takes a date
                cell.number_format = "yyyy-mm-dd" if field.endswith(("_end", "_date")) else "@"
                cells[INDEX[f"value_{n}"]] = cell
                if codes:
                    blocks.add(n, codes, row_number)
            due = WriteOnlyCell(sheet, values[INDEX["due_date"]])
            due.number_format = "yyyy-mm-dd"
            cells[INDEX["due_date"]] = due
            sheet.append(cells)
            count += 1
    for (slot, codes), spans in blocks.ranges.items():
        col = letter(INDEX[f"value_{slot}"])
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(codes) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="代码不在列表中",
            error="请从下拉框中选择代码 Pick a code from the list",
        )
        validation.sqref = " ".join(f"{col}{a}:{col}{b}" for a, b in spans)
        sheet.data_validations.append(validation)
    if count:
        sheet.auto_filter.ref = f"A1:{letter(len(COLUMNS) - 1)}{row_number}"
    issue = Issue(
        issue_id, scope.staff_id, scope.inst_code, now().isoformat(timespec="seconds"), issued_by, count
    )
    _guide_sheet(book)
    _signature_sheet(book, issue, signer.sign_issue(issue))
    tmp = out.with_name(out.name + ".part")
    book.save(tmp)
    tmp.replace(out)
    return issue


_RuleInfo = tuple[Suite | None, Rule | None, tuple[tuple[str, tuple[str, ...] | None], ...]]


def _rule_info(table: str, rule_id: str, suites: list[Suite] | None) -> _RuleInfo:
    """The rule, and the fields a correction may change with their code lists."""
    try:
        suite = rules_of(table, suites)
        rule = suite.rule(rule_id)
    except (KeyError, DqgovError):
        return None, None, ()
    return suite, rule, tuple((f, code_list(suite, f)) for f in fields_of(suite, rule))


def _guide_sheet(book: Any) -> None:
    from openpyxl.worksheet.protection import SheetProtection

    sheet = book.create_sheet(GUIDE_SHEET)
    sheet.column_dimensions["A"].width = 110
    for line in GUIDE:
        sheet.append([line])
    sheet.append([])
    sheet.append([f"每份工作簿最多 {FIELD_SLOTS} 个更正字段 · up to {FIELD_SLOTS} fields per to-do"])
    sheet.protection = SheetProtection(sheet=True)


SIGNATURE_FIELDS = ("issue_id", "staff_id", "inst_code", "issued_at", "issued_by", "rows")


def _signature_sheet(book: Any, issue: Issue, signature: str) -> None:
    from openpyxl.worksheet.protection import SheetProtection

    sheet = book.create_sheet(SIGNATURE_SHEET)
    sheet.sheet_state = "hidden"
    values: Mapping[str, object] = {name: getattr(issue, name) for name in SIGNATURE_FIELDS}
    for name, value in values.items():
        sheet.append([name, "" if value is None else value])
    sheet.append(["signature", signature])
    sheet.protection = SheetProtection(sheet=True)
