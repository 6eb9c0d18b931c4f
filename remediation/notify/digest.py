"""A digest (数据质量问题待办提醒): what one person is told on one date, and how it reads on each channel.

Only masked values appear: the store holds nothing else (`remediation.masking`). E-mail and the portal
inbox get plain text; WeCom gets its markdown dialect, kept under the group bot's 4096-byte limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SUBJECT_PREFIX = "【数据质量问题待办提醒】"
WECOM_MAX_BYTES = 4096
CARD_LABELS = {"red": "红牌", "yellow": "黄牌"}
TABLE_LABELS = {"merchant": "商户", "customer_org": "对公客户"}
ASSIGNEES_SHOWN = 10  # in an escalation: the account managers with the most red cards


@dataclass(frozen=True)
class RuleCount:
    rule_id: str
    description: str
    active: int
    new: int
    due_soon: int
    overdue: int


@dataclass(frozen=True)
class Item:
    table: str
    record_key: str
    rule_id: str
    description: str
    due_date: dt.date | None
    card: str
    due_soon: bool
    new: bool
    masked_value: str | None
    assignee: str | None = None  # shown in escalations: whose to-do it is

    def label(self) -> str:
        if self.card in CARD_LABELS:
            return CARD_LABELS[self.card]
        if self.due_soon:
            return "临期"
        return "新增" if self.new else "待办"


@dataclass(frozen=True)
class Escalation:
    """Red cards of other people's to-dos, escalated to this person as head of their institution."""

    count: int
    by_assignee: tuple[tuple[str, int], ...]  # (staff id and name, red cards)
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Digest:
    staff_id: str
    staff_name: str
    as_of: dt.date
    active: int
    new: int
    due_soon: int
    overdue: int
    red: int
    remind_days: int
    red_after_days: int
    by_rule: tuple[RuleCount, ...]
    items: tuple[Item, ...]
    link: str
    escalation: Escalation | None = None

    @property
    def subject(self) -> str:
        text = (
            f"{SUBJECT_PREFIX}{self.staff_name}：新增 {self.new} 项，临期 {self.due_soon} 项，"
            f"超时 {self.overdue} 项"
        )
        if self.escalation is not None:
            text += f"；红牌升级 {self.escalation.count} 项"
        return text


def item_line(item: Item) -> str:
    due = item.due_date.isoformat() if item.due_date else "—"
    whose = f" · 管户人 {item.assignee}" if item.assignee else ""
    return (
        f"[{item.label()}] {TABLE_LABELS.get(item.table, item.table)} {item.record_key} · "
        f"{item.rule_id} {item.description} · "
        f"到期 {due}{whose} · {item.masked_value or '—'}"
    )


def _summary_line(d: Digest) -> str:
    return (
        f"截至 {d.as_of.isoformat()}，您名下未完成的数据质量问题待办共 {d.active} 项：新增 {d.new} 项，"
        f"临期 {d.due_soon} 项（{d.remind_days} 个工作日内到期），超时 {d.overdue} 项"
        f"（其中红牌 {d.red} 项）。"
    )


def _escalation_intro(d: Digest) -> str:
    assert d.escalation is not None
    shown = d.escalation.by_assignee[:ASSIGNEES_SHOWN]
    people = "，".join(f"{who} {n} 项" for who, n in shown)
    if len(d.escalation.by_assignee) > len(shown):
        people += f" 等 {len(d.escalation.by_assignee)} 人"
    return (
        f"以下 {d.escalation.count} 项待办超时已达 {d.red_after_days} 个工作日（红牌），升级至您督办。"
        f"按管户人：{people}。"
    )


def render_text(d: Digest) -> str:
    """The plain-text body for e-mail and the portal inbox."""
    lines = [f"{d.staff_name}，您好：", ""]
    if d.active:
        lines += [_summary_line(d), "", "按规则统计（待办 / 新增 / 临期 / 超时）："]
        lines += [
            f"  {r.rule_id} {r.description}：{r.active} / {r.new} / {r.due_soon} / {r.overdue}"
            for r in d.by_rule
        ]
        lines += ["", f"重点待办（前 {len(d.items)} 项）："]
        lines += [f"  {i}. {item_line(item)}" for i, item in enumerate(d.items, 1)]
        lines.append("")
    if d.escalation is not None:
        lines += ["【红牌升级】" + _escalation_intro(d)]
        lines += [f"  {i}. {item_line(item)}" for i, item in enumerate(d.escalation.items, 1)]
        lines.append("")
    lines += [
        f"请登录数据质量治理平台查看和处理全部待办：{d.link}",
        "（本消息由系统自动发送，个人信息已按规定脱敏。）",
    ]
    return "\n".join(lines) + "\n"


def render_wecom(d: Digest, userid: str | None) -> str:
    """WeCom group-bot markdown, with a `<@userid>` mention, cut to fit the 4096-byte limit."""
    head = [f"### {d.subject}"]
    if userid:
        head.append(f"<@{userid}>")
    body: list[str] = []
    if d.active:
        body += [
            f"> {_summary_line(d)}",
            "",
            "**按规则统计**（待办 / 新增 / 临期 / 超时）",
            *[
                f"{r.rule_id} {r.description}：{r.active} / {r.new} / {r.due_soon} / {r.overdue}"
                for r in d.by_rule
            ],
            "",
            "**重点待办**",
            *[_wecom_item(item) for item in d.items],
        ]
    if d.escalation is not None:
        body += [
            "",
            f'<font color="warning">**红牌升级**</font> {_escalation_intro(d)}',
            *[_wecom_item(item) for item in d.escalation.items],
        ]
    tail = ["", f"[打开数据质量治理平台]({d.link})"]
    complete = len(body)
    while body and len("\n".join([*head, *body, "…", *tail]).encode()) > WECOM_MAX_BYTES:
        body.pop()
    cut = ["…"] if len(body) < complete else []
    return "\n".join([*head, *body, *cut, *tail])


def _wecom_item(item: Item) -> str:
    color = "warning" if item.card in CARD_LABELS else "comment"
    return f'<font color="{color}">{item.label()}</font> {item_line(item).split("] ", 1)[1]}'
