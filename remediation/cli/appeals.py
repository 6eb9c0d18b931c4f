"""`dqgov appeal …`, `dqgov todo claim-fixed`, `dqgov recheck`: appeals, "fixed" claims, targeted re-checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from remediation.errors import DqgovError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from remediation.reporting.appeal_views import AppealView

appeal_app = typer.Typer(
    help="Appeals (申诉 → 协调 → 仲裁) and the exemptions they grant.", no_args_is_help=True
)
todo_app = typer.Typer(help="Actions on one to-do.", no_args_is_help=True)

StoreOpt = Annotated[
    str | None, typer.Option("--store-url", help="Governance store URL (default: DQGOV_STORE_URL).")
]
StaffOpt = Annotated[str, typer.Option("--staff", help="Staff id of the person acting.")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="Why (required to reject).")]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="YYYY-MM-DD: the day an exemption starts; default today.")
]


def _audit(store: sa.Engine, staff_id: str | None, action: str, **where: str | None) -> None:
    """Audit a change made from the command line, as the portal audits its own (`client` cli:user@host)."""
    from remediation.workflow.audit import audit, cli_client

    audit(store, staff_id, action, client=cli_client(), **where)


@appeal_app.command("file")
def appeal_file(
    todo_id: Annotated[int, typer.Argument(help="The to-do to appeal.")],
    staff: StaffOpt,
    reason: Annotated[str, typer.Option("--reason", help="Why the rule does not apply to this record.")],
    evidence: Annotated[str | None, typer.Option("--evidence", help="Evidence note.")] = None,
    store_url: StoreOpt = None,
) -> None:
    """File an appeal of your to-do."""
    from remediation.reporting.appeal_views import appeal_history
    from remediation.store.engines import open_store
    from remediation.workflow.appeals import file_appeal

    store = open_store(store_url)
    appeal_id = file_appeal(store, todo_id, staff, reason, evidence)
    filed = next(a for a in appeal_history(store, todo_id) if a.id == appeal_id)
    stage = filed.stage
    where = {"table_name": filed.table_name, "record_key": filed.record_key}
    _audit(
        store,
        staff,
        "appeal_filed",
        detail=f"appeal {appeal_id} on to-do {todo_id}, waits at {stage}",
        **where,
    )
    typer.echo(f"appeal {appeal_id} filed on to-do {todo_id}; it waits at {stage}")


@appeal_app.command("coordinate")
def appeal_coordinate(
    appeal_id: Annotated[int, typer.Argument(help="The appeal.")],
    staff: StaffOpt,
    decision: Annotated[str, typer.Option("--decision", help="accept | reject | pass_up")],
    note: NoteOpt = None,
    date: DateOpt = None,
    store_url: StoreOpt = None,
) -> None:
    """A sub-branch or branch head decides an appeal at coordination."""
    from remediation.clock import parse_date
    from remediation.policy import current_policy
    from remediation.store.engines import open_store
    from remediation.workflow.appeals import coordinate

    store = open_store(store_url)
    day = parse_date(date, "--date", not_after_today=True)
    coordinate(store, appeal_id, staff, decision, note, today=day, policy=current_policy())
    _audit(store, staff, f"appeal_{decision}", detail=f"appeal {appeal_id} at coordination")
    typer.echo(f"appeal {appeal_id}: {decision} by {staff}")


@appeal_app.command("arbitrate")
def appeal_arbitrate(
    appeal_id: Annotated[int, typer.Argument(help="The appeal.")],
    staff: StaffOpt,
    decision: Annotated[str, typer.Option("--decision", help="accept | reject")],
    note: NoteOpt = None,
    date: DateOpt = None,
    store_url: StoreOpt = None,
) -> None:
    """The data office decides an appeal at arbitration."""
    from remediation.clock import parse_date
    from remediation.policy import current_policy
    from remediation.store.engines import open_store
    from remediation.workflow.appeals import arbitrate

    store = open_store(store_url)
    arbitrate(
        store,
        appeal_id,
        staff,
        decision,
        note,
        today=parse_date(date, "--date", not_after_today=True),
        policy=current_policy(),
    )
    _audit(store, staff, f"appeal_{decision}", detail=f"appeal {appeal_id} at arbitration")
    typer.echo(f"appeal {appeal_id}: {decision} by {staff}")


@appeal_app.command("withdraw")
def appeal_withdraw(
    appeal_id: Annotated[int, typer.Argument(help="The appeal.")],
    staff: StaffOpt,
    note: Annotated[str | None, typer.Option("--note")] = None,
    store_url: StoreOpt = None,
) -> None:
    """Withdraw your pending appeal."""
    from remediation.store.engines import open_store
    from remediation.workflow.appeals import withdraw

    store = open_store(store_url)
    withdraw(store, appeal_id, staff, note)
    _audit(store, staff, "appeal_withdraw", detail=f"appeal {appeal_id}")
    typer.echo(f"appeal {appeal_id} withdrawn")


@appeal_app.command("escalate")
def appeal_escalate(
    appeal_id: Annotated[int, typer.Argument(help="The appeal.")],
    staff: StaffOpt,
    note: Annotated[str | None, typer.Option("--note")] = None,
    store_url: StoreOpt = None,
) -> None:
    """Take your appeal that a head rejected to the data office for arbitration."""
    from remediation.store.engines import open_store
    from remediation.workflow.appeals import escalate

    store = open_store(store_url)
    escalate(store, appeal_id, staff, note)
    _audit(store, staff, "appeal_escalate", detail=f"appeal {appeal_id} to arbitration")
    typer.echo(f"appeal {appeal_id} escalated to arbitration")


@appeal_app.command("list")
def appeal_list(
    staff: Annotated[
        str | None, typer.Option("--staff", help="The appeals waiting for this person's decision.")
    ] = None,
    todo_id: Annotated[int | None, typer.Option("--todo", help="Every appeal of this to-do.")] = None,
    store_url: StoreOpt = None,
) -> None:
    """The appeals waiting for a person (--staff), or the appeal history of a to-do (--todo)."""
    from remediation.reporting.appeal_views import appeal_history, appeals_waiting_for
    from remediation.store.engines import open_store

    if (staff is None) == (todo_id is None):
        raise DqgovError("appeal list needs exactly one of --staff ID or --todo ID")
    store = open_store(store_url)
    appeals = appeals_waiting_for(store, staff) if staff is not None else appeal_history(store, todo_id or 0)
    for appeal in appeals:
        _echo_appeal(appeal)
    if not appeals:
        typer.echo("no appeals")


def _echo_appeal(a: AppealView) -> None:
    typer.echo(
        f"appeal {a.id}  to-do {a.todo_id} ({a.todo_status})  {a.table_name} {a.record_key}  {a.rule_id}  "
        f"{a.status} at {a.stage}  by {a.appellant} on {a.created_at:%Y-%m-%d %H:%M}"
    )
    typer.echo(f"    reason: {a.reason}" + (f"  evidence: {a.evidence}" if a.evidence else ""))
    for d in a.decisions:
        typer.echo(
            f"    {d.decided_at:%Y-%m-%d %H:%M} {d.decided_by} {d.decision} at {d.stage}"
            + (f": {d.note}" if d.note else "")
        )
    if a.exemption is not None:
        e = a.exemption
        typer.echo(f"    exemption {e.id}: {e.status}, {e.granted_on} – {e.expires_on}")


@todo_app.command("claim-fixed")
def todo_claim_fixed(
    todo_id: Annotated[int, typer.Argument(help="The to-do.")],
    staff: StaffOpt,
    note: Annotated[str | None, typer.Option("--note", help="What was corrected.")] = None,
    store_url: StoreOpt = None,
) -> None:
    """Say your to-do is fixed: it waits for a check (dqgov recheck, or the next daily run) to prove it."""
    from remediation.checks.verification import claim_fixed
    from remediation.store.engines import open_store

    store = open_store(store_url)
    claim_fixed(store, todo_id, staff, note)
    _audit(store, staff, "claim_fixed", detail=f"to-do {todo_id}")
    typer.echo(f"to-do {todo_id} is pending verification")


def recheck(
    source_url: Annotated[str, typer.Option("--source-url", help="Source database (SQLAlchemy URL).")],
    table: Annotated[str, typer.Option("--table", help="Record type: merchant | customer_org.")],
    key: Annotated[str, typer.Option("--key", help="The record's key (mer_id, cust_no).")],
    check_date: Annotated[str | None, typer.Option("--check-date", help="YYYY-MM-DD; default today.")] = None,
    store_url: StoreOpt = None,
) -> None:
    """Re-check one record now and reconcile its to-dos (and nothing else)."""
    from remediation.checks.verification import recheck_record
    from remediation.clock import parse_date
    from remediation.lifecycle import Lifecycle
    from remediation.store.engines import open_store
    from remediation.store.source import open_source

    day = parse_date(check_date, "--check-date", not_after_today=True)
    source = open_source(source_url, [])  # the record's table is verified by the re-check itself
    store = open_store(store_url)
    try:
        s = recheck_record(source, store, table, key, day, lifecycle=Lifecycle.in_force())
    finally:
        source.dispose()
    failing = ", ".join(s.failing_rules) or "no rule"
    done = f"run {s.run_id} ({s.check_date}, {s.reconcile.status}): fixed {s.reconcile.fixed}"
    _audit(store, None, "recheck", table_name=table, record_key=key, detail=done)
    typer.echo(
        f"{table} {key} {s.check_date}: fails {failing}; to-dos opened {s.reconcile.opened}, "
        f"reopened {s.reconcile.reopened}, fixed {s.reconcile.fixed}, out of scope {s.reconcile.out_of_scope} "
        f"[run {s.run_id}, {s.reconcile.status}]"
    )
    for t in s.todos:
        typer.echo(f"    to-do {t.id}  {t.rule_id}  {t.status}")


def register(app: typer.Typer) -> None:
    app.add_typer(appeal_app, name="appeal")
    app.add_typer(todo_app, name="todo")
    app.command("recheck")(recheck)
