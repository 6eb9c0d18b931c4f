"""The OA unified to-do centre and WeCom application messages for 500 to-dos of 20 people, against local
servers that speak each API; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from remediation.notify.oa_todo import OaTodoTransport, external_id, sync_oa_todos
from remediation.notify.outbox import deliver
from remediation.notify.transports import Transport
from remediation.store.models import Todo
from remediation.store.workflow_models import Campaign
from tests.remediation.notify.helpers import DAY, POLICY, PORTAL, run_remind, transports
from tests.servers import OaServer, WecomApi

SOON = DAY + dt.timedelta(days=3)


@pytest.fixture
def oa() -> Iterator[OaServer]:
    server = OaServer()
    server.start()
    yield server
    server.stop()


def with_oa(wecom: WecomApi, oa: OaServer) -> dict[str, Transport]:
    return {**transports(wecom=wecom), "oa": OaTodoTransport(oa.url, "Authorization: Bearer oa-secret")}


def ext(store: sa.Engine, staff_id: str) -> str:
    with store.connect() as conn:
        return external_id(conn.scalar(sa.select(Campaign.id).where(Campaign.is_default.is_(True))), staff_id)


def fix_all(store: sa.Engine, staff_id: str, limit: int | None = None) -> None:
    with store.begin() as conn:
        ids = conn.scalars(
            sa.select(Todo.id).where(Todo.assignee_staff_id == staff_id).order_by(Todo.id)
        ).all()
        conn.execute(sa.update(Todo).where(Todo.id.in_(ids[:limit])).values(status="fixed", closed_on=DAY))


def test_500_todos_of_20_people_send_20_app_messages_and_keep_20_oa_todos(
    bank500: sa.Engine, wecom: WecomApi, oa: OaServer
) -> None:
    store = bank500
    run_remind(store, channels=["wecom"])
    assert sync_oa_todos(store, SOON, PORTAL).created == 20
    wecom.expire_after = 9  # the WeCom token runs out mid-run
    now = dt.datetime.now(dt.UTC)
    done = deliver(store, with_oa(wecom, oa), now, POLICY)
    assert (dict(done.sent), done.retrying, done.dead) == ({"wecom": 20, "oa": 20}, 0, 0)
    assert len(wecom.sent) == 20 and len({m["touser"] for m in wecom.sent}) == 20 and wecom.tokens_issued == 2
    assert len(oa.todos) == 20 and len(oa.calls) == 20
    first = oa.todos[ext(store, "A001")]
    assert first == {
        "externalId": ext(store, "A001"),
        "action": "create",
        "userId": "A001",
        "count": 25,
        "dueSoon": first["dueSoon"],
        "status": "open",
        "url": PORTAL + "/todos",
        "source": "dqgov",
        "title": f"您有 25 条数据质量问题待办，其中 {first['dueSoon']} 条即将到期",
    }
    assert first["dueSoon"] > 0 and oa.headers[0]["Authorization"] == "Bearer oa-secret"

    assert sync_oa_todos(store, SOON, PORTAL) == sync_oa_todos(
        store, SOON, PORTAL
    )  # nothing changed: nothing
    fix_all(store, "A001")  # every to-do of A001 fixed: their OA to-do completes
    fix_all(store, "A002", limit=1)  # one of A002's: its count goes down
    summary = sync_oa_todos(store, SOON, PORTAL)
    assert (summary.created, summary.updated, summary.completed) == (0, 1, 1)
    later = deliver(store, with_oa(wecom, oa), now + dt.timedelta(minutes=1), POLICY)
    assert dict(later.sent) == {"oa": 2}
    assert (oa.todos[ext(store, "A001")]["status"], oa.todos[ext(store, "A001")]["count"]) == ("done", 0)
    assert oa.todos[ext(store, "A001")]["action"] == "complete"
    assert (oa.todos[ext(store, "A002")]["count"], oa.todos[ext(store, "A002")]["status"]) == (24, "open")
    assert sum(t["status"] == "open" for t in oa.todos.values()) == 19
    assert len(wecom.sent) == 20  # nothing sent twice


def test_an_oa_outage_is_retried_and_a_superseded_state_is_never_sent(
    bank500: sa.Engine, oa: OaServer
) -> None:
    store = bank500
    sync_oa_todos(store, SOON, PORTAL)
    oa.status = 503
    now = dt.datetime.now(dt.UTC)
    template = {"id": "{external_id}", "n": "{count}", "text": "{title}（{action}）"}
    channel: dict[str, Transport] = {"oa": OaTodoTransport(oa.url, "X-Api-Key: k1", template)}
    down = deliver(store, channel, now, POLICY)
    assert (down.total_sent, down.retrying) == (0, 20)
    fix_all(store, "A003", limit=5)  # changes while the OA was down
    sync_oa_todos(store, SOON, PORTAL)
    oa.status = 200
    back = deliver(store, channel, now + dt.timedelta(hours=1), POLICY)
    assert back.total_sent == 21 and len(oa.calls) == 20  # A003's old state was superseded, not sent
    assert oa.todos[ext(store, "A003")] == {
        "id": ext(store, "A003"),
        "n": 20,
        "text": "您有 20 条数据质量问题待办，其中 " + oa.todos[ext(store, "A003")]["text"].split("其中 ")[1],
    }
    assert oa.todos[ext(store, "A003")]["text"].endswith("（update）") and oa.headers[0]["X-Api-Key"] == "k1"
