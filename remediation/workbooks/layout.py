"""What a to-do workbook looks like: its sheets, its columns, which of them are keys, and the drop-downs.

The layout is shared by the export, the import and the preview, so a file is read exactly as it was
written. Key columns (the to-do, its record, its rule and the fields to correct) are locked and bound to
the issue by each row's tag; only the correction cells are open for typing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from expectations.rulebook import Rule, Suite
from remediation.checks.corrections import editable_columns

TODO_SHEET = "待办"
GUIDE_SHEET = "说明"
SIGNATURE_SHEET = "签名"
SHEETS = (TODO_SHEET, GUIDE_SHEET, SIGNATURE_SHEET)
FIELD_SLOTS = 4  # the most columns any rule lets a correction change (the beneficial owner's four)
MAX_LIST_CHARS = 255  # Excel's limit on an inline drop-down list


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    width: int
    key: bool = False  # locked and bound to the issue by the row tag


INFO_COLUMNS: tuple[Column, ...] = (
    Column("todo_id", "待办编号 To-do", 10, key=True),
    Column("table", "记录类型 Record type", 12, key=True),
    Column("record_key", "记录编号 Record key", 20, key=True),
    Column("record_name", "记录名称 Name", 28),
    Column("rule_id", "规则编号 Rule", 30, key=True),
    Column("clause", "条款 Clause", 8),
    Column("description", "问题说明 Problem", 40),
    Column("hint", "整改提示 Hint", 40),
    Column("current", "当前值（脱敏） Current value (masked)", 32),
    Column("due_date", "到期日 Due", 12),
    Column("card", "警示牌 Card", 8),
    Column("assignee", "管户人 Assignee", 10),
)
SLOT_COLUMNS: tuple[Column, ...] = tuple(
    c
    for n in range(1, FIELD_SLOTS + 1)
    for c in (
        Column(f"field_{n}", f"字段{n} Field {n}", 18, key=True),
        Column(f"value_{n}", f"更正值{n} New value {n}", 22),
    )
)
TAG_COLUMN = Column("tag", "校验码 Tag", 12)
COLUMNS: tuple[Column, ...] = (*INFO_COLUMNS, *SLOT_COLUMNS, TAG_COLUMN)
INDEX = {c.name: i for i, c in enumerate(COLUMNS)}
KEY_NAMES = tuple(c.name for c in COLUMNS if c.key)
HEADERS = tuple(c.header for c in COLUMNS)
CARD_TEXT = {"none": "", "yellow": "黄牌", "red": "红牌"}


def letter(index: int) -> str:
    """The column letter of a 0-based column index."""
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


def where(sheet: str, row: int, column: str | None = None) -> str:
    """`sheet 待办, row 7, column 更正值1 New value 1 (P)`: how a message names a cell."""
    if column is None:
        return f"sheet {sheet}, row {row}"
    index = INDEX[column]
    return f"sheet {sheet}, row {row}, column {COLUMNS[index].header} ({letter(index)})"


def fields_of(suite: Suite, rule: Rule) -> tuple[str, ...]:
    fields = editable_columns(suite, rule)
    if len(fields) > FIELD_SLOTS:  # a rule file grew past the layout: say so rather than drop a field
        raise ValueError(f"rule {rule.id} corrects {len(fields)} fields; the workbook has {FIELD_SLOTS}")
    return fields


def code_list(suite: Suite, column: str) -> tuple[str, ...] | None:
    """The standard's code list for a column (its `in_set` rule), for a drop-down; None when it has none."""
    lists = {
        tuple(str(v) for v in rule.params.get("values", ()))
        for rule in suite.rules
        if rule.kind == "in_set" and rule.columns == (column,)
    }
    if len(lists) != 1:
        return None
    (values,) = lists
    return values if values and len(",".join(values)) + 2 <= MAX_LIST_CHARS else None


def key_cells(row: Sequence[object]) -> list[object]:
    return [row[INDEX[name]] for name in KEY_NAMES]


GUIDE = (
    "数据质量问题待办 · 线下更正工作簿 (to-do workbook for offline corrections)",
    "",
    "怎么填 How to fill it in",
    "1. 在「待办」表中，每行是一条待办；「字段N」列是该规则允许更正的字段，在右侧「更正值N」列填写正确的值。",
    "   Each row of 待办 is one to-do; type the right value of 字段N (Field N) in 更正值N (New value N).",
    "2. 不需要更正的字段留空；日期写成 YYYY-MM-DD；有下拉框的字段请从下拉框中选择代码。",
    "   Leave a field empty to keep it; dates as YYYY-MM-DD; pick codes from the drop-down where there is one.",
    "3. 灰色列（待办编号、记录编号、规则编号、字段名、校验码）已锁定，请勿修改、插入或删除工作表；可以删除不处理的行。",
    "   Key columns are locked: do not change them or add sheets; you may delete rows you do not handle.",
    "4. 请勿输入公式；请保存为 .xlsx（不要保存为启用宏的 .xlsm）。",
    "   No formulas; save as .xlsx (never as macro-enabled .xlsm).",
    "5. 在门户「批量更正」页或用 `dqgov corrections import` 导入；先预览，确认后才写回源系统并立即复核。",
    "   Import it in the portal or with `dqgov corrections import`: you see a preview first; only when you",
    "   confirm are the values written back and the records re-checked. A to-do closes only when its",
    "   record passes the re-check. Importing the same file again applies nothing twice.",
    "",
    "只能导入本人名下、仍未完成的待办的更正。Only corrections of your own open to-dos are accepted.",
)
