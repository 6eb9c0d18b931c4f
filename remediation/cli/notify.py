"""`dqgov remind` and `dqgov notify`: reminders and cards for a date, and delivery of the outbox.

Registered in `remediation.cli.main`; errors raise `DqgovError`, which the CLI prints as one line.
"""

from __future__ import annotations

from typing import Annotated

import typer

from remediation.clock import now, parse_date

app = typer.Typer()

StoreOpt = Annotated[
    str | None, typer.Option("--store-url", help="Governance store URL (default: DQGOV_STORE_URL).")
]


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


@app.command()
def remind(
    date: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD; default today.")] = None,
    store_url: StoreOpt = None,
) -> None:
    """Set due-soon marks and yellow/red cards for a date and queue that date's digests (临期/超时提醒)."""
    from remediation import settings
    from remediation.cli.calendar import warn_coverage
    from remediation.notify.oa_todo import sync_if_configured
    from remediation.notify.reminders import remind as run_remind
    from remediation.notify.sla import due_soon_limit
    from remediation.notify.transports import transports_from_settings, usable_channels
    from remediation.policy import current_policy
    from remediation.store.engines import open_store
    from remediation.workdays import WorkdayCalendar

    day = parse_date(date, "--date", not_after_today=True)
    policy = current_policy()
    transports = transports_from_settings()
    channels = usable_channels(policy.channels, transports)
    store = open_store(store_url)
    calendar = WorkdayCalendar(_warn)
    s = run_remind(store, day, policy, calendar, channels, settings.get("DQGOV_PORTAL_URL"))
    warn_coverage(store, day, calendar)
    oa = sync_if_configured(
        store, transports, due_soon_limit(day, policy, calendar), settings.get("DQGOV_PORTAL_URL")
    )
    if oa is not None:
        typer.echo(f"OA to-dos: {oa.created} created, {oa.updated} updated, {oa.completed} completed")
    if not s.working_day:
        typer.echo(
            f"{day}: 非工作日 (not a working day): no due-soon marks, cards or escalations; nothing sent; "
            "the next working day catches up"
        )
        return
    queued = ", ".join(f"{c} {n}" for c, n in sorted(s.messages.items())) or "none"
    typer.echo(
        f"{day}: due soon {s.due_soon}, yellow cards {s.cards.yellow}, red cards {s.cards.red}; "
        f"digests {s.digests} (escalations {s.escalations}); queued: {queued} "
        f"[channels: {', '.join(channels) or 'none'}]"
    )


@app.command()
def notify(store_url: StoreOpt = None) -> None:
    """Deliver the outbox now: e-mail, WeCom and the portal inbox, with retries and back-off."""
    from remediation.notify.outbox import deliver
    from remediation.notify.transports import transports_from_settings
    from remediation.policy import current_policy
    from remediation.store.engines import open_store

    transports = transports_from_settings()
    store = open_store(store_url)
    s = deliver(store, transports, now(), current_policy())
    sent = ", ".join(f"{c} {n}" for c, n in sorted(s.sent.items())) or "none"
    typer.echo(
        f"sent {s.total_sent} ({sent}); retrying later {s.retrying}; dead {s.dead}; "
        f"skipped {s.skipped} (channel not configured)"
    )
