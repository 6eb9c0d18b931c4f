"""The institution issue summary table (机构问题汇总表) as rows, CSV and a text table (the workbook:
`summary_workbook.py`)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from remediation.reporting.snapshots import InstitutionScore
from remediation.reporting.spreadsheet import csv_writer

# (column, 中文表头); the first eight are the columns the data contract requires
COLUMNS: tuple[tuple[str, str], ...] = (
    ("inst_code", "机构代码"),
    ("level", "层级"),
    ("baseline", "存量基数"),
    ("fixed", "已整改"),
    ("exempted", "已豁免"),
    ("open", "未完成"),
    ("overdue", "超时"),
    ("completion_rate", "存量治理完成率"),
    ("inst_name", "机构名称"),
    ("parent_code", "上级机构"),
    ("pending", "待验证"),
    ("yellow", "黄牌"),
    ("red", "红牌"),
    ("new", "新增问题"),
    ("new_open", "增量未完成"),
    ("new_records", "新增记录"),
    ("new_record_quality", "增量数据质量"),
    ("weighted_completion_rate", "加权完成率"),
    ("overdue_rate", "超时率"),
    ("score", "考评得分"),
    ("rank", "同级排名"),
    ("peers", "同级机构数"),
    ("rate_change", "完成率日变化"),
    ("routing_gaps", "无管户人待办"),
)
RATES = {"completion_rate", "new_record_quality", "weighted_completion_rate", "overdue_rate", "rate_change"}
LEVEL_NAMES = {"head": "总行", "branch": "分行", "sub_branch": "支行"}


def as_row(score: InstitutionScore) -> dict[str, object]:
    c = score.counts
    values: dict[str, object] = {
        "inst_code": score.inst_code,
        "level": score.level,
        "baseline": c["baseline"],
        "fixed": c["fixed"],
        "exempted": c["exempted"],
        "open": c["open"] + c["pending"],
        "overdue": c["overdue"] + c["new_overdue"],
        "completion_rate": round(score.completion_rate, 4),
        "inst_name": score.inst_name,
        "parent_code": score.parent_code or "",
        "pending": c["pending"] + c["new_pending"],
        "yellow": c["yellow"] + c["new_yellow"],
        "red": c["red"] + c["new_red"],
        "new": c["new"],
        "new_open": c["new_open"] + c["new_pending"],
        "new_records": c["new_records"],
        "new_record_quality": round(score.new_record_quality, 4) if c["new_records"] else None,  # none new: —
        "weighted_completion_rate": round(score.weighted_completion_rate, 4),
        "overdue_rate": round(score.overdue_rate, 4),
        "score": score.score,
        "rank": score.rank,
        "peers": score.peers,
        "rate_change": None if score.rate_change is None else round(score.rate_change, 4),
        "routing_gaps": c["routing_gaps"],
    }
    return values


def to_csv(scores: Sequence[InstitutionScore]) -> str:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([name for name, _ in COLUMNS])
    for score in scores:
        row = as_row(score)
        writer.writerow(["" if row[name] is None else row[name] for name, _ in COLUMNS])
    return out.getvalue()


def _shown(name: str, value: object) -> str:
    if value is None:
        return "-"
    if name in RATES and isinstance(value, float):
        return f"{value * 100:+.1f}%" if name == "rate_change" else f"{value * 100:.1f}%"
    if name == "level":
        return LEVEL_NAMES.get(str(value), str(value))
    return str(value)


TABLE_COLUMNS = (
    "inst_name",
    "level",
    "baseline",
    "fixed",
    "exempted",
    "open",
    "overdue",
    "completion_rate",
    "new_record_quality",
    "score",
    "rank",
    "rate_change",
)


def to_text(scores: Sequence[InstitutionScore]) -> str:
    headers = dict(COLUMNS)
    lines = ["\t".join(headers[name] for name in TABLE_COLUMNS)]
    for score in scores:
        row = as_row(score)
        indent = "  " * {"head": 0, "branch": 1}.get(score.level, 2)
        cells = [_shown(name, row[name]) for name in TABLE_COLUMNS]
        cells[0] = indent + cells[0]
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"
