"""A governance store filled directly, for tests of what happens after reconcile (SLA, digests, outbox).

The institution tree is the one of `tests.factories`; staff and to-dos are made to measure. Every to-do
gets its `opened` event, as reconcile would write it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, cast

import sqlalchemy as sa

from remediation.checks.routing import compute_fallbacks
from remediation.masking import mask_value
from remediation.store.models import Institution, RuleRecord, Staff, Todo, TodoEvent
from tests.factories import INSTITUTIONS, STAFF

RULES = {
    "MER-C1-PHONE-FORMAT": ("contact_phone", "low", "联系电话不是有效的手机号或固定电话"),
    "MER-B2-LEGAL-REP-ID": ("legal_rep_id_no", "high", "法定代表人身份证件号码校验不通过"),
}
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许"


def staff_row(
    staff_id: str, name: str, inst: str, position: str, active: bool = True, **kw: Any
) -> dict[str, Any]:
    return {
        "staff_id": staff_id,
        "staff_name": name,
        "inst_code": inst,
        "position": position,
        "active": active,
        "email": f"{staff_id.lower()}@bank.example",
        "wecom_userid": staff_id,
        **kw,
    }


def managers(count: int) -> list[dict[str, Any]]:
    """`count` account managers A001… in the two sub-branches, named 赵经理, 钱经理, …"""
    return [
        staff_row(f"A{n:03d}", f"{SURNAMES[n - 1]}经理", ("110100", "110200")[n % 2], "account_manager")
        for n in range(1, count + 1)
    ]


def seed_org(store: sa.Engine, extra_staff: Iterable[Mapping[str, Any]] = ()) -> None:
    """The factories' institution tree and staff (plus `extra_staff`), with routing fallbacks, and the rules."""
    people = [staff_row(s, n, i, p, a) for s, n, i, p, a in STAFF] + [dict(p) for p in extra_staff]
    institutions = cast(list[dict[str, Any]], INSTITUTIONS)
    fallback, depth = compute_fallbacks(institutions, people)
    with store.begin() as conn:
        conn.execute(
            sa.insert(Institution),
            [
                {**i, "fallback_staff_id": fallback[i["inst_code"]], "depth": depth[i["inst_code"]]}
                for i in institutions
            ],
        )
        conn.execute(sa.insert(Staff), people)
        conn.execute(
            sa.insert(RuleRecord),
            [
                {
                    "rule_id": rule_id,
                    "table_name": "merchant",
                    "clauses": rule_id.split("-")[1],
                    "columns": column,
                    "kind": "test",
                    "severity": severity,
                    "dimension": "validity",
                    "dimension_gbt": "准确性",
                    "description": text,
                    "hint": "",
                    "regulation": "",
                    "fingerprint": "0" * 16,
                }
                for rule_id, (column, severity, text) in RULES.items()
            ],
        )


def raw_id(seq: int) -> str:
    """A made-up 18-character ID number, distinct per `seq` (its value matters only for masking)."""
    return f"3604021985{seq:07d}X"


def add_todos(store: sa.Engine, specs: Iterable[Mapping[str, Any]], day: dt.date) -> list[int]:
    """Insert open to-dos (`assignee`, `due`, optional `rule`, `inst`, `card`, `key`) and their `opened` events."""
    rows = []
    for n, spec in enumerate(specs):
        rule = spec.get("rule", "MER-B2-LEGAL-REP-ID")
        column = RULES[rule][0]
        raw = spec.get("raw", raw_id(n) if column == "legal_rep_id_no" else f"1{n:010d}"[:11])
        rows.append(
            {
                "rule_id": rule,
                "table_name": "merchant",
                "record_key": spec.get("key", f"10236045812{n:04d}"),
                "status": spec.get("status", "open"),
                "clause": rule.split("-")[1],
                "columns": column,
                "severity": RULES[rule][1],
                "inst_code": spec.get("inst", "110100"),
                "mgr_staff_id": spec["assignee"],
                "assignee_staff_id": spec["assignee"],
                "routed_to_head": False,
                "masked_value": f"{column}={mask_value(column, raw)}",
                "first_seen": day,
                "last_seen": day,
                "reopen_count": 0,
                "opened_run_id": 1,
                "transition_run_id": 1,
                "due_date": spec["due"],
                "card": spec.get("card", "none"),
            }
        )
    at = dt.datetime.now(dt.UTC)
    with store.begin() as conn:
        ids = list(conn.scalars(sa.insert(Todo).returning(Todo.id, sort_by_parameter_order=True), rows))
        if ids:
            conn.execute(
                sa.insert(TodoEvent),
                [
                    {
                        "todo_id": i,
                        "run_id": 1,
                        "at": at,
                        "actor": "system",
                        "event": "opened",
                        "to_status": "open",
                    }
                    for i in ids
                ],
            )
    return ids
