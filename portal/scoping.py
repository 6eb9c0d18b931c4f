"""The one place that turns the logged-in member of staff into what they may see.

- account manager (客户经理): the to-dos assigned to them, nothing else;
- sub-branch or branch head (支行/分行负责人): every to-do of their institution's subtree;
- data office (数据管理部门): everything.

Roles come from `dq_staff.position`. Every page query takes the `TodoScope` made here; a record or an
institution outside it is answered with 404 (not 403), so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from remediation.reporting.orgtree import InstitutionNode, subtree_codes
from remediation.reporting.queries import TodoScope

ACCOUNT_MANAGER = "account_manager"
HEADS = ("sub_branch_head", "branch_head")
DATA_OFFICE = "data_office"


@dataclass(frozen=True)
class Viewer:
    staff_id: str
    name: str
    position: str
    inst_code: str
    csrf_token: str
    scope: TodoScope
    institutions: frozenset[str] | None  # the subtree a head oversees; None: all (data office), or none

    @property
    def is_manager(self) -> bool:
        return self.position == ACCOUNT_MANAGER

    @property
    def is_head(self) -> bool:
        return self.position in HEADS

    @property
    def is_office(self) -> bool:
        return self.position == DATA_OFFICE

    @property
    def oversees(self) -> bool:
        """Heads and the data office see institutions (dashboards, summary, appeals)."""
        return self.is_head or self.is_office

    def sees_institution(self, inst_code: str | None) -> bool:
        if self.is_office:
            return True
        return self.is_head and self.institutions is not None and inst_code in self.institutions


def todo_scope(
    position: str, staff_id: str, inst_code: str, tree: Mapping[str, InstitutionNode]
) -> TodoScope:
    if position == DATA_OFFICE:
        return TodoScope(everything=True)
    if position in HEADS:
        return TodoScope(institutions=subtree_codes(dict(tree), inst_code))
    if position == ACCOUNT_MANAGER:
        return TodoScope(assignee=staff_id)
    return TodoScope()  # an unknown position sees nothing


def make_viewer(
    staff_id: str,
    name: str,
    position: str,
    inst_code: str,
    csrf_token: str,
    tree: Mapping[str, InstitutionNode],
) -> Viewer:
    scope = todo_scope(position, staff_id, inst_code, tree)
    return Viewer(staff_id, name, position, inst_code, csrf_token, scope, scope.institutions)


def root_institution(viewer: Viewer, tree: Mapping[str, InstitutionNode]) -> str | None:
    """Where the viewer's dashboard starts: their own institution, or the head office for the data office."""
    if viewer.is_head:
        return viewer.inst_code if viewer.inst_code in tree else None
    if viewer.is_office:
        roots = [n.inst_code for n in tree.values() if n.parent_code is None or n.parent_code not in tree]
        return roots[0] if roots else None
    return None
