"""To-dos: the list (an account manager's own, a head's subtree, the data office's all), the record page,
and the account manager's actions on it: correct in place, "already fixed in the source", appeal."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from portal.auth import client_of
from portal.deps import PageNotFound, config, error_message, lang_of, render, viewer
from portal.guard import Id
from portal.i18n import MESSAGES, label, translate
from portal.narrate import masked_values
from portal.record_view import record_context
from portal.routes.evidence import Files, check_files, keep_files, read_files, refused
from portal.scoping import Viewer
from remediation.checks.corrections import submit_correction
from remediation.checks.verification import claim_fixed
from remediation.errors import DqgovError, NotAllowed, NotFound
from remediation.lifecycle import Lifecycle
from remediation.notify.inbox import inbox_messages, mark_read
from remediation.policy import current_policy
from remediation.reporting.appeal_views import appeal_history
from remediation.reporting.orgtree import staff_rows, subtree_codes
from remediation.reporting.queries import (
    MAX_PER_PAGE,
    PER_PAGE,
    SORTS,
    TodoFilters,
    TodoRow,
    list_todos,
    rules_with_todos,
    stream_todos,
    todo_counts,
    todo_detail,
    todo_ids_for,
)
from remediation.reporting.spreadsheet import csv_writer
from remediation.store.source_records import keys_by_name
from remediation.workflow.appeals import escalate, file_appeal, withdraw
from remediation.workflow.audit import audit
from remediation.workflow.handover import candidates

router = APIRouter()
PRINT_ROWS = MAX_PER_PAGE  # the print view: the filtered list on paper, without paging
Person = Annotated[Viewer, Depends(viewer)]
Text = Annotated[str | None, Query(max_length=64)]


@router.get("/todos")
def todos(
    request: Request,
    person: Person,
    status: Annotated[
        str,
        Query(
            pattern="^(active|closed|all|open|pending_verification|fixed|exempted|out_of_scope|gone|void)$"
        ),
    ] = "active",
    rule: Text = None,
    severity: Annotated[str | None, Query(pattern="^(high|medium|low)?$")] = None,
    card: Annotated[str | None, Query(pattern="^(none|yellow|red)?$")] = None,
    due: Annotated[str | None, Query(pattern="^(overdue|soon|later|none)?$")] = None,
    table: Annotated[str | None, Query(pattern="^(merchant|customer_org)?$")] = None,
    inst: Text = None,
    assignee: Text = None,
    key: Text = None,
    sort: Annotated[str, Query(pattern="^(" + "|".join(SORTS) + ")$")] = "due",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    view: Annotated[str | None, Query(pattern="^(print|csv)?$")] = None,
    name: Text = None,
) -> Response:
    cfg = config(request)
    named: frozenset[str] | None = None
    search_failed = False
    if name and name.strip():
        try:
            named = keys_by_name(cfg.source(), name.strip())
        except Exception:  # the source is down: say so rather than list nothing silently
            named, search_failed = frozenset(), True
    institutions = None
    tree = cfg.tree()
    if inst:
        if not person.sees_institution(inst):
            raise PageNotFound()
        institutions = subtree_codes(tree, inst)
    filters = TodoFilters(
        status=status,
        rule_id=rule or None,
        severity=severity or None,
        card=card or None,
        due=due or None,
        table_name=table or None,
        institutions=institutions,
        assignee=assignee or None,
        record_key=key or None,
        record_keys=named,
        sort=sort,
        page=1 if view else page,
        per_page=PRINT_ROWS if view else PER_PAGE,
    )
    today = cfg.today()
    if view == "csv":
        return _csv(request, person, filters)
    listing = list_todos(cfg.store, person.scope, filters, today)
    counts = todo_counts(cfg.store, person.scope, filters, today)
    assignee_name = None
    if assignee:
        found = staff_rows(cfg.store, [assignee]).get(assignee)
        assignee_name = found.staff_name if found else None
    context: dict[str, Any] = {
        "listing": listing,
        "counts": counts,
        "filters": filters,
        "rules": rules_with_todos(cfg.store, person.scope),
        "inst": inst,
        "inst_name": tree[inst].inst_name if inst and inst in tree else None,
        "assignee": assignee,
        "assignee_name": assignee_name,
        "today": today,
        "search_failed": search_failed,
        "handover_to": _handover_choices(cfg.store, person, institutions),
        "inst_names": {code: node.inst_name for code, node in tree.items()},
    }
    return render(request, "todos_print.html" if view else "todos.html", context)


@router.get("/help")
def help_page(request: Request, person: Person) -> Response:
    """How the work goes: the life of a to-do, due dates and cards, appeals (figures from the policy)."""
    return render(request, "help.html", {"policy": current_policy()})


@router.get("/todos/{todo_id}")
def todo_page(request: Request, person: Person, todo_id: Id) -> Response:
    return render(request, "todo.html", record_context(request, person, todo_id))


def _own_todo(request: Request, person: Viewer, todo_id: int) -> None:
    """The to-do must be in scope (else 404) and the person its assignee (else 404 too)."""
    detail = todo_detail(config(request).store, person.scope, todo_id)
    if detail is None or detail.row.assignee_staff_id != person.staff_id:
        raise PageNotFound()


def _action_failed(request: Request, exc: DqgovError) -> Response:
    if isinstance(exc, NotFound | NotAllowed):
        raise PageNotFound()
    # an ambiguous key (nothing was written) says why, as every coded refusal does
    return render(
        request, "error.html", {"code": 409, "detail": error_message(request, exc)}, status_code=409
    )


@router.post("/todos/{todo_id}/correct")
async def correct(request: Request, person: Person, todo_id: Id) -> Response:
    form = await request.form()
    raw = {k[len("field_") :]: v for k, v in form.items() if k.startswith("field_") and isinstance(v, str)}
    # validating, writing back and re-checking block: off the event loop
    return await run_in_threadpool(_correct, request, person, todo_id, raw)


def _correct(request: Request, person: Viewer, todo_id: int, raw: dict[str, str]) -> Response:
    _own_todo(request, person, todo_id)
    cfg = config(request)
    try:
        outcome = submit_correction(
            cfg.store,
            cfg.source(),
            todo_id,
            person.staff_id,
            raw,
            cfg.writeback(),
            check_date=cfg.today(),
            client=client_of(request),
            suites=cfg.suites(),
            lifecycle=Lifecycle.in_force(),
        )
    except DqgovError as exc:
        return _action_failed(request, exc)
    if outcome.status == "refused":
        context = record_context(request, person, todo_id, typed=raw, errors=outcome.errors)
        return render(request, "todo.html", context, status_code=422)
    return RedirectResponse(f"/todos/{todo_id}?msg={outcome.status}", status_code=303)


@router.post("/todos/{todo_id}/claim")
def claim(
    request: Request, person: Person, todo_id: Id, note: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    _own_todo(request, person, todo_id)
    store = config(request).store
    try:
        claim_fixed(store, todo_id, person.staff_id, note or None)
    except DqgovError as exc:
        return _action_failed(request, exc)
    audit(store, person.staff_id, "claim_fixed", detail=f"to-do {todo_id}", client=client_of(request))
    return RedirectResponse(f"/todos/{todo_id}?msg=claimed", status_code=303)


@router.post("/todos/{todo_id}/appeal")
async def appeal(
    request: Request,
    person: Person,
    todo_id: Id,
    reason: Annotated[str, Form(max_length=2000)],
    evidence: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """File an appeal with its evidence files; a refused file (named) files nothing, and the form comes back
    with what was typed and the message next to the file field."""
    try:
        files = await read_files(request)
        check_files(files)
    except DqgovError as exc:
        return await run_in_threadpool(_appeal_refused, request, person, todo_id, reason, evidence, exc)
    return await run_in_threadpool(_appeal, request, person, todo_id, reason, evidence, files)


def _appeal_refused(
    request: Request, person: Viewer, todo_id: int, reason: str, evidence: str, exc: DqgovError
) -> Response:
    _own_todo(request, person, todo_id)
    context = record_context(request, person, todo_id)
    kept = {"reason": reason, "evidence": evidence, "error": error_message(request, exc)}
    return render(request, "todo.html", {**context, "appeal_kept": kept}, status_code=422)


def _appeal(
    request: Request, person: Viewer, todo_id: int, reason: str, evidence: str, files: Files
) -> Response:
    _own_todo(request, person, todo_id)
    store = config(request).store
    try:
        appeal_id = file_appeal(store, todo_id, person.staff_id, reason, evidence or None)
    except DqgovError as exc:
        return _action_failed(request, exc)
    audit(
        store,
        person.staff_id,
        "appeal_filed",
        detail=f"appeal {appeal_id} on to-do {todo_id}",
        client=client_of(request),
    )
    try:
        keep_files(request, store, person.staff_id, appeal_id, files)
    except DqgovError as exc:
        return refused(request, exc)
    return RedirectResponse(f"/todos/{todo_id}?msg=appealed", status_code=303)


@router.post("/todos/{todo_id}/appeals/{appeal_id}/{action}")
def appeal_action(request: Request, person: Person, todo_id: Id, appeal_id: Id, action: str) -> Response:
    """The appellant withdraws a pending appeal, or takes a head's rejection to the data office."""
    act, done = {"withdraw": (withdraw, "withdrawn"), "escalate": (escalate, "escalated")}.get(
        action, (None, "")
    )
    store = config(request).store
    _own_todo(request, person, todo_id)
    if act is None or appeal_id not in {a.id for a in appeal_history(store, todo_id)}:
        raise PageNotFound()
    try:
        act(store, appeal_id, person.staff_id)
    except DqgovError as exc:
        return _action_failed(request, exc)
    audit(store, person.staff_id, f"appeal_{action}", detail=f"appeal {appeal_id}", client=client_of(request))
    return RedirectResponse(f"/todos/{todo_id}?msg={done}", status_code=303)


# a digest line names its to-do as "<record type> <key> · <rule id> …" (remediation/notify/digest.py)
CSV_COLUMNS = (
    "todos.inst_code",
    "todos.institution",
    "todos.table",
    "todos.key",
    "todos.rule",
    "todos.rule_text",
    "todos.severity",
    "todos.status",
    "todos.value",
    "todos.first_seen",
    "todos.due_date",
    "todos.card",
    "todos.assignee_id",
    "todos.assignee",
)


def _csv(request: Request, person: Viewer, filters: TodoFilters) -> Response:
    """The filtered list in the viewer's scope as CSV (heads and the data office), every to-do, not a page."""
    if not person.oversees:
        raise PageNotFound()
    cfg = config(request)
    lang = lang_of(request)
    audit(cfg.store, person.staff_id, "export", detail="to-dos csv", client=client_of(request))

    def cells(r: TodoRow) -> list[object]:
        values = "; ".join(
            f"{name or col}：{v}" if col else v for col, name, v in masked_values(lang, r.masked_value)
        )
        return [
            r.inst_code or "",
            r.inst_name or "",
            label(lang, "table", r.table_name),
            r.record_key,
            r.rule_id,
            r.description or "",
            label(lang, "severity", r.severity),
            label(lang, "status", r.status),
            values,
            r.first_seen.isoformat(),
            r.due_date.isoformat() if r.due_date else "",
            label(lang, "card", r.card) if r.card != "none" else "",
            r.assignee_staff_id or "",
            r.assignee_name or "",
        ]

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow([translate(lang, key) for key in CSV_COLUMNS])
        yield "\ufeff" + out.getvalue()  # the BOM: Excel opens the Chinese text right
        for row in stream_todos(cfg.store, person.scope, filters, cfg.today()):
            out.seek(0)
            out.truncate()
            writer.writerow(cells(row))
            yield out.getvalue()

    name = f"todos-{cfg.today().isoformat()}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _handover_choices(
    store: sa.Engine, person: Viewer, institutions: frozenset[str] | None
) -> list[tuple[str, str, str]]:
    """转派's choices: the active account managers of the viewer's institutions (of the filtered ones)."""
    if not person.oversees:
        return []
    with store.connect() as conn:
        return candidates(conn, institutions if institutions is not None else person.institutions)


_DIGEST_ITEM = re.compile(r"(\S+) · ([A-Z]{3}-[A-Z0-9-]+) ")


_COLUMN_VALUE = re.compile(r"\b([a-z][a-z_]*)=")


def _labelled(lang: str, line: str) -> str:
    """A digest line's "contact_phone=138****8000" with the column's label."""
    return _COLUMN_VALUE.sub(
        lambda m: f"{label(lang, 'col', m[1])}：" if f"col.{m[1]}" in MESSAGES else m[0], line
    )


@router.get("/inbox")
def inbox(request: Request, person: Person) -> Response:
    """The messages, each line that names a to-do in the viewer's scope linked to it."""
    store = config(request).store
    messages = inbox_messages(store, person.staff_id)
    wanted = {(m[1], m[2]) for msg in messages for m in _DIGEST_ITEM.finditer(msg.body)}
    ids = todo_ids_for(store, person.scope, wanted) if wanted else {}
    lang = lang_of(request)
    lines = {
        msg.id: [
            (
                _labelled(lang, line),
                ids.get((found[1], found[2])) if (found := _DIGEST_ITEM.search(line)) else None,
            )
            for line in msg.body.splitlines()
        ]
        for msg in messages
    }
    return render(request, "inbox.html", {"messages": messages, "lines": lines})


@router.post("/inbox/read")
def inbox_read(request: Request, person: Person) -> Response:
    mark_read(config(request).store, person.staff_id)
    return RedirectResponse("/inbox?msg=read", status_code=303)
