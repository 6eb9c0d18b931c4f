"""Evidence files on appeals in the portal: the appellant attaches PDF, JPG or PNG files (when filing the
appeal, or later while it is pending); the appellant and the deciders download them. Every upload and
download is audited; a refused file is named in the viewer's language (`remediation.workflow.evidence`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from portal.auth import client_of
from portal.deps import PageNotFound, config, error_message, render, viewer
from portal.guard import Id
from portal.scoping import Viewer
from remediation.errors import DqgovError, InvalidInput, NotAllowed, NotFound
from remediation.reporting.appeal_views import appeal_history
from remediation.workflow.actions import Store
from remediation.workflow.audit import audit
from remediation.workflow.evidence import MAX_FILES, attach, check_file, clean_name, fetch, max_bytes

router = APIRouter()
Person = Annotated[Viewer, Depends(viewer)]
Files = list[tuple[str, bytes]]


async def read_files(request: Request, field: str = "files") -> Files:
    """The chosen files of a multipart form, each read no further than the size limit allows (one byte
    more, so a file over it is seen as such); the empty choice (no file) is left out."""
    form = await request.form(max_files=MAX_FILES + 1)
    limit = max_bytes()
    out: Files = []
    for upload in form.getlist(field):
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        out.append((clean_name(upload.filename), await upload.read(limit + 1)))
    if len(out) > MAX_FILES:
        name = out[MAX_FILES][0]
        raise InvalidInput(
            f"{name}: at most {MAX_FILES} files", code="evidence_too_many", file=name, n=MAX_FILES
        )
    return out


def check_files(files: Files) -> None:
    """Every file must be a non-empty PDF/JPG/PNG within the limit; the first that is not is named."""
    limit = max_bytes()
    for name, content in files:
        check_file(name, content, limit)


def keep_files(request: Request, store: Store, staff_id: str, appeal_id: int, files: Files) -> None:
    for name, content in files:
        evidence_id = attach(store, appeal_id, staff_id, name, content)
        audit(
            store,
            staff_id,
            "evidence_uploaded",
            detail=f"evidence {evidence_id} ({name}, {len(content)} bytes) on appeal {appeal_id}",
            client=client_of(request),
        )


def refused(request: Request, exc: DqgovError) -> Response:
    if isinstance(exc, NotFound | NotAllowed):
        raise PageNotFound()
    return render(
        request, "error.html", {"code": 422, "detail": error_message(request, exc)}, status_code=422
    )


@router.post("/todos/{todo_id}/appeals/{appeal_id}/evidence")
async def add_evidence(request: Request, person: Person, todo_id: Id, appeal_id: Id) -> Response:
    """The appellant attaches more files to a pending appeal."""
    store = config(request).store
    try:
        history = await run_in_threadpool(appeal_history, store, todo_id)
    except NotFound:
        raise PageNotFound() from None
    if not any(a.id == appeal_id and a.appellant == person.staff_id for a in history):
        raise PageNotFound()
    try:
        files = await read_files(request)
        check_files(files)
        await run_in_threadpool(keep_files, request, store, person.staff_id, appeal_id, files)
    except DqgovError as exc:
        return refused(request, exc)
    return RedirectResponse(f"/todos/{todo_id}?msg=evidence_added", status_code=303)


@router.get("/evidence/{evidence_id}")
def download(request: Request, person: Person, evidence_id: Id) -> Response:
    """One evidence file, for the appellant and the deciders only (404 for anyone else); audited."""
    store = config(request).store
    try:
        got = fetch(store, evidence_id, person.staff_id)
    except (NotFound, NotAllowed):
        raise PageNotFound() from None
    audit(
        store,
        person.staff_id,
        "evidence_downloaded",
        detail=f"evidence {evidence_id} ({got.file.filename}) of appeal {got.file.appeal_id}",
        client=client_of(request),
    )
    ascii_name = got.file.filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    headers = {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(got.file.filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(got.content, media_type=got.media_type, headers=headers)
