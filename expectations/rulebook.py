"""Rules as data: load and validate the rule YAML files (one per record type) into `Suite` objects.

A rule file names its table, its scope (clause G1: which statuses are out of scope) and a list of rules.
Each rule cites the clause(s) of the data standard it implements and declares one check by kind; the
kinds live in `expectations.kinds`. Loading never imports Great Expectations, so DAG files may use it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.sql.elements import ColumnElement

from expectations.contract import PRIMARY_KEYS, RECORD_TABLES

RULES_DIR = Path(__file__).resolve().parent / "rules"
CLAUSE_IDS = [
    "G1",
    "G2",
    "G3",
    "E1",
    "E2",
    "E3",
    "E4",
    "E5",
    "E6",
    "E7",
    "E8",
    "E9",
    "P1",
    "P2",
    "P3",
    "P4",
    "P5",
    "M1",
    "M2",
    "M3",
    "M4",
    "M5",
    "M6",
    "C1",
]
SEVERITIES = ("high", "medium", "low")
DAMA_DIMENSIONS = ("completeness", "validity", "consistency", "uniqueness", "timeliness", "accuracy")
GBT36344_DIMENSIONS = ("规范性", "完整性", "准确性", "一致性", "时效性", "可访问性")
_RULE_ID = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)+")


@dataclass(frozen=True)
class Scope:
    """Clause G1: the records a suite judges. A record whose status is one of `exclude_status` is out of scope
    (it raises no to-do; its open to-dos close as *out of scope*); a record without a status is in."""

    exclude_status: tuple[str, ...] = ("closed",)

    def sql(self, status: ColumnElement[Any]) -> ColumnElement[bool]:
        """The in-scope condition on a status column."""
        return sa.or_(status.is_(None), status.not_in(list(self.exclude_status)))

    def includes(self, status: object) -> bool:
        """The same condition on a status value, in Python."""
        return status not in self.exclude_status


class RuleFileError(ValueError):
    """A rule file that cannot be used; the message names the file, the rule and the field."""


class UnknownTable(RuleFileError):
    """No rule file checks this record type."""


@dataclass(frozen=True)
class Rule:
    id: str
    table: str
    clauses: tuple[str, ...]
    columns: tuple[str, ...]
    kind: str
    params: Mapping[str, Any]
    when: Mapping[str, tuple[str, ...]]
    severity: str
    dimension: str
    dimension_gbt: str
    description: str
    hint: str
    regulation: str
    # the file's scope (clause G1), for kinds that compare a record with the others (E4)
    scope: Scope = field(default_factory=Scope)

    @property
    def clause_text(self) -> str:
        return ";".join(self.clauses)

    @property
    def columns_text(self) -> str:
        return ";".join(self.columns)

    def fingerprint(self) -> str:
        """Changes whenever what the rule checks changes (not its wording)."""
        body = json.dumps(
            [self.kind, dict(self.params), {k: list(v) for k, v in self.when.items()}, list(self.columns)],
            sort_keys=True,
            ensure_ascii=False,
            default=str,  # dates in params
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Suite:
    table: str
    key: str
    title: str
    schedule: str
    scope: Scope
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    path: Path | None = None

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def _fail(path: Path, where: str, message: str) -> RuleFileError:
    return RuleFileError(f"{path.name}: {where}: {message}")


def _str_list(path: Path, where: str, value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _fail(path, where, f"'{name}' must be a non-empty list of strings")
    return tuple(value)


def _parse_rule(path: Path, table: str, index: int, raw: Any, scope: Scope) -> Rule:
    from expectations.kinds import KINDS

    where = f"rule #{index + 1}"
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not _RULE_ID.fullmatch(rule_id):
        raise _fail(path, where, f"'id' must look like MER-E2-USCC-FORMAT, got {rule_id!r}")
    where = f"rule {rule_id}"
    known = {
        "id",
        "clause",
        "columns",
        "check",
        "params",
        "when",
        "severity",
        "dimension",
        "dimension_gbt",
        "description",
        "hint",
        "regulation",
    }
    unknown = sorted(set(raw) - known)
    if unknown:
        raise _fail(path, where, f"unknown field(s) {', '.join(unknown)}")
    clauses = _str_list(path, where, raw.get("clause"), "clause")
    for clause in clauses:
        if clause not in CLAUSE_IDS:
            raise _fail(path, where, f"clause {clause!r} is not a clause of the data standard")
    columns = _str_list(path, where, raw.get("columns"), "columns")
    contract = RECORD_TABLES[table]
    for col in columns:
        if col not in contract.c:
            raise _fail(path, where, f"column {col!r} is not a column of source table {table}")
    kind = str(raw.get("check"))
    if kind not in KINDS:
        raise _fail(path, where, f"'check' must be one of {', '.join(sorted(KINDS))}, got {kind!r}")
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise _fail(path, where, "'params' must be a mapping")
    problem = KINDS[kind].validate_params(params, columns, contract)
    if problem:
        raise _fail(path, where, f"params: {problem}")
    when_raw = raw.get("when") or {}
    if not isinstance(when_raw, dict):
        raise _fail(path, where, "'when' must map a column to the values it applies to")
    when: dict[str, tuple[str, ...]] = {}
    for col, values in when_raw.items():
        if col not in contract.c:
            raise _fail(path, where, f"'when' column {col!r} is not a column of source table {table}")
        when[col] = _str_list(path, where, values, f"when.{col}")
    severity = str(raw.get("severity"))
    if severity not in SEVERITIES:
        raise _fail(path, where, f"'severity' must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    dimension = str(raw.get("dimension"))
    if dimension not in DAMA_DIMENSIONS:
        raise _fail(path, where, f"'dimension' must be one of {', '.join(DAMA_DIMENSIONS)}")
    dimension_gbt = str(raw.get("dimension_gbt"))
    if dimension_gbt not in GBT36344_DIMENSIONS:
        raise _fail(path, where, f"'dimension_gbt' must be one of {', '.join(GBT36344_DIMENSIONS)}")
    texts = {}
    for name in ("description", "hint", "regulation"):
        text = raw.get(name)
        if not isinstance(text, str) or not text.strip():
            raise _fail(path, where, f"'{name}' is required")
        texts[name] = text.strip()
    return Rule(
        id=rule_id,
        table=table,
        clauses=clauses,
        columns=columns,
        kind=kind,
        params=params,
        when=when,
        severity=severity,
        dimension=dimension,
        dimension_gbt=dimension_gbt,
        **texts,
        scope=scope,
    )


def load_suite(path: Path) -> Suite:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path.name}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise RuleFileError(f"{path}: cannot read: {exc.strerror}") from None
    if not isinstance(raw, dict):
        raise _fail(path, "top level", "must be a mapping with table, scope and rules")
    table = str(raw.get("table"))
    if table not in RECORD_TABLES:
        raise _fail(path, "table", f"must be one of {', '.join(RECORD_TABLES)}, got {table!r}")
    scope_raw = raw.get("scope") or {}
    if not isinstance(scope_raw, dict):
        raise _fail(path, "scope", "must be a mapping with exclude_status")
    scope = Scope(_str_list(path, "scope", scope_raw.get("exclude_status", ["closed"]), "exclude_status"))
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise _fail(path, "rules", "must be a non-empty list")
    rules = tuple(_parse_rule(path, table, i, r, scope) for i, r in enumerate(rules_raw))
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise _fail(path, f"rule {rule.id}", "id is used twice")
        seen.add(rule.id)
    return Suite(
        table=table,
        key=PRIMARY_KEYS[table],
        title=str(raw.get("title", table)),
        schedule=str(raw.get("schedule", "0 6 * * *")),
        scope=scope,
        rules=rules,
        path=path,
    )


def rule_files(rules_dir: Path = RULES_DIR) -> list[Path]:
    return sorted(rules_dir.glob("*.yml"))


def load_suites(rules_dir: Path = RULES_DIR) -> list[Suite]:
    suites = [load_suite(p) for p in rule_files(rules_dir)]
    all_ids = [r.id for s in suites for r in s.rules]
    duplicates = sorted({i for i in all_ids if all_ids.count(i) > 1})
    if duplicates:
        raise RuleFileError(f"{rules_dir}: rule id(s) used in more than one file: {', '.join(duplicates)}")
    return suites


def suite_for(table: str, suites: Sequence[Suite] | None = None) -> Suite:
    """The suite of record type `table` (from `suites`, default: the rule files); RuleFileError names the
    known ones when there is none."""
    found = suites if suites is not None else load_suites()
    for suite in found:
        if suite.table == table:
            return suite
    known = ", ".join(s.table for s in found)
    raise UnknownTable(f"there are no rules for record type {table!r} (known: {known})")


def suite_tables(rules_dir: Path = RULES_DIR) -> list[tuple[str, str]]:
    """(table, schedule) per rule file, read cheaply for DAG files (no rule validation)."""
    found = []
    for path in rule_files(rules_dir):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found.append((str(raw.get("table", path.stem)), str(raw.get("schedule", "0 6 * * *"))))
    return found


def clauses_covered(suites: Sequence[Suite]) -> set[str]:
    return {c for s in suites for r in s.rules for c in r.clauses}
