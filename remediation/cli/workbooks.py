"""`dqgov todos export` and `dqgov corrections import`: the Excel round-trip (remediation/workbooks/)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from remediation.errors import DqgovError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from remediation.workbooks.todo_import import Preview

todos_app = typer.Typer(help="To-do workbooks for people who work offline.", no_args_is_help=True)
corrections_app = typer.Typer(help="Corrections returned in to-do workbooks.", no_args_is_help=True)

StoreOpt = Annotated[
    str | None, typer.Option("--store-url", help="Governance store URL (default: DQGOV_STORE_URL).")
]
SourceOpt = Annotated[
    str | None, typer.Option("--source-url", help="Source database URL (default: DQGOV_SOURCE_URL).")
]


def _engines(store_url: str | None, source_url: str | None) -> tuple[sa.Engine, sa.Engine]:
    from remediation import settings
    from remediation.store.engines import open_store
    from remediation.store.source import open_source

    return open_store(store_url), open_source(source_url or settings.get("DQGOV_SOURCE_URL"))


@todos_app.command("export")
def todos_export(
    out: Annotated[Path, typer.Option("--out", help="The .xlsx file to write.")],
    staff: Annotated[str | None, typer.Option("--staff", help="An account manager's to-dos.")] = None,
    inst: Annotated[
        str | None, typer.Option("--inst", help="An institution's to-dos (with those below it).")
    ] = None,
    store_url: StoreOpt = None,
    source_url: SourceOpt = None,
) -> None:
    """Write a signed to-do workbook: one row per open to-do, with columns to type corrections into."""
    from remediation.workbooks.todo_export import ExportScope, export_todos
    from remediation.workflow.audit import cli_client

    if out.suffix.lower() != ".xlsx":
        raise DqgovError(f"--out {out}: the workbook's name must end in .xlsx")
    if not out.parent.exists():
        raise DqgovError(f"--out {out}: folder {out.parent} does not exist")
    scope = ExportScope(staff_id=staff, inst_code=inst)
    store, source = _engines(store_url, source_url)
    issue = export_todos(store, source, scope, out, issued_by=cli_client())
    typer.echo(f"wrote {issue.rows} to-dos ({issue.scope}) to {out}; workbook {issue.issue_id}")


@corrections_app.command("import")
def corrections_import(
    file: Annotated[Path, typer.Argument(help="A to-do workbook returned with corrections typed in.")],
    staff: Annotated[str, typer.Option("--staff", help="Who imports: only their own to-dos are taken.")],
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the accepted corrections back (default: preview only).")
    ] = False,
    preview_out: Annotated[
        Path | None, typer.Option("--preview", help="Also write the preview as a workbook here.")
    ] = None,
    check_date: Annotated[
        str | None, typer.Option("--check-date", help="YYYY-MM-DD of the re-check; default today.")
    ] = None,
    store_url: StoreOpt = None,
    source_url: SourceOpt = None,
) -> None:
    """Preview the corrections in a returned workbook; with --apply, write them back and re-check."""
    from remediation.checks.writeback import writeback_for
    from remediation.clock import parse_date, today_shanghai
    from remediation.lifecycle import Lifecycle
    from remediation.workbooks.apply import apply_preview, write_preview
    from remediation.workbooks.todo_import import judge_workbook
    from remediation.workflow.audit import audit, cli_client

    if not file.is_file():
        raise DqgovError(f"{file}: no such file")
    day = parse_date(check_date, "--check-date") if check_date else today_shanghai()
    store, source = _engines(store_url, source_url)
    from expectations.rulebook import load_suites

    suites = load_suites()
    preview = judge_workbook(file, store, source, staff, check_date=day, suites=suites)
    if apply:
        writeback = writeback_for(source)
        apply_preview(
            store,
            source,
            preview,
            staff,
            writeback,
            check_date=day,
            suites=suites,
            lifecycle=Lifecycle.in_force(),
            client=cli_client(),
        )
        audit(
            store,
            staff,
            "workbook_import",
            client=cli_client(),
            detail=f"workbook {preview.issue.issue_id} ({file.name}): {_counts(preview)}",
        )
    for row in preview.rows:
        fields = ", ".join(f"{c}={v}" for c, v in row.shown().items())
        why = "; ".join(f"{c}: {w}" for c, ws in row.reasons.items() for w in ws) or row.detail
        typer.echo(
            f"row {row.row}\tto-do {row.todo_id}\t{row.rule_id}\t{fields}\t{row.status}"
            + (f"\t{why}" if why else "")
        )
    if preview_out is not None:
        write_preview(preview, preview_out)
        typer.echo(f"preview written to {preview_out}")
    typer.echo(
        f"workbook {preview.issue.issue_id}: {_counts(preview)}, {preview.blank} rows left empty"
        + ("" if apply else "; nothing applied: run again with --apply to write them back")
    )


def _counts(preview: Preview) -> str:
    from collections import Counter

    counts = Counter(r.status for r in preview.rows)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no corrections typed"


def register(app: typer.Typer) -> None:
    app.add_typer(todos_app, name="todos")
    app.add_typer(corrections_app, name="corrections")
