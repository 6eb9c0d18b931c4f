"""Bodies of the notification DAGs' tasks (`dags/dq_notify.py` imports this inside its tasks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from remediation.clock import now

if TYPE_CHECKING:
    from remediation.notify.reminders import RemindSummary


def remind_task(context: dict[str, Any]) -> list[dict[str, Any]]:
    """Cards and digests for each check date the triggering asset events carry, and for those still pending,
    queued in the outbox."""
    from remediation import settings
    from remediation.notify.reminders import remind
    from remediation.notify.transports import transports_from_settings, usable_channels
    from remediation.orchestration.tasks import follow_up
    from remediation.policy import current_policy
    from remediation.workdays import WorkdayCalendar

    policy = current_policy()
    channels = usable_channels(policy.channels, transports_from_settings())
    calendar, portal = WorkdayCalendar(), settings.get("DQGOV_PORTAL_URL")
    return follow_up("remind", context, lambda store, day: _summary(
        remind(store, day, policy, calendar, channels, portal)))  # fmt: skip


def _summary(s: RemindSummary) -> dict[str, Any]:
    return {
        "as_of": s.as_of.isoformat(),
        "working_day": s.working_day,  # False: nothing was done; the next working day catches up
        "due_soon": s.due_soon,
        "yellow_cards": s.cards.yellow,
        "red_cards": s.cards.red,
        "digests": s.digests,
        "escalations": s.escalations,
        "queued": s.messages,
    }


def deliver_task() -> dict[str, Any]:
    """Send what is due in the outbox now: delivery follows the wall clock, not the logical date."""
    from remediation.notify.outbox import deliver
    from remediation.notify.transports import transports_from_settings
    from remediation.policy import current_policy
    from remediation.store.engines import open_store

    s = deliver(open_store(), transports_from_settings(), now(), current_policy())
    return {"sent": dict(s.sent), "retrying": s.retrying, "dead": s.dead, "skipped": s.skipped}
