"""Bodies of the notification DAGs' tasks (`dags/dq_notify.py` imports this inside its tasks)."""

from __future__ import annotations

from typing import Any

from remediation.clock import now


def remind_task(context: dict[str, Any]) -> list[dict[str, Any]]:
    """Cards and digests for each check date the triggering asset events carry, queued in the outbox."""
    from remediation import settings
    from remediation.notify.reminders import remind
    from remediation.notify.transports import transports_from_settings, usable_channels
    from remediation.orchestration.tasks import check_dates_of
    from remediation.policy import current_policy
    from remediation.store.engines import open_store
    from remediation.workdays import WorkdayCalendar

    policy = current_policy()
    channels = usable_channels(policy.channels, transports_from_settings())
    store, calendar, done = open_store(), WorkdayCalendar(), []
    for day in check_dates_of(context):
        s = remind(store, day, policy, calendar, channels, settings.get("DQGOV_PORTAL_URL"))
        done.append(_summary(s))
    return done


def _summary(s: Any) -> dict[str, Any]:
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
