"""Great Expectations Data Docs for a check run, built by GX into `var/datadocs/<run_id>/`.

The daily validation keeps no GX results (an ephemeral context; the store holds the counts), so the docs
of a run are built on request: GX validates the run's table again for the run's check date, with the
same expectations, and renders its Data Docs site into a local folder. The page says so, and shows GX's
counts now next to the run's.

Masking: the validation asks for counts only (`BASIC`, no partial unexpected list), and the build refuses
to publish when any result still carries sample values. The pages are then made self-contained for a
bank intranet: every script and every external style sheet or image (GX links CDNs) is removed, and a
local style sheet is linked instead. The source URL never reaches the pages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from expectations.kinds import CheckContext
from expectations.rulebook import Suite, UnknownTable, suite_for
from remediation import settings
from remediation.clock import now
from remediation.errors import DqgovError, NotFound
from remediation.store.models import CheckRun, CheckRunRule

SAMPLE_KEYS = (
    "partial_unexpected_list",
    "partial_unexpected_counts",
    "partial_unexpected_index_list",
    "unexpected_list",
    "unexpected_index_list",
    "unexpected_index_query",
    "unexpected_rows",
)
INFO_FILE = "dqgov.json"
STYLESHEET = "/static/datadocs.css"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.S | re.I)
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*href=[\"']https?://[^>]*>", re.S | re.I)
_EXTERNAL_IMG = re.compile(r"<img\b[^>]*src=[\"']https?://[^>]*>", re.S | re.I)
_EXTERNAL_ANCHOR = re.compile(r"<a\b[^>]*href=[\"'](?:https?:)?//[^>]*>(.*?)</a\s*>", re.S | re.I)


class DataDocsError(DqgovError):
    """The docs of a run cannot be built."""


def docs_root() -> Path:
    return settings.home() / "var" / "datadocs"


@dataclass(frozen=True)
class DocsInfo:
    run_id: int
    table: str
    logical_date: dt.date
    built_at: dt.datetime
    success: bool
    gx_counts: dict[str, int | None]  # per rule, as GX counted when the docs were built
    run_counts: dict[str, int | None]  # per rule, as the run counted
    index: (
        str  # the validation result page, relative to the run's folder (GX's index.html lists it by script)
    )
    suite_page: str = ""  # the expectation suite page


def docs_info(root: Path, run_id: int) -> DocsInfo | None:
    path = root / str(run_id) / INFO_FILE
    if not path.exists():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return DocsInfo(
        run_id=raw["run_id"],
        table=raw["table"],
        logical_date=dt.date.fromisoformat(raw["logical_date"]),
        built_at=dt.datetime.fromisoformat(raw["built_at"]),
        success=raw["success"],
        gx_counts=raw["gx_counts"],
        run_counts=raw["run_counts"],
        index=raw["index"],
        suite_page=raw.get("suite_page", ""),
    )


def sanitize_html(html: str) -> str:
    """No scripts, no external style sheets, images or links (a link keeps its text); our local style sheet
    instead."""
    html = _SCRIPT.sub("", html)
    html = _EXTERNAL_ANCHOR.sub(r"\1", html)
    html = _EXTERNAL_LINK.sub("", html)
    html = _EXTERNAL_IMG.sub("", html)
    return html.replace("</head>", f'<link rel="stylesheet" href="{STYLESHEET}"></head>', 1)


def _samples(result: Any) -> list[str]:
    found = []
    for res in result.results:
        body = res.result or {}
        for key in SAMPLE_KEYS:
            if body.get(key):
                found.append(f"{res.expectation_config.meta.get('rule_id')}:{key}")
    return found


def _first(site: Path, folder: str) -> str:
    pages = sorted((site / folder).rglob("*.html"))
    return pages[0].relative_to(site).as_posix() if pages else "index.html"


def build_data_docs(store: sa.Engine, source_url: str, run_id: int, root: Path | None = None) -> DocsInfo:
    """Validate the run's table again with GX for the run's check date and build its Data Docs."""
    root = root or docs_root()
    with store.connect() as conn:
        run = conn.execute(sa.select(CheckRun).where(CheckRun.id == run_id)).first()
        run_counts = dict(
            conn.execute(
                sa.select(CheckRunRule.rule_id, CheckRunRule.unexpected).where(CheckRunRule.run_id == run_id)
            )
            .tuples()
            .all()
        )
    if run is None:
        raise NotFound(f"there is no check run {run_id}", code="run_not_found", run=run_id)
    if run.record_key is not None:
        raise DataDocsError(
            f"run {run_id} re-checked one record; GX did not validate it", code="docs_recheck_run", run=run_id
        )
    try:
        suite = suite_for(run.table_name)
    except UnknownTable:
        raise DataDocsError(
            f"there are no rules for record type {run.table_name!r} any more",
            code="docs_no_rules",
            table=run.table_name,
        ) from None
    target = root / str(run_id)
    work = root / f".{run_id}.part"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        result = _validate_and_build(
            source_url, suite, CheckContext(check_date=run.logical_date), work, run_id
        )
        leaked = _samples(result)
        if leaked:
            raise DataDocsError(
                f"GX returned sample values ({', '.join(leaked[:5])}); the docs are not published",
                code="docs_samples",
                rules=", ".join(leaked[:5]),
            )
        pages = list(work.rglob("*.html"))
        for page in pages:
            page.write_text(sanitize_html(page.read_text(encoding="utf-8")), encoding="utf-8")
        gx_counts = {
            res.expectation_config.meta.get("rule_id"): (res.result or {}).get("unexpected_count")
            for res in result.results
        }
        info = DocsInfo(
            run_id=run_id,
            table=suite.table,
            logical_date=run.logical_date,
            built_at=now(),
            success=bool(result.success),
            gx_counts=gx_counts,
            run_counts=run_counts,
            index=_first(work, "validations"),
            suite_page=_first(work, "expectations"),
        )
        (work / INFO_FILE).write_text(
            json.dumps(
                {
                    **info.__dict__,
                    "logical_date": info.logical_date.isoformat(),
                    "built_at": info.built_at.isoformat(),
                },
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        shutil.rmtree(target, ignore_errors=True)
        os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return info


def _validate_and_build(source_url: str, suite: Suite, ctx: CheckContext, site: Path, run_id: int) -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from expectations.gx.expectations import expectations_for

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    site_config: Any = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site) + "/"},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    context.add_data_docs_site(site_name="dqgov", site_config=site_config)
    datasource = context.data_sources.add_sql(name="source", connection_string=source_url)
    try:
        asset = datasource.add_table_asset(name=suite.table, table_name=suite.table)
        batch = asset.add_batch_definition_whole_table(name=f"{suite.table}_whole_table")
        gx_suite = context.suites.add(
            gx.ExpectationSuite(name=f"dqgov_{suite.table}", expectations=expectations_for(suite, ctx))
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"dqgov_{suite.table}_run_{run_id}", data=batch, suite=gx_suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"dqgov_{suite.table}_docs",
                validation_definitions=[definition],
                actions=[UpdateDataDocsAction(name="data_docs", site_names=["dqgov"])],
                result_format={"result_format": "BASIC", "partial_unexpected_count": 0},
            )
        )
        outcome = checkpoint.run(run_id=RunIdentifier(run_name=f"dqgov-run-{run_id}"))
    finally:
        datasource.get_engine().dispose()
    return next(iter(outcome.run_results.values()))
