"""`dqgov audit verify`: walk the audit log's hash chain and name the first broken link."""

from __future__ import annotations

from typing import Annotated

import typer

audit_app = typer.Typer(help="The audit log (dq_audit).", no_args_is_help=True)

StoreOpt = Annotated[
    str | None, typer.Option("--store-url", help="Governance store URL (default: DQGOV_STORE_URL).")
]


@audit_app.command("verify")
def audit_verify(store_url: StoreOpt = None) -> None:
    """Check that no entry was changed, deleted or inserted: exit 0 when intact, 1 at the first broken link."""
    from remediation.store.engines import open_store
    from remediation.workflow.auditchain import verify_chain

    report = verify_chain(open_store(store_url))
    if not report.intact:
        typer.echo(f"audit log broken at entry {report.broken_at}: {report.reason}")
        typer.echo(f"({report.entries} entries read up to entry {report.newest and report.newest.id})")
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {report.entries} entries")
    if report.newest is not None:
        # a hash chain cannot see entries cut off its end: keep this line somewhere else to compare
        typer.echo(f"newest entry {report.newest.id}, hash {report.newest.row_hash}")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
