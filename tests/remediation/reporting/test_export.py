"""CSV and Excel output never carries a live formula: text that a spreadsheet would run is neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from expectations.rulebook import load_suites
from remediation.checks.pipeline import run_suite
from remediation.policy import current_policy
from remediation.reporting.export import export_findings
from remediation.reporting.queries import TodoScope
from remediation.reporting.report import to_csv
from remediation.reporting.snapshots import institution_scores, summary_table, take_snapshot
from remediation.reporting.spreadsheet import neutral
from remediation.reporting.summary_workbook import manager_rows, write_summary
from remediation.store.engines import open_store
from tests.dbenv import Databases, source_engine
from tests.factories import CHECK_DATE, build_source, merchant_row

EVIL_NAME = '=HYPERLINK("http://x","点击")'
EVIL_KEYS = ("=1+2", "@SUM(A1)", "+1-2", "-1+2", "\t=1", "\r=1")


@pytest.fixture
def checked(databases: Databases) -> sa.Engine:
    """A bank whose sub-branch 110100 is named like a formula, with merchants keyed like formulas."""
    source_url = databases.new("source")
    merchants = [merchant_row(1, mer_id=k, contact_phone="12345") for k in EVIL_KEYS]
    source = build_source(source_url, merchants)
    with source.begin() as conn:
        conn.execute(
            sa.text("UPDATE institution SET inst_name = :n WHERE inst_code = '110100'"), {"n": EVIL_NAME}
        )
    source.dispose()
    store = open_store(databases.new("store"))
    for suite in load_suites():
        run_suite(source_engine(source_url), store, suite, CHECK_DATE)
    take_snapshot(store, CHECK_DATE)
    return store


def test_findings_csv_cells_that_start_like_a_formula_start_with_a_quote(
    checked: sa.Engine, tmp_path: Path
) -> None:
    out = tmp_path / "findings.csv"
    export_findings(checked, out)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        keys = {row["record_key"] for row in csv.DictReader(fh)}
    assert keys == {"'" + k for k in EVIL_KEYS}


def test_the_summary_workbook_holds_the_institution_name_as_text_not_a_formula(
    checked: sa.Engine, tmp_path: Path
) -> None:
    _, scores = institution_scores(checked, CHECK_DATE)
    table = summary_table(checked, CHECK_DATE)
    path = tmp_path / "summary.xlsx"
    managers = manager_rows(checked, table, TodoScope(everything=True), CHECK_DATE)
    write_summary(path, table, current_policy(), managers, dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC))
    book = load_workbook(path)
    assert book.sheetnames == ["封面", "总行", "分行", "支行", "客户经理"]
    cover = {r[0]: r[1] for r in book["封面"].iter_rows(min_row=2, values_only=True)}
    assert cover["统计日期 Day"] == "2026-11-20" and cover["数据口径 Figures"].startswith("T+1 快照")
    assert "(已整改 + 已豁免) ÷ 存量基数" in cover["存量治理完成率"] and "0.6 × 完成率" in cover["考评得分"]
    sheet = book["支行"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["机构名称", "机构代码", "上级机构"]  # names first
    rows = {sheet.cell(r, 2).value: r for r in range(2, sheet.max_row + 1)}
    evil = sheet.cell(rows["110100"], 1)
    assert evil.data_type == "s" and evil.value == "'" + EVIL_NAME
    for name in book.sheetnames:
        assert not any(c.data_type == "f" for row in book[name].iter_rows() for c in row)
    baseline = sheet.cell(rows["110100"], header.index("存量基数") + 1)
    assert baseline.data_type == "n" and isinstance(baseline.value, int) and baseline.value > 0  # a number
    rate = sheet.cell(rows["110100"], header.index("存量治理完成率") + 1)
    assert rate.number_format == "0.0%" and 0 <= rate.value <= 1
    assert sheet.cell(rows["110100"], header.index("完成率日变化") + 1).number_format == "+0.0%;-0.0%;0.0%"
    assert sheet.freeze_panes == "B2" and sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9  # A4
    rules = [r for cf in sheet.conditional_formatting for r in cf.rules]
    assert {r.type for r in rules} == {"colorScale", "cellIs"}
    people = book["客户经理"]
    assert [c.value for c in people[1]][:3] == ["客户经理", "工号", "所属机构"]
    assert {people.cell(r, 2).value for r in range(2, people.max_row + 1)} == {m.staff_id for m in managers}
    assert "M101" in {m.staff_id for m in managers} and managers[0].rank == 1
    summary = list(csv.DictReader(io.StringIO(to_csv(scores))))
    assert {r["inst_name"] for r in summary if r["inst_code"] == "110100"} == {"'" + EVIL_NAME}


def test_numbers_and_dates_are_kept_and_only_formula_like_text_is_quoted() -> None:
    import datetime as dt
    from decimal import Decimal

    assert neutral(-0.25) == -0.25 and neutral(-3) == -3 and neutral(Decimal("-1.5")) == Decimal("-1.5")
    assert neutral(dt.date(2026, 11, 20)) == dt.date(2026, 11, 20) and neutral(None) is None
    assert neutral("-12.5") == "-12.5" and neutral("+3") == "+3"  # a number written as text is a number
    assert [neutral(v) for v in ("=1", "+1+1", "-2-2", "@x", "\tx", "\rx")] == [
        "'=1",
        "'+1+1",
        "'-2-2",
        "'@x",
        "'\tx",
        "'\rx",
    ]
    assert neutral("九江银行") == "九江银行" and neutral("a=1") == "a=1" and neutral("") == ""
