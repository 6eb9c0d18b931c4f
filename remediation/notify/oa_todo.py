"""The bank's OA unified to-do centre (统一待办): one OA to-do per person and campaign, kept current.

"您有 N 条数据质量问题待办，其中 M 条即将到期", linking into the portal. `sync_oa_todos` compares each person's
counts with what was last queued (`dq_oa_todo`) and queues, in the same transaction, one outbox message
per change: `create` when a person gets their first active to-do, `update` when N or M change,
`complete` when N reaches zero (and `create` again if they get new ones later, under the same id).
Running it again with nothing changed queues nothing.

Every message carries the whole current state under a stable external id
(`dqgov-<campaign>-<staff id>`), so the OA side can treat each as an upsert; the transport skips a
message when a newer one for the same OA to-do is already queued, so a retried old state never
overwrites a newer one. Banks' OA products differ: the endpoint, an auth header and a JSON template
with `{placeholders}` are settings (docs/oa-todo.md describes the contract).
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from remediation.clock import now
from remediation.errors import DqgovError
from remediation.notify.transports import TIMEOUT_SECONDS, DeliveryError, Outgoing
from remediation.store.models import ACTIVE_STATUSES, Staff, Todo
from remediation.store.workflow_models import Campaign, OaTodo, OutboxMessage

CHANNEL = "oa"
DEFAULT_TEMPLATE: Mapping[str, Any] = {
    "externalId": "{external_id}",
    "action": "{action}",
    "userId": "{staff_id}",
    "title": "{title}",
    "count": "{count}",
    "dueSoon": "{due_soon}",
    "status": "{status}",
    "url": "{url}",
    "source": "dqgov",
}


@dataclass(frozen=True)
class OaSyncSummary:
    created: int = 0
    updated: int = 0
    completed: int = 0


def external_id(campaign_id: int | None, staff_id: str) -> str:
    return f"dqgov-{campaign_id if campaign_id is not None else 'all'}-{staff_id}"


def title(count: int, due_soon: int) -> str:
    return f"您有 {count} 条数据质量问题待办，其中 {due_soon} 条即将到期"


def _counts(conn: sa.Connection, due_soon_by: dt.date) -> dict[str, tuple[int, int]]:
    soon = sa.case((Todo.due_date <= due_soon_by, 1), else_=0)
    rows = conn.execute(
        sa.select(Todo.assignee_staff_id, sa.func.count(), sa.func.sum(soon))
        .join(Staff, Staff.staff_id == Todo.assignee_staff_id)
        .where(Todo.status.in_(ACTIVE_STATUSES), Staff.active.is_(True))
        .group_by(Todo.assignee_staff_id)
    ).all()
    return {r[0]: (int(r[1]), int(r[2] or 0)) for r in rows}


def sync_oa_todos(store: sa.Engine, due_soon_by: dt.date, portal_url: str) -> OaSyncSummary:
    """Queue the OA changes since the last sync (`due_soon_by`: the last due date counted as due soon)."""
    at = now()
    changes = {"create": 0, "update": 0, "complete": 0}
    with store.begin() as conn:
        campaign = conn.scalar(sa.select(Campaign.id).where(Campaign.is_default.is_(True)))
        counts = _counts(conn, due_soon_by)
        known = {r.staff_id: r for r in conn.execute(sa.select(OaTodo).where(OaTodo.campaign_id == campaign))}
        for staff_id in sorted(set(counts) | set(known)):
            count, soon = counts.get(staff_id, (0, 0))
            row = known.get(staff_id)
            if row is None and count == 0:
                continue
            if row is None or (row.status == "done" and count > 0):
                action = "create"
            elif count == 0:
                if row.status == "done":
                    continue
                action = "complete"
            elif (row.open_count, row.due_soon_count) != (count, soon):
                action = "update"
            else:
                continue
            ext = external_id(campaign, staff_id)
            state = {
                "external_id": ext,
                "staff_id": staff_id,
                "status": "done" if count == 0 else "open",
                "open_count": count,
                "due_soon_count": soon,
                "updated_at": at,
                "campaign_id": campaign,
            }
            if row is None:
                conn.execute(sa.insert(OaTodo).values(**state))
            else:
                conn.execute(sa.update(OaTodo).where(OaTodo.external_id == ext).values(**state))
            payload = {
                "action": action,
                "external_id": ext,
                "staff_id": staff_id,
                "count": count,
                "due_soon": soon,
                "status": state["status"],
                "title": title(count, soon),
                "url": f"{portal_url.rstrip('/')}/todos",
            }
            conn.execute(
                sa.insert(OutboxMessage).values(
                    dedupe_key=f"oa:{ext}:{at.isoformat()}"[:200],
                    channel=CHANNEL,
                    recipient=staff_id,
                    address=ext,
                    subject=f"{action} {ext}",
                    body=json.dumps(payload, ensure_ascii=False),
                    status="pending",
                    attempts=0,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
            changes[action] += 1
    return OaSyncSummary(changes["create"], changes["update"], changes["complete"])


def sync_if_configured(
    store: sa.Engine, transports: Mapping[str, object], due_soon_by: dt.date, portal_url: str
) -> OaSyncSummary | None:
    """`sync_oa_todos` when an OA endpoint is configured, else None."""
    return sync_oa_todos(store, due_soon_by, portal_url) if CHANNEL in transports else None


def render(template: Any, values: Mapping[str, Any]) -> Any:
    """The template with `{name}` filled in; a string that is exactly one placeholder keeps its type."""
    if isinstance(template, dict):
        return {k: render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values) for v in template]
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in values:
            return values[template[1:-1]]
        return template.format_map(values)
    return template


def load_template(path: str) -> Any:
    if not path:
        return DEFAULT_TEMPLATE
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DqgovError(
            f"DQGOV_OA_TODO_TEMPLATE {path}: not a readable JSON file ({exc})",
            code="oa_template_unreadable",
            path=path,
        ) from None


class OaTodoTransport:
    """POST each OA to-do state to the bank's OA endpoint as its JSON template; any 2xx is delivered."""

    def __init__(
        self,
        url: str,
        auth_header: str = "",
        template: Any = DEFAULT_TEMPLATE,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.url, self.template, self.timeout = url, template, timeout
        name, _, value = auth_header.partition(":")
        self.headers = {"Content-Type": "application/json; charset=utf-8"}
        if name.strip():
            self.headers[name.strip()] = value.strip()

    def send(self, message: Outgoing, conn: sa.Connection) -> None:
        newer = conn.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.channel == CHANNEL,
                OutboxMessage.address == message.address,
                OutboxMessage.id > message.id,
            )
        )
        if newer:
            return  # a newer state of this OA to-do is queued: this one is superseded, send nothing
        values = json.loads(message.body)
        data = json.dumps(render(self.template, values), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=data, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"OA to-do {message.address}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"OA to-do {message.address}: {getattr(exc, 'reason', exc)}") from None

    def close(self) -> None:
        pass
