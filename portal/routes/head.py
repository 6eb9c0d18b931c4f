"""Heads and the data office: the dashboard with drill-down, the institution issue summary table (on screen
and as Excel), and the appeals waiting for their decision (coordination, or arbitration)."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from portal.auth import client_of
from portal.deps import (
    PageNotFound,
    PortalConfig,
    config,
    error_page,
    lang_of,
    overseer,
    render,
    render_fragment,
)
from portal.guard import Id, OptionalId, parse_day
from portal.i18n import translate
from portal.routes.calendar import calendar_gaps
from portal.scoping import Viewer, root_institution
from remediation.errors import DqgovError, NotAllowed, NotFound
from remediation.policy import current_policy
from remediation.reporting.appeal_views import appeals_waiting_for
from remediation.reporting.calendar_coverage import CoverageGap
from remediation.reporting.dashboard import (
    campaign_reach,
    completion_trend,
    latest_record_quality,
    rank,
    ranked_breakdown,
    roll_up,
    snapshot_days,
)
from remediation.reporting.orgtree import (
    InstitutionNode,
    path_to,
    staff_rows,
    subtree_codes,
)
from remediation.reporting.report import COLUMNS, TABLE_COLUMNS, as_row
from remediation.reporting.rule_breakdown import rule_breakdown
from remediation.reporting.snapshots import SummaryTable, summary_table
from remediation.reporting.summary_workbook import manager_rows, write_summary
from remediation.workflow.appeals import arbitrate, coordinate
from remediation.workflow.audit import audit
from remediation.workflow.campaigns import CampaignError, CampaignScope, choose_campaign, list_campaigns
from remediation.workflow.evidence import files_of

router = APIRouter()
# the summary on screen: name first, then the parent's name and the level in words, then the figures
SUMMARY_COLUMNS = ("inst_name", "parent_name", *TABLE_COLUMNS[1:])
Overseer = Annotated[Viewer, Depends(overseer)]
# the tables a page's figures are read from: they are kept until one of these changes
# (remediation/reporting/freshness.py)
SUMMARY_READS = (
    "dq_snapshot",
    "dq_snapshot_total",
    "dq_snapshot_records",
    "dq_rule",
    "dq_institution",
    "dq_campaign",
)
DASHBOARD_READS = (
    "dq_todo",
    "dq_snapshot_total",
    "dq_snapshot_records",
    "dq_staff",
    "dq_institution",
    "dq_campaign",
)


def _campaign(campaigns: list[CampaignScope], campaign_id: int | None) -> CampaignScope | None:
    try:
        return choose_campaign(campaigns, campaign_id)
    except CampaignError:
        raise PageNotFound() from None


def _calendar_gaps(cfg: PortalConfig) -> list[CoverageGap]:
    """The calendar's coverage warning, worked out again when the to-dos, the day or the calendar file change."""
    try:
        edited: int | None = cfg.calendar_file.stat().st_mtime_ns
    except OSError:
        edited = None
    return cfg.reports().get(("calendar gaps", cfg.today(), edited), lambda: calendar_gaps(cfg), ("dq_todo",))


def _campaigns(cfg: PortalConfig) -> list[CampaignScope]:
    return cfg.reports().get(("campaigns",), lambda: list_campaigns(cfg.store), ("dq_campaign",))


@router.get("/dashboard")
def dashboard(
    request: Request,
    person: Overseer,
    inst: Annotated[str | None, Query(max_length=20)] = None,
    campaign: OptionalId = None,
) -> Response:
    cfg = config(request)
    tree = cfg.tree()
    home = root_institution(person, tree)
    code = inst or home
    if code is None or code not in tree or not person.sees_institution(code):
        raise PageNotFound()
    campaigns = _campaigns(cfg)
    chosen = _campaign(campaigns, campaign)
    context: dict[str, Any] = {"campaigns": campaigns, "campaign": chosen, "node": tree[code], "tree": tree}
    context["gaps"] = _calendar_gaps(cfg) if person.is_office else []  # the calendar's coverage warning
    path = path_to(tree, code)
    context["inst_path"] = [n for n in path if person.sees_institution(n.inst_code)]
    if chosen is None:
        return render(request, "dashboard.html", context)
    today = cfg.today()

    def figures_html() -> Markup:
        """The figures rendered, once per institution, campaign, day and language."""
        figures = _dashboard_figures(cfg, tree, code, chosen, today)
        return render_fragment(request, "dashboard_figures.html", {**context, **figures})

    key = ("dashboard", code, chosen.id, today, lang_of(request))
    return render(
        request, "dashboard.html", {**context, "figures_html": cfg.reports().get(key, figures_html)}
    )


def _dashboard_figures(
    cfg: PortalConfig, tree: dict[str, InstitutionNode], code: str, chosen: CampaignScope, today: dt.date
) -> dict[str, Any]:
    """The dashboard's figures for an institution's subtree: the same for every viewer who may see it."""
    breakdown = ranked_breakdown(cfg.store, chosen, subtree_codes(tree, code), today, tree)
    per_inst = breakdown.by_inst
    total = roll_up(per_inst, tree, code)
    reach = campaign_reach(tree, chosen)
    children = [
        n for n in tree.values() if n.parent_code == code and (reach is None or n.inst_code in reach[1])
    ]
    ranked_children = rank(
        [(n.inst_code, n.inst_name, roll_up(per_inst, tree, n.inst_code)) for n in children]
    )
    ranked_people, people_hidden = breakdown.people, breakdown.people_hidden
    people = staff_rows(cfg.store, [r.key for r in ranked_people])
    ranked_people = [
        replace(r, name=people[r.key].staff_name) if r.key in people else r for r in ranked_people
    ]
    trend = completion_trend(cfg.store, chosen.id, code, today)
    snapshot = trend[-1] if trend else None  # the T+1 summary table's figures, as of that day's end
    differs = snapshot is not None and round(snapshot.completion_rate, 3) != round(total.completion_rate, 3)
    series = [(p.day.isoformat(), round(p.completion_rate * 100, 1)) for p in trend if p.day != today]
    series.append((today.isoformat(), round(total.completion_rate * 100, 1)))
    return {
        "total": total,
        "children": ranked_children,
        "people": ranked_people,
        "people_hidden": people_hidden,
        "positions": {k: people[k].position for k in people},
        "quality": latest_record_quality(cfg.store, chosen.id, code, today),
        "snapshot": snapshot if differs else None,
        "trend": series,
        "chart": {
            "days": [d for d, _ in series],
            "rates": [r for _, r in series],
            "target": round(chosen.target_rate * 100, 1),
        },
    }


@router.get("/breakdown")
def breakdown(
    request: Request,
    person: Overseer,
    inst: Annotated[str | None, Query(max_length=20)] = None,
    campaign: OptionalId = None,
) -> Response:
    """Which rules drive the backlog: active to-dos by rule, for the institution and each one below it,
    within the chosen campaign (the default one unless another is chosen), as the dashboard counts it."""
    cfg = config(request)
    tree = cfg.tree()
    code = inst or root_institution(person, tree)
    if code is None or code not in tree or not person.sees_institution(code):
        raise PageNotFound()
    campaigns = _campaigns(cfg)
    chosen = _campaign(campaigns, campaign)
    context = {
        "campaigns": campaigns,
        "campaign": chosen,
        "breakdown": rule_breakdown(cfg.store, tree, code, cfg.today(), chosen),
        "inst_path": [n for n in path_to(tree, code) if person.sees_institution(n.inst_code)],
        "has_children": {n.parent_code for n in tree.values()},
    }
    return render(request, "breakdown.html", context)


def _summary(request: Request, person: Viewer, day: dt.date, campaign_id: int | None) -> SummaryTable:
    """The day's table (live when it has no snapshot: nothing is written), rows in the viewer's scope."""
    table = _whole_summary(config(request), day, campaign_id)
    return replace(table, scores=[s for s in table.scores if person.sees_institution(s.inst_code)])


def _summary_reads(cfg: PortalConfig, day: dt.date, campaign_id: int | None) -> tuple[str, ...]:
    """What the day's table reads: a stored day only the snapshots, a day without one the to-dos too."""
    chosen = _campaign(_campaigns(cfg), campaign_id)
    stored = chosen is not None and day in _snapshot_days(cfg, chosen.id)
    return SUMMARY_READS if stored else (*SUMMARY_READS, "dq_todo", "dq_staff")


def _whole_summary(cfg: PortalConfig, day: dt.date, campaign_id: int | None) -> SummaryTable:
    policy = current_policy()
    try:
        return cfg.reports().get(
            ("summary", day, campaign_id, id(policy)),
            lambda: summary_table(cfg.store, day, campaign_id, policy),
            _summary_reads(cfg, day, campaign_id),
        )
    except DqgovError:
        raise PageNotFound() from None


def _snapshot_days(cfg: PortalConfig, campaign_id: int) -> list[dt.date]:
    return cfg.reports().get(
        ("days", campaign_id), lambda: snapshot_days(cfg.store, campaign_id), ("dq_snapshot_total",)
    )


def _summary_day(request: Request, date: str | None, campaign_id: int | None) -> dt.date:
    cfg = config(request)
    if date:
        return parse_day(date, "date", cfg.today())
    chosen = _campaign(_campaigns(cfg), campaign_id)
    days = _snapshot_days(cfg, chosen.id) if chosen else []
    return days[0] if days else cfg.today()


@router.get("/summary")
def summary(
    request: Request,
    person: Overseer,
    date: Annotated[str | None, Query(max_length=10)] = None,
    campaign: OptionalId = None,
) -> Response:
    cfg = config(request)
    campaigns = _campaigns(cfg)
    if not campaigns:
        return render(request, "summary.html", {"campaigns": [], "rows_html": "", "day": None})
    day = _summary_day(request, date, campaign)
    whole = _whole_summary(cfg, day, campaign)
    shown = tuple(s.inst_code for s in whole.scores if person.sees_institution(s.inst_code))
    headers = dict(COLUMNS)
    columns = [(name, headers.get(name, "")) for name in SUMMARY_COLUMNS]

    def rows_html() -> Markup:
        """The table's rows, rendered once per table, language and set of rows shown (500 rows take tens of
        milliseconds to render)."""
        visible = set(shown)
        names = {code: node.inst_name for code, node in cfg.tree().items()}
        rows = [(s, as_row(s)) for s in whole.scores if s.inst_code in visible]
        context = {"campaign": whole.campaign, "columns": columns, "rows": rows, "inst_names": names}
        return render_fragment(request, "summary_rows.html", context)

    lang = lang_of(request)
    context = {
        "campaigns": campaigns,
        "campaign": whole.campaign,
        "day": day,
        "live": whole.live,
        "frozen": whole.frozen,
        "days": _snapshot_days(cfg, whole.campaign.id),
        "columns": columns,
        "rows_html": cfg.reports().get(
            ("summary rows", day, campaign, id(current_policy()), lang, shown),
            rows_html,
            _summary_reads(cfg, day, campaign),
        ),
    }
    return render(request, "summary.html", context)


@router.get("/summary.xlsx")
def summary_xlsx(
    request: Request,
    person: Overseer,
    date: Annotated[str | None, Query(max_length=10)] = None,
    campaign: OptionalId = None,
) -> Response:
    cfg = config(request)
    day = _summary_day(request, date, campaign)
    table = _summary(request, person, day, campaign)
    folder = Path(tempfile.mkdtemp(prefix="dqgov-summary-"))
    path = folder / f"summary-{day.isoformat()}.xlsx"
    managers = manager_rows(cfg.store, table, person.scope, cfg.today())
    write_summary(path, table, current_policy(), managers)
    audit(
        cfg.store,
        person.staff_id,
        "export",
        detail=f"summary xlsx {day} campaign {table.campaign.id}",
        client=client_of(request),
    )
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename=f"机构问题汇总表-{day.isoformat()}.xlsx",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.get("/appeals")
def appeals(request: Request, person: Overseer) -> Response:
    return _appeals_page(request, person)


def _appeals_page(request: Request, person: Viewer, kept: dict[str, Any] | None = None) -> Response:
    """The appeals waiting for the viewer; `kept` is a refused decision, shown again with its message."""
    waiting = appeals_waiting_for(config(request).store, person.staff_id)
    evidence = files_of(config(request).store, [a.id for a in waiting], person.staff_id)
    context = {"appeals": waiting, "kept_form": kept, "evidence": evidence}
    return render(request, "appeals.html", context, status_code=422 if kept else 200)


@router.post("/appeals/{appeal_id}/decide")
def decide(
    request: Request,
    person: Overseer,
    appeal_id: Id,
    decision: Annotated[str, Form(pattern="^(accept|reject|pass_up)$")],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    cfg = config(request)
    if not any(a.id == appeal_id for a in appeals_waiting_for(cfg.store, person.staff_id)):
        raise PageNotFound()
    if decision == "reject" and not note.strip():  # the form comes back as typed, with why
        error = translate(lang_of(request), "appeals.note_needed")
        return _appeals_page(
            request, person, {"appeal_id": appeal_id, "decision": decision, "note": note, "error": error}
        )
    try:
        decide = arbitrate if person.is_office else coordinate
        decide(
            cfg.store,
            appeal_id,
            person.staff_id,
            decision,
            note or None,
            today=cfg.today(),
            policy=current_policy(),
        )
    except (NotFound, NotAllowed):
        raise PageNotFound() from None
    except DqgovError as exc:
        return error_page(request, exc)
    audit(
        cfg.store,
        person.staff_id,
        f"appeal_{decision}",
        detail=f"appeal {appeal_id}",
        client=client_of(request),
    )
    return RedirectResponse("/appeals?msg=decided", status_code=303)
