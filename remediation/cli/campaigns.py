"""`dqgov campaign …`, `dqgov snapshot`, `dqgov report`: campaigns and the numbers branches are assessed on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from remediation.errors import DqgovError

campaign_app = typer.Typer(help="Campaigns (专项治理).", no_args_is_help=True)

StoreOpt = Annotated[
    str | None, typer.Option("--store-url", help="Governance store URL (default: DQGOV_STORE_URL).")
]


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@campaign_app.command("create")
def campaign_create(
    name: Annotated[str, typer.Option(help="Campaign name.")],
    baseline: Annotated[
        str, typer.Option(help="Baseline date YYYY-MM-DD: findings existing then are stock.")
    ],
    deadline: Annotated[str, typer.Option(help="Deadline YYYY-MM-DD.")],
    target: Annotated[float, typer.Option(help="Target completion rate, e.g. 0.9.")] = 0.9,
    tables: Annotated[str, typer.Option(help="Record types, comma-separated (default all).")] = "",
    rules: Annotated[str, typer.Option(help="Rule ids, comma-separated (default all).")] = "",
    institutions: Annotated[str, typer.Option(help="Institution codes (subtrees), comma-separated.")] = "",
    store_url: StoreOpt = None,
) -> None:
    """Create a campaign."""
    from remediation.clock import parse_date
    from remediation.store.engines import open_store
    from remediation.workflow.audit import audit, cli_client
    from remediation.workflow.campaigns import create_campaign

    store = open_store(store_url)
    campaign = create_campaign(
        store,
        name,
        parse_date(baseline, "--baseline"),
        parse_date(deadline, "--deadline"),
        target,
        _list(tables),
        _list(rules),
        _list(institutions),
    )
    audit(
        store, None, "campaign_created", detail=f"campaign {campaign.id} {campaign.name}", client=cli_client()
    )
    typer.echo(f"campaign {campaign.id} created: {campaign.name}")


@campaign_app.command("list")
def campaign_list(store_url: StoreOpt = None) -> None:
    """List campaigns."""
    from remediation.store.engines import open_store
    from remediation.workflow.campaigns import list_campaigns

    for c in list_campaigns(open_store(store_url)):
        scope = (
            "; ".join(
                part for part in (",".join(c.tables), ",".join(c.rules), ",".join(c.institutions)) if part
            )
            or "全部 all"
        )
        mark = " (default)" if c.is_default else ""
        typer.echo(
            f"{c.id:>3}  {c.name}{mark}  baseline {c.baseline_date}  deadline {c.deadline}  "
            f"target {c.target_rate:.0%}  scope: {scope}"
        )


def snapshot(
    date: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD; default today.")] = None,
    store_url: StoreOpt = None,
) -> None:
    """Take the daily snapshot (per campaign × institution × rule); a month-end snapshot is frozen."""
    from remediation.clock import parse_date
    from remediation.reporting.snapshots import take_snapshot
    from remediation.store.engines import open_store

    summary = take_snapshot(open_store(store_url), parse_date(date, "--date", not_after_today=True))
    typer.echo(
        f"snapshot {summary.day}: {summary.rows} rows for {summary.campaigns} campaign(s)"
        + (" — frozen (month end)" if summary.frozen else "")
    )
    for name in summary.skipped_frozen:
        typer.echo(f"  {name}: already frozen, left unchanged")
    if summary.not_frozen_because:
        typer.echo(f"warning: {summary.not_frozen_because}", err=True)


def report(
    date: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD; default today.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | xlsx")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (required for xlsx).")] = None,
    campaign: Annotated[int | None, typer.Option(help="Campaign id (default: the default campaign).")] = None,
    store_url: StoreOpt = None,
) -> None:
    """The institution issue summary table (机构问题汇总表). It reads only: for a day without a snapshot the
    figures are computed now from the to-dos (live, not stored), and a note on stderr says so."""
    from remediation.clock import parse_date
    from remediation.reporting import report as rep
    from remediation.reporting.snapshots import summary_table
    from remediation.store.engines import open_store

    if fmt not in ("table", "csv", "xlsx"):
        raise DqgovError(f"--format {fmt!r}: choose table, csv or xlsx")
    if fmt == "xlsx" and out is None:
        raise DqgovError("--format xlsx needs --out FILE.xlsx")
    if out is not None and not out.parent.exists():
        raise DqgovError(f"--out {out}: folder {out.parent} does not exist")
    day = parse_date(date, "--date")
    table = summary_table(open_store(store_url), day, campaign)
    scores = table.scores
    if table.live:
        typer.echo(
            f"note: no snapshot for {day}: live figures from the to-dos now, not stored "
            "(the T+1 snapshot is taken after the day's checks: dqgov snapshot)",
            err=True,
        )
    if fmt == "xlsx":
        from remediation.clock import today_shanghai
        from remediation.policy import current_policy
        from remediation.reporting.queries import TodoScope
        from remediation.reporting.summary_workbook import manager_rows, write_summary

        assert out is not None
        store = open_store(store_url)
        managers = manager_rows(store, table, TodoScope(everything=True), today_shanghai())
        write_summary(out, table, current_policy(), managers)
        typer.echo(f"wrote {len(scores)} institutions and {len(managers)} account managers to {out}")
        return
    text = rep.to_csv(scores) if fmt == "csv" else rep.to_text(scores)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        typer.echo(f"wrote {len(scores)} institutions to {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(campaign_app, name="campaign")
    app.command("snapshot")(snapshot)
    app.command("report")(report)
