"""GX Data Docs of a check run: built by GX, self-contained, counts only (no failing values), no source URL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from expectations.rulebook import load_suites
from remediation.checks.pipeline import run_suite
from remediation.checks.verification import recheck_record
from remediation.reporting.datadocs import DataDocsError, build_data_docs, docs_info, sanitize_html
from remediation.store.engines import open_store
from remediation.store.models import CheckRun
from tests.dbenv import Databases, source_engine
from tests.factories import CHECK_DATE, build_source, merchant_row

BAD_PHONE = "12345678901"
BAD_ID = "360402198506121230"


def test_data_docs_are_built_by_gx_without_failing_values(
    sqlite_databases: Databases, tmp_path: Path
) -> None:
    source_url = sqlite_databases.new("source")
    build_source(
        source_url, [merchant_row(1, contact_phone=BAD_PHONE), merchant_row(2, legal_rep_id_no=BAD_ID)]
    )
    store = open_store(sqlite_databases.new("store"))
    merchant = next(s for s in load_suites() if s.table == "merchant")
    run_id = run_suite(source_engine(source_url), store, merchant, CHECK_DATE).validation.run_id
    info = build_data_docs(store, source_url, run_id, tmp_path)
    assert info.success is False and info.gx_counts["MER-C1-PHONE-FORMAT"] == 1
    assert info.gx_counts == {k: v for k, v in info.run_counts.items()}  # the source has not changed
    assert docs_info(tmp_path, run_id) == info
    pages = list((tmp_path / str(run_id)).rglob("*.html"))
    assert len(pages) >= 3 and (tmp_path / str(run_id) / "index.html").exists()
    assert info.index.startswith("validations/") and info.suite_page.startswith("expectations/")
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert BAD_PHONE not in html and BAD_ID not in html and "123****" not in html
        assert "sqlite" not in html and str(tmp_path) not in html
        assert "<script" not in html and "cdn." not in html and "/static/datadocs.css" in html
    validation = (tmp_path / str(run_id) / info.index).read_text(encoding="utf-8")
    assert "MER-C1-PHONE-FORMAT" in validation and "1 unexpected values found" in validation
    target = recheck_record(
        source_engine(source_url), store, "merchant", merchant_row(1)["mer_id"], CHECK_DATE
    )
    with pytest.raises(DataDocsError):
        build_data_docs(store, source_url, target.run_id, tmp_path)
    with store.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(CheckRun)) == 2


def test_sanitize_removes_scripts_and_external_assets() -> None:
    html = (
        '<html><head><script src="https://cdn.x/a.js"></script><link rel="stylesheet" href="https://cdn.x/b.css">'
        '<link rel="icon" href="./static/f.ico"></head><body><img src="https://s3.x/logo.png?id=1">'
        '<script>alert(1)</script><p>ok</p><p>by <a href="https://greatexpectations.io">GX</a> '
        '<a href="./validations/x.html">run</a></p></body></html>'
    )
    clean = sanitize_html(html)
    assert "script" not in clean and "cdn.x" not in clean and "s3.x" not in clean
    assert "./static/f.ico" in clean and "<p>ok</p>" in clean and "/static/datadocs.css" in clean
    assert "greatexpectations.io" not in clean and "by GX" in clean  # a link out keeps its text only
    assert '<a href="./validations/x.html">run</a>' in clean
