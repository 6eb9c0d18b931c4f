"""`dqgov airflow prepare|up|down|status`: the production tier's Airflow on PostgreSQL metadata.

Registered in `remediation.cli.main`; the work lives in `remediation.orchestration.airflow_service`.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The production tier's Airflow (API server, scheduler, DAG processor) on PostgreSQL metadata.",
    no_args_is_help=True,
)


@app.command()
def prepare() -> None:
    """Create and migrate the metadata database (DQGOV_AIRFLOW_DB_URL) and the secrets; idempotent."""
    from remediation.orchestration import airflow_service as svc

    svc.prepare()
    typer.echo(f"Airflow metadata ready: {svc.metadata_url().render_as_string(hide_password=True)}")


@app.command()
def up() -> None:
    """Start the API server, scheduler and DAG processor (those not running yet); wait until Airflow answers."""
    from remediation import settings
    from remediation.orchestration import airflow_service as svc

    svc.up()
    _print_status()
    typer.echo(
        f"Airflow UI: {svc.api_url()} (user {settings.get('DQGOV_AIRFLOW_USER')}, "
        f"password in DQGOV_AIRFLOW_PASSWORD or var/secrets/airflow.password)"
    )


@app.command()
def down() -> None:
    """Stop the three processes and every task they started; idempotent."""
    from remediation.orchestration import airflow_service as svc

    stopped = svc.stop()
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "Airflow was not running")


@app.command()
def status() -> None:
    """Each process (running with its PID, or stopped) and whether the API server answers; exit 1 if not all up."""
    if not _print_status():
        raise typer.Exit(1)


def _print_status() -> bool:
    from remediation.orchestration import airflow_service as svc

    states = svc.states()
    for s in states:
        typer.echo(f"{s.name:14} {'running (pid ' + str(s.pid) + ')' if s.running else 'stopped'}")
    answering = svc.healthy()
    typer.echo(f"{'API':14} {svc.api_url()} {'answers' if answering else 'does not answer'}")
    return answering and all(s.running for s in states)
