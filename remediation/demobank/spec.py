"""What the demo bank is asked for (`DemoBankSpec`) and what it reports back (`InjectedDefect`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from remediation.demobank.clauses import CLAUSES_BY_TABLE, DEFAULT_CLAUSE_WEIGHTS


@dataclass(frozen=True)
class DemoBankSpec:
    merchants: int = 2000
    customers: int = 1000
    seed: int = 42
    defect_rate: float = 0.15
    check_date: dt.date = dt.date(2026, 11, 22)
    clause_weights: tuple[tuple[str, float], ...] = DEFAULT_CLAUSE_WEIGHTS

    def __post_init__(self) -> None:
        if self.merchants < 0 or self.customers < 0:
            raise ValueError("record counts must not be negative")
        if not 0.0 <= self.defect_rate <= 1.0:
            raise ValueError("defect_rate must be between 0 and 1")
        known = CLAUSES_BY_TABLE["merchant"] | CLAUSES_BY_TABLE["customer_org"]
        unknown = {clause for clause, _ in self.clause_weights} - known
        if unknown:
            raise ValueError(f"no defect generator for clauses {sorted(unknown)}")


@dataclass(frozen=True)
class InjectedDefect:
    table: str
    record_key: str
    clause: str
    column: str
