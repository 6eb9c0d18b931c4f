"""A head's actions on to-dos of their subtree, ticked on the to-do list: 催办 (remind their account
managers) and 转派 (hand them to another active account manager)."""

from __future__ import annotations

import urllib.parse
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import Field

from portal.auth import client_of
from portal.deps import config, error_page, overseer
from portal.guard import MAX_ID
from portal.scoping import Viewer
from remediation import settings
from remediation.clock import now
from remediation.errors import DqgovError
from remediation.notify.nudges import nudge
from remediation.notify.transports import transports_from_settings, usable_channels
from remediation.policy import current_policy
from remediation.workflow.audit import audit
from remediation.workflow.handover import hand_over

router = APIRouter()
Back = Annotated[str, Form(max_length=2000)]


def _back_to_list(back: str, msg: str) -> RedirectResponse:
    """Back to the to-do list as it was filtered (only its query string is taken), with the message."""
    params = [(k, v) for k, v in urllib.parse.parse_qsl(back) if k not in ("msg", "page")]
    return RedirectResponse("/todos?" + urllib.parse.urlencode([*params, ("msg", msg)]), status_code=303)


Overseer = Annotated[Viewer, Depends(overseer)]
Chosen = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Form(max_length=200)]


def _channels() -> list[str]:
    """The policy's channels that have a transport configured (the inbox always has one)."""
    transports = transports_from_settings()
    try:
        return usable_channels(current_policy().channels, transports)
    finally:
        for transport in transports.values():
            transport.close()


@router.post("/todos/nudge")
def nudge_todos(
    request: Request,
    person: Overseer,
    todo_id: Chosen = [],  # noqa: B006
    back: Back = "",
) -> Response:
    cfg = config(request)
    try:
        with cfg.store.begin() as conn:
            summary = nudge(
                conn,
                (person.staff_id, person.name),
                person.scope,
                todo_id,
                cfg.today(),
                _channels(),
                settings.get("DQGOV_PORTAL_URL"),
                now(),
            )
            audit(
                conn,
                person.staff_id,
                "nudge",
                detail=f"reminded {', '.join(sorted(summary.reminded))} about to-dos "
                + ", ".join(map(str, sorted(set(todo_id)))),
                client=client_of(request),
            )
    except DqgovError as exc:
        return error_page(request, exc)
    return _back_to_list(back, "nudged_partly" if summary.already else "nudged")


@router.post("/todos/reassign")
def reassign_todos(
    request: Request,
    person: Overseer,
    to_staff: Annotated[str, Form(max_length=20)] = "",
    todo_id: Chosen = [],  # noqa: B006
    back: Back = "",
) -> Response:
    cfg = config(request)
    try:
        with cfg.store.begin() as conn:
            done = hand_over(conn, person.staff_id, person.scope, todo_id, to_staff)
            audit(
                conn,
                person.staff_id,
                "reassign",
                detail=f"to-dos {', '.join(map(str, done.moved))} handed to {done.to_staff_id}",
                client=client_of(request),
            )
    except DqgovError as exc:
        return error_page(request, exc)
    return _back_to_list(back, "reassigned")
