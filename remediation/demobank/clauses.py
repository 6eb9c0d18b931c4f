"""Which clauses the demo bank injects, how often, and which must not meet on one record."""

from __future__ import annotations

DEFAULT_CLAUSE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("E2", 14),
    ("E5", 10),
    ("P3", 14),
    ("P4", 10),
    ("M1", 10),
    ("C1", 10),
    ("G3", 6),
    ("E1", 2),
    ("E3", 3),
    ("E4", 2),
    ("E6", 3),
    ("E7", 3),
    ("E8", 3),
    ("E9", 2),
    ("P1", 3),
    ("P2", 2),
    ("P5", 3),
    ("M2", 2),
    ("M3", 2),
    ("M4", 1),
    ("M5", 3),
    ("M6", 2),
    ("G2", 3),
)
BOTH_TABLES = ("E1", "E2", "E3", "E5", "E8", "E9", "P1", "P2", "P3", "P4", "P5", "C1", "G3")
CLAUSES_BY_TABLE: dict[str, frozenset[str]] = {
    "merchant": frozenset((*BOTH_TABLES, "M1", "M2", "M3", "M4", "M5", "M6", "G2")),
    "customer_org": frozenset((*BOTH_TABLES, "E4", "E6", "E7")),
}
# Clauses that must not hit the same record: the second would undo or mask the first. (A number judged
# against a wrong ID type is clause P2's finding alone; a duplicate USCC must stay a valid one.)
EXCLUSIVE: dict[str, tuple[str, ...]] = {
    "E2": ("E3", "E4"),
    "E3": ("E2", "E4"),
    "E4": ("E2", "E3"),
    "M4": ("M5",),
    "M5": ("M4",),
    "M6": ("G2",),
    "G2": ("M6",),
    "P2": ("P3",),
    "P3": ("P2",),
}
# Clauses whose injector also marks another record (E4: the twin): never used on closed records.
TOUCHES_OTHERS = frozenset({"E4"})
