"""The 机构问题汇总表 as a workbook a branch prints and files: a cover, then one sheet per level.

Cover: the campaign, the day, whether the figures are the T+1 snapshot or live ones, the cut-off, and
the formulas. Then 总行/分行/支行 (from the day's snapshot, or live) and 客户经理 (live: snapshots are kept
per institution), names first; frozen header and name column, widths, number formats, a colour scale on
the completion rate, red where there are red cards, A4 landscape with the header row on every page.
Every text cell goes through `spreadsheet.neutral`. Reads only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from remediation.policy import Policy
from remediation.reporting.dashboard import live_breakdown, rank
from remediation.reporting.orgtree import institution_tree, staff_rows
from remediation.reporting.queries import TodoScope
from remediation.reporting.report import as_row
from remediation.reporting.snapshots import InstitutionScore, SummaryTable
from remediation.reporting.spreadsheet import neutral

LEVELS = (("head", "总行"), ("branch", "分行"), ("sub_branch", "支行"))
# (field, header, width, number format)
INST_COLUMNS: tuple[tuple[str, str, int, str | None], ...] = (
    ("inst_name", "机构名称", 26, None),
    ("inst_code", "机构代码", 10, None),
    ("parent_code", "上级机构", 10, None),
    ("baseline", "存量基数", 10, "#,##0"),
    ("fixed", "已整改", 9, "#,##0"),
    ("exempted", "已豁免", 9, "#,##0"),
    ("open", "未完成", 9, "#,##0"),
    ("overdue", "超时", 8, "#,##0"),
    ("yellow", "黄牌", 7, "#,##0"),
    ("red", "红牌", 7, "#,##0"),
    ("completion_rate", "存量治理完成率", 12, "0.0%"),
    ("rank", "同级排名", 8, "0"),
    ("peers", "同级机构数", 9, "0"),
    ("rate_change", "完成率日变化", 11, "+0.0%;-0.0%;0.0%"),
    ("new_record_quality", "增量数据质量", 11, "0.0%"),
    ("score", "考评得分", 9, "0.0"),
)
MANAGER_COLUMNS: tuple[tuple[str, str, int, str | None], ...] = (
    ("name", "客户经理", 12, None),
    ("staff_id", "工号", 10, None),
    ("inst_name", "所属机构", 24, None),
    ("baseline", "存量基数", 10, "#,##0"),
    ("done", "已整改或豁免", 12, "#,##0"),
    ("active", "未完成", 9, "#,##0"),
    ("overdue", "超时", 8, "#,##0"),
    ("yellow", "黄牌", 7, "#,##0"),
    ("red", "红牌", 7, "#,##0"),
    ("completion_rate", "存量治理完成率", 12, "0.0%"),
    ("rank", "排名", 7, "0"),
)


@dataclass(frozen=True)
class ManagerRow:
    staff_id: str
    name: str
    inst_name: str
    baseline: int
    done: int
    active: int
    overdue: int
    yellow: int
    red: int
    completion_rate: float
    rank: int


def manager_rows(store: sa.Engine, table: SummaryTable, scope: TodoScope, today: dt.date) -> list[ManagerRow]:
    """Each assignee's live figures in the campaign and scope, best first."""
    tree = institution_tree(store)
    per = live_breakdown(store, table.campaign, scope, today, tree).by_assignee
    people = staff_rows(store, [k for k in per if k])
    ranked = rank([(k, people[k].staff_name if k in people else k, c) for k, c in per.items() if k])
    rows = []
    for r in ranked:
        inst = people[r.key].inst_code if r.key in people else None
        c = r.counts
        rows.append(
            ManagerRow(
                r.key,
                r.name,
                tree[inst].inst_name if inst in tree else (inst or ""),
                c.baseline,
                c.done,
                c.active,
                c.overdue,
                c.yellow,
                c.red,
                c.completion_rate,
                r.rank,
            )
        )
    return rows


def _cover(book: Any, table: SummaryTable, policy: Policy, generated: dt.datetime) -> None:
    from openpyxl.styles import Alignment, Font

    sheet = book.active
    sheet.title = "封面"
    kind = "实时数字（该日未生成快照，未保存，非正式口径）" if table.live else "T+1 快照（正式口径）"
    if table.frozen:
        kind += "，月末已冻结"
    w = policy.score_weights
    campaign_name = "默认专项治理" if table.campaign.is_default else table.campaign.name
    lines = [
        (f"机构问题汇总表 · {campaign_name} · {table.day.isoformat()} · {kind}", None),
        ("专项治理 Campaign", campaign_name),
        ("统计日期 Day", table.day.isoformat()),
        ("数据口径 Figures", kind),
        ("截止时间 Cut-off", f"{table.day.isoformat()} 24:00（Asia/Shanghai），当日检查对账后的待办状态"),
        ("存量基数", f"基线日 {table.campaign.baseline_date} 已存在的问题待办"),
        ("存量治理完成率", "(已整改 + 已豁免) ÷ 存量基数；基数为 0 时记 100%"),
        (
            "考评得分",
            f"100 × ({w['completion']:g} × 完成率 + {w['new_record_quality']:g} × 增量数据质量 + "
            f"{w['overdue']:g} × (1 − 超时率))",
        ),
        ("排名", "同级机构按考评得分排名；客户经理按完成率、超时数、未完成数排名（实时）"),
        ("生成时间 Generated", generated.isoformat(timespec="seconds")),
    ]
    for label, value in lines:
        sheet.append([neutral(label), neutral(value)])
    sheet["A1"].font = Font(bold=True, size=16)
    for row in sheet.iter_rows(min_row=2, max_col=1):
        row[0].font = Font(bold=True)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 80
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    _print_setup(sheet, repeat=False)


def _print_setup(sheet: Any, repeat: bool = True) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if repeat:
        sheet.print_title_rows = "1:1"


def _level_sheet(
    book: Any, title: str, columns: Sequence[tuple[str, str, int, str | None]], rows: Sequence[dict[str, Any]]
) -> None:
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    sheet.append([header for _, header, _, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        sheet.append([neutral(row.get(name)) for name, _, _, _ in columns])
    last = max(sheet.max_row, 2)
    for index, (name, _, width, fmt) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = width
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = fmt
        cells = f"{letter}2:{letter}{last}"
        if name == "completion_rate":
            sheet.conditional_formatting.add(
                cells,
                ColorScaleRule(
                    start_type="num",
                    start_value=0,
                    start_color="F8696B",
                    mid_type="num",
                    mid_value=0.8,
                    mid_color="FFEB84",
                    end_type="num",
                    end_value=1,
                    end_color="63BE7B",
                ),
            )
        if name in ("red", "overdue"):
            sheet.conditional_formatting.add(
                cells,
                CellIsRule(
                    operator="greaterThan", formula=["0"], font=Font(color="C00000", bold=name == "red")
                ),
            )
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last}"
    _print_setup(sheet)


def write_summary(
    path: Path,
    table: SummaryTable,
    policy: Policy,
    managers: Sequence[ManagerRow] = (),
    generated: dt.datetime | None = None,
) -> None:
    """The workbook at `path` (written whole, then moved into place)."""
    from openpyxl import Workbook

    book = Workbook()
    _cover(book, table, policy, generated or dt.datetime.now(dt.UTC))
    by_level: dict[str, list[InstitutionScore]] = {}
    for score in table.scores:
        by_level.setdefault(score.level, []).append(score)
    for level, title in LEVELS:
        scores = sorted(by_level.get(level, []), key=lambda s: (s.rank, s.inst_code))
        if scores or level != "head":
            _level_sheet(book, title, INST_COLUMNS, [as_row(s) for s in scores])
    _level_sheet(book, "客户经理", MANAGER_COLUMNS, [vars(m) for m in managers])
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    tmp.replace(path)
