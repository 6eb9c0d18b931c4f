"""Excel round-trip in the portal: download the to-do workbook, upload it back, see the preview, confirm.

The uploaded file waits in a private folder under a random name bound to the uploader until they
confirm; confirming reads it again (the store may have moved on) and applies the accepted rows
(`remediation.workbooks`). Nothing is written back before the confirmation.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from portal.auth import client_of
from portal.deps import PageNotFound, config, error_message, render, viewer
from portal.scoping import Viewer, root_institution
from remediation import settings
from remediation.errors import DqgovError
from remediation.lifecycle import Lifecycle
from remediation.workbooks.apply import apply_preview
from remediation.workbooks.safety import MB, WorkbookRefused
from remediation.workbooks.todo_export import ExportScope, export_todos
from remediation.workbooks.todo_import import Preview, judge_workbook
from remediation.workflow.audit import audit

router = APIRouter()
Person = Annotated[Viewer, Depends(viewer)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,40}")
UPLOADS = Path(tempfile.gettempdir()) / "dqgov-workbook-uploads"


def _upload_path(staff_id: str, token: str) -> Path:
    if not TOKEN.fullmatch(token):
        raise PageNotFound()
    return UPLOADS / f"{re.sub(r'[^A-Za-z0-9]', '_', staff_id)}-{token}.xlsx"


@router.get("/workbook")
def workbook_page(request: Request, person: Person) -> Response:
    return render(request, "workbook.html", _context(request, person))


def _context(request: Request, person: Viewer, **extra: Any) -> dict[str, Any]:
    root = root_institution(person, config(request).tree()) if person.oversees else None
    return {"root": root, "preview": None, "applied": False, "refused": None, "token": None, **extra}


@router.get("/workbook/todos.xlsx")
def workbook_download(
    request: Request, person: Person, scope: Annotated[str, Query(pattern="^(mine|inst)$")] = "mine"
) -> Response:
    cfg = config(request)
    if scope == "inst":
        root = root_institution(person, cfg.tree()) if person.oversees else None
        if root is None:
            raise PageNotFound()
        chosen = ExportScope(inst_code=root)
    else:
        chosen = ExportScope(staff_id=person.staff_id)
    folder = Path(tempfile.mkdtemp(prefix="dqgov-todos-"))
    path = folder / "todos.xlsx"
    issue = export_todos(
        cfg.store, cfg.source(), chosen, path, issued_by=person.staff_id, suites=cfg.suites()
    )
    audit(
        cfg.store,
        person.staff_id,
        "export",
        detail=f"to-do workbook {issue.issue_id} ({issue.scope}, {issue.rows} rows)",
        client=client_of(request),
    )
    return FileResponse(
        path,
        media_type=XLSX,
        filename=f"待办-{issue.scope.replace(':', '-')}-{cfg.today()}.xlsx",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


def _judge(request: Request, person: Viewer, path: Path, name: str) -> Preview:
    cfg = config(request)
    return judge_workbook(
        path, cfg.store, cfg.source(), person.staff_id, check_date=cfg.today(), suites=cfg.suites(), name=name
    )


@router.post("/workbook/preview")
async def workbook_upload(request: Request, person: Person) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _refused(request, person, DqgovError("no file chosen", code="workbook_no_file"))
    token = secrets.token_urlsafe(18)
    UPLOADS.mkdir(mode=0o700, exist_ok=True)
    path = _upload_path(person.staff_id, token)
    limit = settings.number_of("DQGOV_WORKBOOK_MAX_MB") * MB
    written = 0
    with path.open("wb") as out:  # copied in pieces, and no further than the limit allows
        while chunk := await upload.read(1024 * 1024):
            written += len(chunk)
            if written > limit:
                break
            out.write(chunk)
    name = Path(upload.filename).name
    if written > limit:
        path.unlink(missing_ok=True)
        exc = WorkbookRefused(
            f"file {name}", f"over the limit of {limit / MB:g} MB", f"文件超过 {limit / MB:g} MB 的上限"
        )
        return _refused(request, person, exc)
    try:
        preview = await run_in_threadpool(_judge, request, person, path, name)
    except DqgovError as exc:
        path.unlink(missing_ok=True)
        return _refused(request, person, exc)
    pending: str | None = token
    if not any(r.status == "accepted" for r in preview.rows):
        path.unlink(missing_ok=True)
        pending = None
    context = _context(request, person, preview=preview, token=pending, name=name)
    return render(request, "workbook.html", context)


def _refused(request: Request, person: Viewer, exc: DqgovError) -> Response:
    context = _context(request, person, refused=error_message(request, exc))
    return render(request, "workbook.html", context, status_code=422)


@router.post("/workbook/apply")
def workbook_apply(
    request: Request,
    person: Person,
    token: Annotated[str, Form(max_length=60)],
    name: Annotated[str, Form(max_length=200)] = "workbook.xlsx",
) -> Response:
    cfg = config(request)
    path = _upload_path(person.staff_id, token)
    if not path.exists():
        raise PageNotFound()  # applied already, or not this person's upload
    try:
        preview = _judge(request, person, path, Path(name).name or "workbook.xlsx")
        apply_preview(
            cfg.store,
            cfg.source(),
            preview,
            person.staff_id,
            cfg.writeback(),
            check_date=cfg.today(),
            suites=cfg.suites(),
            lifecycle=Lifecycle.in_force(),
            client=client_of(request),
        )
    except DqgovError as exc:
        return _refused(request, person, exc)
    finally:
        path.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    for row in preview.rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    audit(
        cfg.store,
        person.staff_id,
        "workbook_import",
        client=client_of(request),
        detail=f"workbook {preview.issue.issue_id}: "
        + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
    )
    return render(request, "workbook.html", _context(request, person, preview=preview, applied=True))
