"""Mirror the source's institution tree and staff into the store, and work out routing fallbacks (clause G3).

A to-do goes to the record's account manager (`mgr_staff_id`) when that person is an active member of
staff; otherwise to the active head of the record's institution, looking up the tree: sub-branch head,
then branch head; at the head office, the data office.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from expectations.contract import institution as src_institution
from expectations.contract import staff as src_staff
from remediation.store.models import Institution, Staff
from remediation.store.tablelock import lock_table

HEAD_POSITIONS: Mapping[str, tuple[str, ...]] = {
    "sub_branch": ("sub_branch_head",),
    "branch": ("branch_head",),
    "head": ("data_office",),
}


@dataclass(frozen=True)
class OrgSummary:
    institutions: int
    staff: int
    active_staff: int
    without_fallback: tuple[str, ...]  # institutions with no active head anywhere up the tree


@dataclass(frozen=True)
class Routing:
    """What routing needs, small enough to hold in memory: active staff and each institution's fallback."""

    active_staff: frozenset[str]
    fallback: Mapping[str, str | None]
    default_fallback: str | None  # for records whose institution is unknown

    def route(self, mgr_staff_id: str | None, inst_code: str | None) -> tuple[str | None, bool]:
        """(assignee, routed_to_head)."""
        if mgr_staff_id is not None and mgr_staff_id in self.active_staff:
            return mgr_staff_id, False
        head = self.fallback.get(inst_code) if inst_code is not None else None
        return head or self.default_fallback, True


def compute_fallbacks(
    institutions: Sequence[Mapping[str, object]], staff: Sequence[Mapping[str, object]]
) -> tuple[dict[str, str | None], dict[str, int]]:
    parent = {str(i["inst_code"]): i["parent_code"] for i in institutions}
    level = {str(i["inst_code"]): str(i["inst_level"]) for i in institutions}
    heads: dict[str, list[str]] = {}
    for person in sorted(staff, key=lambda p: str(p["staff_id"])):
        inst = str(person["inst_code"])
        if person["active"] and person["position"] in HEAD_POSITIONS.get(level.get(inst, ""), ()):
            heads.setdefault(inst, []).append(str(person["staff_id"]))
    fallback: dict[str, str | None] = {}
    depth: dict[str, int] = {}
    for code in parent:
        chain: list[str] = []
        node: str | None = code
        while node is not None and node in parent and node not in chain:  # stops on cycles
            chain.append(node)
            node = parent[node]  # type: ignore[assignment]
        depth[code] = len(chain) - 1
        fallback[code] = next((heads[c][0] for c in chain if c in heads), None)
    return fallback, depth


def sync_org(source: sa.Engine, store: sa.Engine) -> OrgSummary:
    """Replace the store's mirror with the source's institution and staff tables, in one transaction."""
    with source.connect() as conn:
        institutions = [dict(r._mapping) for r in conn.execute(sa.select(src_institution))]
        staff = [dict(r._mapping) for r in conn.execute(sa.select(src_staff))]
    for person in staff:
        person["active"] = bool(person["active"])
    fallback, depth = compute_fallbacks(institutions, staff)
    for inst in institutions:
        inst["fallback_staff_id"] = fallback[inst["inst_code"]]
        inst["depth"] = depth[inst["inst_code"]]
    with store.begin() as conn:
        lock_table(conn, Institution.__tablename__)  # two checks starting at once: one mirror after the other
        conn.execute(sa.delete(Institution))
        conn.execute(sa.delete(Staff))
        if institutions:
            conn.execute(sa.insert(Institution), institutions)
        if staff:
            conn.execute(sa.insert(Staff), staff)
    return OrgSummary(
        institutions=len(institutions),
        staff=len(staff),
        active_staff=sum(1 for p in staff if p["active"]),
        without_fallback=tuple(sorted(c for c, f in fallback.items() if f is None)),
    )


def load_routing(store: sa.Connection) -> Routing:
    active = frozenset(store.scalars(sa.select(Staff.staff_id).where(Staff.active.is_(True))))
    rows = store.execute(sa.select(Institution.inst_code, Institution.fallback_staff_id, Institution.depth))
    fallback: dict[str, str | None] = {}
    default: tuple[int, str | None] = (1 << 30, None)
    for code, head, depth in rows:
        fallback[code] = head
        if head is not None and depth < default[0]:
            default = (depth, head)
    return Routing(active_staff=active, fallback=fallback, default_fallback=default[1])
