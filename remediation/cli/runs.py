"""`dqgov run …`: the check runs as an operator handles them on a bad night.

`list` shows the newest runs; `accept-drop` confirms a drop the volume guard stopped and applies the run;
`void` takes a mistaken run back; `sweep` marks runs left behind by dead processes as abandoned.
Registered in `remediation.cli.main`; errors raise `DqgovError`, which the CLI prints as one line.
"""

from __future__ import annotations

import getpass
import socket
from typing import Annotated

import typer

app = typer.Typer(help="Check runs: list, accept a volume drop, void a mistaken run, sweep dead ones.")

StoreOpt = Annotated[
    str | None, typer.Option("--store-url", help="Governance store URL (default: DQGOV_STORE_URL).")
]
StaffOpt = Annotated[str, typer.Option("--staff", help="Employee number of the data office member acting.")]


def cli_client() -> str:
    """Where a CLI action came from, for the audit log."""
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"[:64]


@app.command("list")
def list_runs(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many of the newest runs.")] = 20,
    store_url: StoreOpt = None,
) -> None:
    """The newest check runs: id, table, date, status, counts, and why a run failed or was stopped."""
    from remediation.reporting.runlog import check_runs
    from remediation.store.engines import open_store

    for r in check_runs(open_store(store_url), limit, include_rechecks=True):
        target = f" {r.record_key}" if r.record_key else ""
        typer.echo(
            f"{r.id:>6} {r.table_name:13} {r.logical_date} {r.trigger:8} {r.status:11} "
            f"in scope {r.records_in_scope:>8} findings {r.findings:>7} opened {r.opened:>6} "
            f"fixed {r.fixed:>6}{target}" + (f"  {r.error}" if r.error else "")
        )


@app.command("accept-drop")
def accept_drop(
    run_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1, help="The run the volume guard stopped.")],
    staff: StaffOpt,
    store_url: StoreOpt = None,
) -> None:
    """Confirm that the drop of records the volume guard stopped is real, and apply the run (audited)."""
    from remediation.checks.reconcile.run import reconcile_run
    from remediation.lifecycle import Lifecycle
    from remediation.store.engines import open_store

    r = reconcile_run(
        open_store(store_url), run_id, Lifecycle.in_force(), accepted_by=staff, client=cli_client()
    )
    typer.echo(
        f"run {run_id}: {r.status}; to-dos opened {r.opened}, reopened {r.reopened}, fixed {r.fixed}, "
        f"out of scope {r.out_of_scope}, gone {r.gone}"
    )


@app.command("void")
def void(
    run_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1, help="The mistaken run.")],
    staff: StaffOpt,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the audit log).")] = None,
    store_url: StoreOpt = None,
) -> None:
    """Void a mistaken run: its to-dos are cancelled as void, those it changed get their state back."""
    from remediation.checks.voiding import void_run
    from remediation.store.engines import open_store

    s = void_run(open_store(store_url), run_id, staff, reason, cli_client())
    typer.echo(
        f"run {run_id} ({s.table} {s.day}, was {s.was}) is void: {s.cancelled} to-dos it opened cancelled, "
        f"{s.restored} restored to their state before it"
    )
    if s.left:
        shown = ", ".join(str(i) for i in s.left[:20]) + (" …" if len(s.left) > 20 else "")
        typer.echo(
            f"warning: {len(s.left)} to-dos changed since the run, left as they are: {shown}", err=True
        )


@app.command("sweep")
def sweep(store_url: StoreOpt = None) -> None:
    """Mark runs whose process died (or whose lease ran out) as abandoned."""
    from remediation.checks.sweep import sweep_runs
    from remediation.store.engines import open_store

    swept = sweep_runs(open_store(store_url))
    typer.echo(f"abandoned: {', '.join(map(str, swept))}" if swept else "no run left behind")
