"""`dqgov`: the command line that the data office, operators and outside tools drive.

Every error a user can act on ends as one line `dqgov: error: …` on stderr and exit status 2.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from expectations.rulebook import RuleFileError
from remediation import settings
from remediation.cli.airflow import app as airflow_app
from remediation.cli.appeals import register as register_appeal_commands
from remediation.cli.audit import register as register_audit_commands
from remediation.cli.calendar import register as register_calendar_commands
from remediation.cli.calendar import warn_coverage_when_done
from remediation.cli.campaigns import register as register_campaign_commands
from remediation.cli.hashkey import register as register_hashkey_commands
from remediation.cli.notify import app as notify_app
from remediation.cli.runs import app as runs_app
from remediation.cli.users import print_demo_logins
from remediation.cli.users import register as register_user_commands
from remediation.cli.workbooks import register as register_workbook_commands
from remediation.clock import parse_date, today_shanghai
from remediation.errors import DqgovError

app = typer.Typer(
    help="数据质量治理平台 · data-quality governance: checks → to-dos → fixed records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
findings_app = typer.Typer(help="Findings (open to-dos) of the store.", no_args_is_help=True)
rules_app = typer.Typer(help="The rule catalogue (expectations/rules/*.yml).", no_args_is_help=True)
app.add_typer(findings_app, name="findings")
app.add_typer(rules_app, name="rules")
register_campaign_commands(app)
app.add_typer(notify_app)  # remind, notify
app.add_typer(runs_app, name="run")  # run void, accept-drop, sweep, list
register_appeal_commands(app)
register_user_commands(app)  # user set-password
register_calendar_commands(app)  # calendar show / set / import / cover
register_audit_commands(app)  # audit verify
register_hashkey_commands(app)  # hashkey show|rotate|adopt|new
register_workbook_commands(app)  # todos export, corrections import
app.add_typer(airflow_app, name="airflow")  # airflow prepare|up|down|status

StoreOpt = Annotated[
    str | None, typer.Option("--store-url", help="Governance store URL (default: DQGOV_STORE_URL).")
]


def echo(message: str) -> None:
    typer.echo(message, err=True)


@app.command()
def check(
    ctx: typer.Context,
    source_url: Annotated[str, typer.Option("--source-url", help="Source database (SQLAlchemy URL).")],
    check_date: Annotated[
        str | None, typer.Option("--check-date", help="YYYY-MM-DD, not after today; default today.")
    ] = None,
    accept_drop: Annotated[
        bool, typer.Option("--accept-drop", help="Confirm a drop of records the volume guard would stop.")
    ] = False,
    staff: Annotated[
        str | None,
        typer.Option("--staff", help="Who accepts the drop (data office); needed with --accept-drop."),
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental/--full",
            help="Evaluate only the records that may have changed since the last run (full when that is "
            "not safe: first run, rules or staff changed, a run voided), or every record (default).",
        ),
    ] = False,
    store_url: StoreOpt = None,
) -> None:
    """Run every suite once against a source that follows the contract, and reconcile the to-dos.

    All or nothing: the whole source is verified, then every suite validated, and only then reconciled.
    """
    warn_coverage_when_done(ctx, store_url, check_date)  # uncovered calendar years, once the check succeeded
    from expectations.rulebook import load_suites
    from remediation.store.engines import open_store
    from remediation.store.source import open_source

    day = parse_date(check_date, "--check-date", not_after_today=True)
    if accept_drop and not staff:
        raise DqgovError(
            "--accept-drop needs --staff ID: the member of the data office who confirms the drop"
        )
    suites = load_suites()
    source = open_source(source_url, [s.table for s in suites])  # the whole contract, before the store
    try:
        mode = "incremental" if incremental else "full"
        _check(source, open_store(store_url), suites, day, staff if accept_drop else None, mode)
    finally:
        source.dispose()


def _check(
    source: Any, store: Any, suites: Any, day: dt.date, accepted_by: str | None, mode: str = "full"
) -> None:
    from remediation.checks.pipeline import run_checks

    for s in run_checks(source, store, suites, day, "cli", echo, accepted_by, mode=mode):
        v, r = s.validation, s.reconcile
        typer.echo(
            f"{s.table} {day}: {v.mode} run, {v.records_evaluated} records evaluated, "
            f"{v.records_in_scope} records in scope, {v.failing_records} failing, "
            f"{v.findings} findings; to-dos opened {r.opened}, reopened {r.reopened}, kept {r.kept}, "
            f"fixed {r.fixed}, out of scope {r.out_of_scope}, gone {r.gone}, reassigned {r.reassigned} "
            f"[run {v.run_id}, {r.status}, {s.seconds:.1f}s]"
        )
        if v.rules_not_closable:
            echo(
                f"warning: {s.table}: rules not closed this run (GX error or count mismatch): "
                f"{', '.join(v.rules_not_closable)}"
            )
        if v.source_defects:
            echo(f"warning: {s.table}: source defects, reported to the data office: {v.source_defects}")


@findings_app.command("export")
def findings_export(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    include_closed: Annotated[bool, typer.Option("--all", help="Also closed to-dos.")] = False,
    store_url: StoreOpt = None,
) -> None:
    """Write the findings export (the contract's columns, exact header names) to CSV."""
    from remediation.reporting.export import export_findings
    from remediation.store.engines import open_store

    if not out.parent.exists():
        raise DqgovError(f"--out {out}: folder {out.parent} does not exist")
    count = export_findings(open_store(store_url), out, include_closed)
    typer.echo(f"wrote {count} findings to {out}")


@rules_app.command("list")
def rules_list() -> None:
    """List every rule: id, table, clause, columns, severity, description."""
    from expectations.rulebook import load_suites

    for suite in load_suites():
        for r in suite.rules:
            typer.echo(
                f"{r.id:32} {r.table:13} {r.clause_text:6} {r.severity:7} {r.columns_text:34} {r.description}"
            )


@rules_app.command("docs")
def rules_docs(
    out: Annotated[Path, typer.Option("--out", help="Markdown file to write.")] = Path("docs/rules.md"),
) -> None:
    """Write the rule catalogue (per table, and which rules cover each clause) as Markdown."""
    from expectations.catalogue import rules_markdown, uncovered_clauses
    from expectations.rulebook import load_suites

    if not out.parent.exists():
        raise DqgovError(f"--out {out}: folder {out.parent} does not exist")
    suites = load_suites()
    out.write_text(rules_markdown(suites), encoding="utf-8")
    rules = sum(len(s.rules) for s in suites)
    typer.echo(f"wrote {rules} rules to {out}")
    uncovered = uncovered_clauses(suites)
    if uncovered:
        echo(f"warning: no rule cites clause(s) {', '.join(uncovered)}")


@app.command()
def reference() -> None:
    """Print the versions of the reference data the checks use (MCC list, division codes, placeholders)."""
    from expectations.reference import reference_versions

    for name, version in reference_versions().items():
        typer.echo(f"{name:15} {version}")


@app.command("demo-data")
def demo_data(
    out: Annotated[str, typer.Option("--out", help="Source database URL to (re)create.")] = "",
    merchants: Annotated[int, typer.Option(min=0, help="Number of merchants.")] = 2000,
    customers: Annotated[int, typer.Option(min=0, help="Number of corporate customers.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same bank.")] = 42,
    defect_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of records with defects.")
    ] = 0.15,
    check_date: Annotated[str | None, typer.Option("--check-date", help="Expiries relative to this.")] = None,
) -> None:
    """Generate a demo bank (the four source tables of the contract) with injected defects."""
    out = out or settings.get("DQGOV_SOURCE_URL")
    _generate_demo_bank(out, merchants, customers, seed, defect_rate, parse_date(check_date, "--check-date"))


def _generate_demo_bank(
    url: str, merchants: int, customers: int, seed: int, rate: float, day: dt.date
) -> None:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from remediation.demobank import DemoBankSpec, generate_demo_bank
    from remediation.store.engines import safe_url

    try:
        parsed = make_url(url)
    except Exception:
        raise DqgovError(
            f"--out {url!r} is not a SQLAlchemy URL (e.g. sqlite:///var/demo_source.sqlite)"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    spec = DemoBankSpec(merchants=merchants, customers=customers, seed=seed, defect_rate=rate, check_date=day)
    defects = generate_demo_bank(sa.create_engine(parsed), spec, progress=echo)
    typer.echo(
        f"demo bank at {safe_url(parsed)}: {merchants} merchants, {customers} customers, "
        f"{len(defects)} injected defects (seed {seed}, {time.perf_counter() - started:.1f}s)"
    )


@app.command()
def demo(
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the portal afterwards.")] = True,
    merchants: Annotated[int, typer.Option(min=1)] = 300,
    customers: Annotated[int, typer.Option(min=1)] = 120,
    seed: int = 42,
    days: Annotated[
        int,
        typer.Option(
            min=1, max=120, help="Dates of history ending today; 1: today only. Earlier dates run in-process."
        ),
    ] = 42,
) -> None:
    """Build the demo bank with weeks of history (checks on past dates, fixes and regressions, appeals,
    cards, snapshots), run today's checks through Airflow, print a summary, then serve the portal."""
    import sqlalchemy as sa

    from expectations.rulebook import load_suites
    from remediation.demobank.history import build_history
    from remediation.orchestration.dag_defaults import NOTIFY_DAG, SNAPSHOT_DAG, check_dag_id
    from remediation.orchestration.embedded_airflow import airflow_env, ensure_metadata_db, run_dag
    from remediation.store.engines import open_store

    day = today_shanghai()
    source_url = settings.get("DQGOV_SOURCE_URL")
    if days == 1:
        _generate_demo_bank(source_url, merchants, customers, seed, 0.15, day)
        store = open_store()
    else:
        store = open_store()
        started = time.perf_counter()
        echo(
            f"building {days - 1} days of history before {day} on {merchants} merchants, {customers} customers …"
        )
        history = build_history(
            sa.create_engine(source_url),
            store,
            day - dt.timedelta(days=1),
            days=days - 1,
            merchants=merchants,
            customers=customers,
            seed=seed,
            progress=echo,
        )
        echo(
            f"  history {history.first} … {history.last}: {history.fixed} fixes, {history.regressed} "
            f"regressions, {history.appeals} appeals ({time.perf_counter() - started:.1f}s)"
        )
    log = settings.home() / "var" / "airflow" / "demo-run.log"
    env = airflow_env()
    echo(f"preparing Airflow metadata database (log: {log})")
    ensure_metadata_db(env, log)
    # the check DAGs, then what their assets trigger in production: the snapshot and the reminders
    for dag_id in [*(check_dag_id(suite.table) for suite in load_suites()), SNAPSHOT_DAG, NOTIFY_DAG]:
        started = time.perf_counter()
        echo(f"running DAG {dag_id} through Airflow for {day} …")
        run_dag(dag_id, day, {"source_url": source_url}, env, log)
        echo(f"  done in {time.perf_counter() - started:.1f}s")
    _print_summary(store, day)
    print_demo_logins(store)
    if serve:
        serve_portal()


def _print_summary(store: object, day: dt.date) -> None:
    import sqlalchemy as sa

    from remediation.store.models import CheckRun, Institution, Todo, TodoStatus

    assert isinstance(store, sa.Engine)
    with store.connect() as conn:
        runs = conn.execute(
            sa.select(CheckRun.table_name, CheckRun.records_in_scope, CheckRun.findings, CheckRun.opened)
            .where(CheckRun.logical_date == day, CheckRun.status == "reconciled")
            .order_by(CheckRun.id)
        ).all()
        insts = {i.inst_code: i for i in conn.execute(sa.select(Institution)).all()}
        per_inst = conn.execute(
            sa.select(Todo.inst_code, sa.func.count())
            .where(Todo.status == TodoStatus.OPEN)
            .group_by(Todo.inst_code)
        ).all()
    typer.echo(f"\n检查日 check date {day}")
    for table, in_scope, findings, opened in runs:
        typer.echo(
            f"  {table:13} 检查记录 records checked {in_scope:>7}   问题 findings {findings:>6}   新开待办 opened {opened:>6}"
        )
    per_branch: Counter[str] = Counter()
    for inst_code, n in per_inst:
        node = insts.get(inst_code)
        while node is not None and node.inst_level == "sub_branch" and node.parent_code in insts:
            node = insts[node.parent_code]
        per_branch[node.inst_name if node else f"{inst_code} (未知机构 unknown)"] += n
    typer.echo("  各分行待办 open to-dos per branch:")
    for name, n in sorted(per_branch.items(), key=lambda kv: -kv[1]):
        typer.echo(f"    {name:20} {n:>6}")


@app.command()
def serve() -> None:
    """Serve the portal on http://127.0.0.1:$DQGOV_PORTAL_PORT (default 8000)."""
    serve_portal()


def serve_portal() -> None:
    import gc

    import uvicorn

    from portal.app import create_app

    port = settings.port_of("DQGOV_PORTAL_PORT")
    app = create_app()
    # the imports and the app are there for good: keep them out of the collector's full passes, which
    # otherwise walk a million objects (~0.4 s) in the middle of some request (docs/benchmarks.md)
    gc.collect()
    gc.freeze()
    typer.echo(f"portal: http://127.0.0.1:{port}  (Ctrl-C to stop)")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def main() -> None:
    try:
        app()
    except (DqgovError, RuleFileError) as exc:
        typer.echo(f"dqgov: error: {exc}", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        typer.echo(f"dqgov: error: database: {reason}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
