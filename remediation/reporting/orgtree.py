"""The institution tree and staff as the portal reads them: nodes, subtrees, paths, names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from remediation.store.models import Institution, Staff


@dataclass(frozen=True)
class InstitutionNode:
    inst_code: str
    inst_name: str
    inst_level: str
    parent_code: str | None


def institution_tree(store: sa.Engine) -> dict[str, InstitutionNode]:
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(
                Institution.inst_code, Institution.inst_name, Institution.inst_level, Institution.parent_code
            ).order_by(Institution.inst_code)
        ).all()
    return {r.inst_code: InstitutionNode(*r) for r in rows}


def subtree_codes(tree: dict[str, InstitutionNode], root: str) -> frozenset[str]:
    """The institution and everything below it (a cycle in bad source data stops the walk)."""
    children: dict[str | None, list[str]] = {}
    for node in tree.values():
        children.setdefault(node.parent_code, []).append(node.inst_code)
    found: set[str] = set()
    stack = [root] if root in tree else []
    while stack:
        code = stack.pop()
        if code in found:
            continue
        found.add(code)
        stack.extend(children.get(code, ()))
    return frozenset(found)


def path_to(tree: dict[str, InstitutionNode], code: str) -> list[InstitutionNode]:
    """The chain from the root down to `code`."""
    chain: list[InstitutionNode] = []
    node = tree.get(code)
    while node is not None and node not in chain:
        chain.append(node)
        node = tree.get(node.parent_code or "")
    return chain[::-1]


@dataclass(frozen=True)
class StaffRow:
    staff_id: str
    staff_name: str
    position: str
    inst_code: str
    active: bool


LONG_LIST = 500  # more staff ids than this: read all staff and keep those (cheaper than a long IN list)


def staff_rows(store: sa.Engine, staff_ids: Iterable[str] | None = None) -> dict[str, StaffRow]:
    stmt = sa.select(Staff.staff_id, Staff.staff_name, Staff.position, Staff.inst_code, Staff.active)
    wanted = set(staff_ids) if staff_ids is not None else None
    if wanted is not None and len(wanted) <= LONG_LIST:
        stmt = stmt.where(Staff.staff_id.in_(sorted(wanted)))
    with store.connect() as conn:
        return {
            r.staff_id: StaffRow(*r) for r in conn.execute(stmt) if wanted is None or r.staff_id in wanted
        }
