"""Bodies of the notification DAGs' tasks (`dags/dq_notify.py` imports this inside its tasks)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from remediation.clock import now

if TYPE_CHECKING:
    from remediation.notify.oa_todo import OaSyncSummary
    from remediation.notify.reminders import RemindSummary


def remind_task(context: dict[str, Any]) -> list[dict[str, Any]]:
    """Cards and digests for each check date the triggering asset events carry, and for those still pending,
    queued in the outbox."""
    from remediation import settings
    from remediation.notify.oa_todo import sync_if_configured
    from remediation.notify.reminders import remind
    from remediation.notify.sla import due_soon_limit
    from remediation.notify.transports import transports_from_settings, usable_channels
    from remediation.orchestration.tasks import follow_up
    from remediation.policy import current_policy
    from remediation.workdays import WorkdayCalendar

    policy = current_policy()
    transports = transports_from_settings()
    channels = usable_channels(policy.channels, transports)
    calendar, portal = WorkdayCalendar(), settings.get("DQGOV_PORTAL_URL")

    def one_day(store: Any, day: dt.date) -> dict[str, Any]:
        summary = remind(store, day, policy, calendar, channels, portal)
        oa = sync_if_configured(store, transports, due_soon_limit(day, policy, calendar), portal)
        return _summary(summary, oa)

    return follow_up("remind", context, one_day)


def _summary(s: RemindSummary, oa: OaSyncSummary | None) -> dict[str, Any]:
    return {
        "as_of": s.as_of.isoformat(),
        "working_day": s.working_day,  # False: nothing was done; the next working day catches up
        "due_soon": s.due_soon,
        "yellow_cards": s.cards.yellow,
        "red_cards": s.cards.red,
        "digests": s.digests,
        "escalations": s.escalations,
        "queued": s.messages,
        "oa_todos": None
        if oa is None
        else {"created": oa.created, "updated": oa.updated, "completed": oa.completed},
    }


def deliver_task() -> dict[str, Any]:
    """Send what is due in the outbox now: delivery follows the wall clock, not the logical date."""
    from remediation.notify.outbox import deliver
    from remediation.notify.transports import transports_from_settings
    from remediation.policy import current_policy
    from remediation.store.engines import open_store

    s = deliver(open_store(), transports_from_settings(), now(), current_policy())
    return {"sent": dict(s.sent), "retrying": s.retrying, "dead": s.dead, "skipped": s.skipped}
