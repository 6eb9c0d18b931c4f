"""Who may download which to-do workbook, and confirming someone else's upload is not possible."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from remediation.workbooks.layout import INDEX, TODO_SHEET
from tests.portal.conftest import Portal


def assignees(body: bytes) -> set[str]:
    sheet = load_workbook(io.BytesIO(body))[TODO_SHEET]
    return {row[INDEX["assignee"]] for row in sheet.iter_rows(min_row=2, values_only=True)}


def test_a_manager_gets_their_own_workbook_and_a_head_their_institutions(portal: Portal) -> None:
    manager = portal.client()
    manager.login("M101")
    mine = manager.get("/workbook/todos.xlsx")
    assert mine.status == 200 and assignees(mine.body) == {"M101"}
    assert manager.get("/workbook/todos.xlsx?scope=inst").status == 404  # a manager has no institution view
    head = portal.client()
    head.login("S101")  # sub-branch 110100: M101's and M102's to-dos, not 110200's
    theirs = head.get("/workbook/todos.xlsx?scope=inst")
    assert theirs.status == 200 and assignees(theirs.body) == {"M101", "M102"}
    page = head.get("/workbook")
    assert "download-inst" in page.text
    # a confirmation names an upload by a random token bound to its uploader: a guess finds nothing
    assert manager.post("/workbook/apply", {"token": "A" * 24}).status == 404
    assert manager.post("/workbook/apply", {"token": "../../etc/passwd"}).status == 404
