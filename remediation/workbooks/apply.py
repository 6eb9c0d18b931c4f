"""Apply a previewed workbook: each accepted row through the portal's own correction path, once.

Each row is claimed in `dq_workbook_import` (unique per issued workbook and to-do) before its write-back,
then handed to `submit_correction`, which validates it again, writes it back through the configured
adapter and re-checks the record, so a to-do closes only when the data passes. A row whose write-back
failed or that the rules refused at this moment gives its claim back, so a later import may try again.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from expectations.rulebook import Suite
from remediation.checks.corrections import submit_correction
from remediation.checks.writeback import WriteBack
from remediation.clock import now
from remediation.errors import DqgovError
from remediation.lifecycle import Lifecycle
from remediation.store.workflow_models import WorkbookImport
from remediation.workbooks.todo_import import Preview, RowResult, reason

KEEPS_CLAIM = ("verified", "still_failing", "queued")


def _claim(store: sa.Engine, issue_id: str, row: RowResult, staff_id: str) -> int | None:
    try:
        with store.begin() as conn:
            return int(
                conn.execute(
                    sa.insert(WorkbookImport)
                    .values(
                        issue_id=issue_id,
                        todo_id=row.todo_id,
                        row_number=row.row,
                        staff_id=staff_id,
                        outcome="applying",
                        applied_at=now(),
                    )
                    .returning(WorkbookImport.id)
                ).scalar_one()
            )
    except IntegrityError:
        return None


def apply_preview(
    store: sa.Engine,
    source: sa.Engine,
    preview: Preview,
    staff_id: str,
    writeback: WriteBack,
    *,
    check_date: dt.date,
    suites: list[Suite] | None = None,
    lifecycle: Lifecycle | None = None,
    client: str | None = None,
) -> Preview:
    """Apply every accepted row; each row's status becomes its correction's outcome."""
    issue_id = preview.issue.issue_id
    for row in preview.rows:
        if row.status != "accepted":
            continue
        claim = _claim(store, issue_id, row, staff_id)
        if claim is None:
            row.status, row.detail = "applied_before", "applied from this workbook before"
            continue
        try:
            outcome: Any = submit_correction(
                store,
                source,
                row.todo_id,
                staff_id,
                row.typed,
                writeback,
                check_date=check_date,
                client=client or f"workbook {issue_id}",
                suites=suites,
                lifecycle=lifecycle,
            )
        except DqgovError as exc:
            _release(store, claim)
            row.status, row.detail = "rejected", str(exc)
            continue
        row.status, row.detail = outcome.status, outcome.detail
        if outcome.status == "refused":
            row.status = "rejected"
            row.reasons = {c: [reason(e) for e in errs] for c, errs in outcome.errors.items()}
        if outcome.status in KEEPS_CLAIM:
            with store.begin() as conn:
                conn.execute(
                    sa.update(WorkbookImport)
                    .where(WorkbookImport.id == claim)
                    .values(outcome=outcome.status, correction_id=outcome.correction_id)
                )
        else:
            _release(store, claim)
    return preview


def _release(store: sa.Engine, claim: int) -> None:
    with store.begin() as conn:
        conn.execute(sa.delete(WorkbookImport).where(WorkbookImport.id == claim))


STATUS_TEXT = {
    "accepted": "可导入 accepted",
    "rejected": "拒绝 rejected",
    "closed": "已关闭 closed",
    "applied_before": "已导入过 applied before",
    "verified": "已写回，复核通过 written back, verified",
    "still_failing": "已写回，复核仍未通过 written back, still failing",
    "queued": "已提交源系统，待复核 sent, awaiting the check",
    "write_failed": "写回失败 write-back failed",
}


def write_preview(preview: Preview, out: Path) -> None:
    """The preview as a workbook: one row per row with a typed value, rejected cells in red with the reason."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    from remediation.reporting.spreadsheet import neutral
    from remediation.workbooks.layout import FIELD_SLOTS

    book = Workbook(write_only=True)
    sheet = book.create_sheet("预览 Preview")
    sheet.freeze_panes = "A2"
    bad = PatternFill("solid", fgColor="F8CBAD")
    headers = ["行号 Row", "待办编号 To-do", "记录编号 Record key", "规则编号 Rule"]
    for n in range(1, FIELD_SLOTS + 1):
        headers += [f"字段{n} Field {n}", f"更正值{n} New value {n}"]
    headers += ["结果 Result", "原因 Reason"]
    bold = Font(bold=True)
    header = []
    for text in headers:
        cell = WriteOnlyCell(sheet, text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in preview.rows:
        cells: list[Any] = [row.row, row.todo_id, neutral(row.record_key), neutral(row.rule_id)]
        reasons = [f"{column}: {w}" for column, why in row.reasons.items() for w in why]
        for column, text in row.typed.items():
            cell = WriteOnlyCell(sheet, neutral(text))
            why = row.reasons.get(column)
            if why:
                cell.fill = bad
                cell.comment = Comment("\n".join(why), "dqgov")
            cells += [neutral(column), cell]
        cells += [None, None] * (FIELD_SLOTS - len(row.typed))
        cells += [STATUS_TEXT.get(row.status, row.status), neutral("；".join(reasons) or row.detail)]
        sheet.append(cells)
    tmp = out.with_name(out.name + ".part")
    book.save(tmp)
    tmp.replace(out)
