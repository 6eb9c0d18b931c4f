"""The data office: campaigns, the rule catalogue, check runs with their GX Data Docs and "run now",
exports, and the audit log. (Arbitration is the appeals page, routes/head.py.)"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse

from portal import narrate
from portal.auth import client_of
from portal.deps import (
    PageNotFound,
    config,
    data_office,
    error_message,
    error_page,
    lang_of,
    local_time,
    render,
)
from portal.guard import Id, parse_day
from portal.i18n import label, translate
from portal.scoping import Viewer
from remediation.checks.reconcile.run import reconcile_run
from remediation.checks.voiding import void_run
from remediation.clock import SHANGHAI
from remediation.errors import DqgovError
from remediation.lifecycle import Lifecycle
from remediation.reporting.datadocs import docs_info
from remediation.reporting.export import EXTRA_COLUMNS, FINDINGS_COLUMNS, findings_rows
from remediation.reporting.orgtree import staff_rows
from remediation.reporting.runlog import check_run, check_runs, run_rules
from remediation.reporting.spreadsheet import csv_writer
from remediation.workflow.audit import AuditView, audit, audit_actors, audit_entries
from remediation.workflow.auditchain import verify_chain
from remediation.workflow.campaigns import CampaignError, create_campaign, list_campaigns

router = APIRouter(prefix="/office")
Office = Annotated[Viewer, Depends(data_office)]
# The audit page verifies the hash chain of the newest entries at each view (~0.25 s for 10,000);
# `dqgov audit verify` walks the whole log.
AUDIT_CHECK_WINDOW = 10_000


def _campaigns_page(
    request: Request, errors: list[str] | None = None, form: dict[str, str] | None = None
) -> Response:
    context = {
        "campaigns": list_campaigns(config(request).store),
        "tables": [s.table for s in config(request).suites()],
        "inst_names": {code: node.inst_name for code, node in config(request).tree().items()},
        "errors": errors or [],
        "form": form or {},
    }
    return render(request, "office_campaigns.html", context, status_code=422 if errors else 200)


@router.get("/campaigns")
def campaigns(request: Request, person: Office) -> Response:
    return _campaigns_page(request)


@router.post("/campaigns")
async def campaign_create(request: Request, person: Office) -> Response:
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}
    tables = [str(v) for v in form.getlist("tables")]
    return await run_in_threadpool(_create_campaign, request, person, fields, tables)


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace("；", ";").split(";") if p.strip()]


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _campaign_problems(request: Request, fields: dict[str, str]) -> list[str]:
    """Everything wrong with the form at once, in the viewer's language (each naming its field)."""
    cfg, lang = config(request), lang_of(request)
    found: list[tuple[str, dict[str, object]]] = []
    name = fields.get("name", "").strip()
    if not name:
        found.append(("campaigns.error_name", {}))
    elif any(c.name == name for c in list_campaigns(cfg.store)):
        found.append(("campaigns.error_name_taken", {"name": name}))
    baseline, deadline = _day(fields.get("baseline", "")), _day(fields.get("deadline", ""))
    if baseline is None:
        found.append(("campaigns.error_baseline", {}))
    if deadline is None:
        found.append(("campaigns.error_deadline", {}))
    elif baseline is not None and deadline < baseline:
        found.append(("campaigns.error_order", {}))
    try:
        target = float(fields.get("target", "").strip().rstrip("%％"))
    except ValueError:
        target = -1.0
    if not 0 < target <= 100:
        found.append(("campaigns.error_target", {"value": fields.get("target", "")}))
    known_rules = {r.id for suite in cfg.suites() for r in suite.rules}
    if unknown := [r for r in _split(fields.get("rules", "")) if r not in known_rules]:
        found.append(("campaigns.error_rules", {"ids": "; ".join(unknown)}))
    tree = cfg.tree()
    if unknown := [i for i in _split(fields.get("institutions", "")) if i not in tree]:
        found.append(("campaigns.error_institutions", {"codes": "; ".join(unknown)}))
    return [translate(lang, key, **values) for key, values in found]


def _create_campaign(request: Request, person: Viewer, fields: dict[str, str], tables: list[str]) -> Response:
    problems = _campaign_problems(request, fields)
    baseline, deadline = _day(fields.get("baseline", "")), _day(fields.get("deadline", ""))
    if problems or baseline is None or deadline is None:
        return _campaigns_page(request, problems, fields)
    target = float(fields.get("target", "").strip().rstrip("%％")) / 100
    try:
        made = create_campaign(
            config(request).store,
            fields.get("name", ""),
            baseline,
            deadline,
            target,
            tables=tables,
            rules=_split(fields.get("rules", "")),
            institutions=_split(fields.get("institutions", "")),
            created_by=person.staff_id,
        )
    except CampaignError as exc:  # a race with another creation of the same name, say
        return _campaigns_page(request, [error_message(request, exc)], fields)
    audit(
        config(request).store,
        person.staff_id,
        "campaign_created",
        detail=f"campaign {made.id} {made.name}",
        client=client_of(request),
    )
    return RedirectResponse("/office/campaigns?msg=campaign_created", status_code=303)


@router.get("/rules")
def rules(request: Request, person: Office) -> Response:
    return render(request, "office_rules.html", {"suites": config(request).suites()})


@router.get("/runs")
def runs(request: Request, person: Office, rechecks: Annotated[bool, Query()] = False) -> Response:
    cfg = config(request)
    listed = check_runs(cfg.store, 100, include_rechecks=rechecks)
    trigger = cfg.trigger.state()
    context = {
        "runs": listed,
        "docs": {r.id: docs_info(cfg.datadocs_root, r.id) for r in listed},
        "jobs": {r.id: cfg.docs_jobs.state(r.id) for r in listed},
        "job_errors": {r.id: _docs_failure(request, r.id) for r in listed},
        "trigger": trigger,
        "problems": [
            (dag, _run_now_problem(request, code, params)) for dag, code, params in trigger.problems
        ],
        "today": cfg.today(),
        "rechecks": rechecks,
    }
    return render(request, "office_runs.html", context)


@router.get("/runs/{run_id}")
def run_page(request: Request, person: Office, run_id: Id) -> Response:
    cfg = config(request)
    run = check_run(cfg.store, run_id)
    if run is None:
        raise PageNotFound()
    people = staff_rows(cfg.store, {p for p in (run.accepted_by, run.voided_by) if p})
    context = {
        "run": run,
        "rules": run_rules(cfg.store, run_id),
        "docs": docs_info(cfg.datadocs_root, run_id),
        "job": cfg.docs_jobs.state(run_id),
        "job_error": _docs_failure(request, run_id),
        "people": {k: v.staff_name for k, v in people.items()},
        "can_accept": run.stopped_by_guard,
        "can_void": run.status in ("reconciled", "validated") or run.stopped_by_guard,
    }
    return render(request, "office_run.html", context)


def _docs_failure(request: Request, run_id: int) -> str:
    failure = config(request).docs_jobs.failure(run_id)
    return error_message(request, failure) if failure is not None else ""


def _run_now_problem(request: Request, code: str, params: dict[str, object]) -> str:
    """A "run now" DAG's failure (remediation.orchestration.runnow), in the viewer's language."""
    failure = DqgovError(str(params.get("message", "")), code=None if code == "error" else code)
    failure.params = params
    return error_message(request, failure)


def _confirmed(request: Request, confirm: str) -> HTMLResponse | None:
    """None when the person ticked the confirmation; else the page that asks them to."""
    if confirm == "yes":
        return None
    return render(
        request,
        "error.html",
        {"code": 422, "detail": translate(lang_of(request), "error.confirm_needed")},
        status_code=422,
    )


@router.post("/runs/{run_id}/accept-drop")
def accept_drop(
    request: Request, person: Office, run_id: Id, confirm: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """A member of the data office confirms the drop the volume guard stopped; the run then applies."""
    cfg = config(request)
    if check_run(cfg.store, run_id) is None:
        raise PageNotFound()
    if (refused := _confirmed(request, confirm)) is not None:
        return refused
    try:
        summary = reconcile_run(
            cfg.store, run_id, Lifecycle.in_force(), accepted_by=person.staff_id, client=client_of(request)
        )
    except DqgovError as exc:
        return error_page(request, exc)
    msg = "drop_accepted" if summary.status == "reconciled" else "run_superseded"
    return RedirectResponse(f"/office/runs/{run_id}?msg={msg}", status_code=303)


@router.post("/runs/{run_id}/void")
def void(
    request: Request,
    person: Office,
    run_id: Id,
    reason: Annotated[str, Form(max_length=500)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Void a mistaken run: its to-dos are cancelled or put back as they were (audited)."""
    cfg = config(request)
    if check_run(cfg.store, run_id) is None:
        raise PageNotFound()
    if (refused := _confirmed(request, confirm)) is not None:
        return refused
    if not reason.strip():
        return render(
            request,
            "error.html",
            {"code": 422, "detail": translate(lang_of(request), "error.reason_needed")},
            status_code=422,
        )
    try:
        void_run(cfg.store, run_id, person.staff_id, reason.strip(), client_of(request), today=cfg.today())
    except DqgovError as exc:
        return error_page(request, exc)
    return RedirectResponse(f"/office/runs/{run_id}?msg=run_voided", status_code=303)


@router.post("/runs/now")
def run_now(request: Request, person: Office, day: Annotated[str, Form(max_length=10)] = "") -> Response:
    cfg = config(request)
    when = parse_day(day, "day", cfg.today()) if day else cfg.today()
    started = cfg.trigger.start(when, person.staff_id)
    if started:
        audit(
            cfg.store, person.staff_id, "run_now", detail=f"check DAGs for {when}", client=client_of(request)
        )
    return RedirectResponse(f"/office/runs?msg={'run_started' if started else 'run_busy'}", status_code=303)


@router.post("/runs/{run_id}/docs")
def build_docs(request: Request, person: Office, run_id: Id) -> Response:
    cfg = config(request)
    run = check_run(cfg.store, run_id)
    if run is None or run.record_key is not None:
        raise PageNotFound()
    cfg.docs_jobs.start(run_id)
    audit(cfg.store, person.staff_id, "datadocs_build", detail=f"run {run_id}", client=client_of(request))
    return RedirectResponse(f"/office/runs/{run_id}?msg=docs_started", status_code=303)


@router.get("/runs/{run_id}/docs/{path:path}")
def serve_docs(request: Request, person: Office, run_id: Id, path: str) -> Response:
    """The run's Data Docs site, read-only, from its folder (nothing outside it is served)."""
    cfg = config(request)
    folder = (cfg.datadocs_root / str(run_id)).resolve()
    try:
        target = (folder / (path or "index.html")).resolve()
        servable = target.is_relative_to(folder) and target.is_file() and not target.name.endswith(".json")
    except OSError:  # a name too long for the file system, say
        servable = False
    if not servable:
        raise PageNotFound()
    if target.suffix != ".html":
        return FileResponse(target)
    return HTMLResponse(_in_frame(request, run_id, target.read_text(encoding="utf-8")))


def _in_frame(request: Request, run_id: int, page: str) -> str:
    """A Data Docs page inside the portal's frame: the portal's name, the way back to the run, and what the
    docs are (GX validated the check date again when they were built)."""
    lang = lang_of(request)
    info = docs_info(config(request).datadocs_root, run_id)
    built = local_time(info.built_at) if info else ""
    bar = (
        f'<header class="dq-frame" lang="{"zh-CN" if lang == "zh" else "en"}" id="dq-frame">'
        f"<span>{escape(translate(lang, 'app.title'))}</span>"
        f'<a href="/office/runs/{run_id}" target="_top" id="dq-back">{escape(translate(lang, "runs.docs_back", run=run_id))}</a>'
        f'<span class="dq-note">{escape(translate(lang, "runs.docs_note", built=built))}</span></header>'
    )
    return re.sub(r"(<body\b[^>]*>)", lambda m: m[1] + bar, page, count=1)


@router.get("/exports")
def exports(request: Request, person: Office) -> Response:
    return render(request, "office_exports.html", {})


@router.get("/exports/findings.csv")
def export_csv(request: Request, person: Office, all: Annotated[bool, Query()] = False) -> Response:
    cfg = config(request)
    audit(
        cfg.store,
        person.staff_id,
        "export",
        detail=f"findings csv{' (all)' if all else ''}",
        client=client_of(request),
    )

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow(FINDINGS_COLUMNS + EXTRA_COLUMNS)
        yield "\ufeff" + out.getvalue()
        for row in findings_rows(cfg.store, include_closed=all):
            out.seek(0)
            out.truncate()
            writer.writerow(row)
            yield out.getvalue()

    name = f"findings-{cfg.today().isoformat()}{'-all' if all else ''}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@dataclass(frozen=True)
class AuditFilter:
    """The audit page's filters: a person, an action, and a day range (Shanghai days, both included)."""

    who: str | None
    action: str | None
    first: dt.date | None
    last: dt.date | None

    def entries(self, store: sa.Engine, limit: int | None) -> list[AuditView]:
        def start(day: dt.date) -> dt.datetime:
            # in UTC: SQLite keeps the wall time of what it is given, and the log's times are UTC
            return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)

        return audit_entries(
            store,
            staff_id=self.who,
            action=self.action,
            limit=limit,
            since=start(self.first) if self.first else None,
            before=start(self.last + dt.timedelta(days=1)) if self.last else None,
        )


Short = Annotated[str | None, Query(max_length=40)]


def _audit_filter(
    request: Request, who: str | None, action: str | None, first: str | None, last: str | None
) -> AuditFilter:
    today = config(request).today()
    return AuditFilter(
        who or None,
        action or None,
        parse_day(first, "from", today) if first else None,
        parse_day(last, "to", today) if last else None,
    )


@router.get("/audit")
def audit_log(
    request: Request,
    person: Office,
    action: Short = None,
    who: Short = None,
    first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    store = config(request).store
    chosen = _audit_filter(request, who, action, first, last)
    actors = audit_actors(store)
    context = {
        "entries": chosen.entries(store, 300),
        "action": action,
        "chosen": chosen,
        "actors": actors,
        "chain": verify_chain(store, newest=AUDIT_CHECK_WINDOW),
    }
    return render(request, "office_audit.html", context)


@router.get("/audit.csv")
def audit_csv(
    request: Request,
    person: Office,
    action: Short = None,
    who: Short = None,
    first: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    """The filtered log as CSV (names beside ids, actions and details in the viewer's language); audited."""
    cfg, lang = config(request), lang_of(request)
    chosen = _audit_filter(request, who, action, first, last)
    entries = chosen.entries(cfg.store, None)
    names = {
        k: v.staff_name for k, v in staff_rows(cfg.store, {e.staff_id for e in entries if e.staff_id}).items()
    }
    audit(cfg.store, person.staff_id, "export", detail="audit csv", client=client_of(request))
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(
        [
            translate(lang, k)
            for k in (
                "audit.id",
                "todo.when",
                "todo.who",
                "audit.staff_id",
                "audit.action",
                "todos.table",
                "todos.key",
                "todo.detail",
                "audit.client",
            )
        ]
    )
    for e in entries:
        writer.writerow(
            [
                e.id,
                e.at.isoformat() if e.at else "",
                names.get(e.staff_id or "", ""),
                e.staff_id or "",
                label(lang, "auditaction", e.action),
                label(lang, "table", e.table_name) if e.table_name else "",
                e.record_key or "",
                narrate.detail(lang, e.detail),
                e.client or "",
            ]
        )
    name = f"audit-{cfg.today().isoformat()}.csv"
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
