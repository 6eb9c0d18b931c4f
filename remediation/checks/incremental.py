"""Incremental check runs: the records a daily run must evaluate for its to-dos to come out as a full run's.

A run is planned before it starts (`plan_run`): *full* (every record) or *incremental* (only the records
whose verdicts may differ from the base run's, the table's last reconciled run). A record's verdict on a
rule can change only if
- the record changed: `updated_at` at or after the base run's high-water mark of `updated_at` less
  `DQGOV_CHANGE_MARGIN_MINUTES` (clock skew, long source transactions); rows without `updated_at` always;
- the rule reads the check date (expiry, date ranges, the birth date in an ID number): rows whose date lies
  between the base run's check date and this one (`TIME_BOUNDARIES`);
- the rule compares the record with others (uniqueness, E4): rows whose value is held twice now, and rows
  with a to-do of the rule still open (their value was held twice: a peer may have changed or left);
- the institution or staff tables changed (G3, routing), or the rules, their scope or the reference data
  changed: then the run is full.

A full run also changes to-dos whose verdict did not change: a claimed fix is refuted, an exemption
expires, a record that vanished is back, a duplicated key is single again. Their records are listed
(`Plan.keys`). A deleted record leaves no row to find: `stage_record_states` looks up every closable
to-do's record, as in a full run, and reconcile closes a to-do as *fixed* only when its record was evaluated.
The first run, a run after a void, a check date before the base run's, and the days of `DQGOV_FULL_SWEEP`
are full.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations import sqlchecks
from expectations.compiler import source_columns
from expectations.contract import RECORD_TABLES
from expectations.contract import institution as src_institution
from expectations.contract import staff as src_staff
from expectations.reference import reference_versions
from expectations.rulebook import Suite
from remediation.checks.staging import LOOKUP_BATCH, key_in
from remediation.settings import integer_of, weekdays_of
from remediation.store.models import CheckRun, DuplicateKey, RunStatus, Todo, TodoStatus

FULL, INCREMENTAL, AUTO = "full", "incremental", "auto"
MODES = (AUTO, FULL, INCREMENTAL)
MAX_LISTED_KEYS = 20_000  # records listed by key beyond the changed ones; more: a full run
MAX_SUBSET_KEYS = 30_000  # evaluated records named by key in GX's and the extractor's statements

Columns = Mapping[str, ColumnElement[Any]]


def _date_between(col: ColumnElement[Any], lo: dt.date, hi: dt.date) -> ColumnElement[bool]:
    return col.between(lo, hi)


def _birth_between(col: ColumnElement[Any], lo: dt.date, hi: dt.date) -> ColumnElement[bool]:
    # positions 7-14 of an 18-character ID number are the birth date (GB 11643); as text, 8 digits
    # compare as numbers do, and anything else only adds rows
    born = sa.func.substr(sqlchecks.strip_blanks(col), 7, 8)
    return born.between(lo.strftime("%Y%m%d"), hi.strftime("%Y%m%d"))


# Check kinds whose verdict reads the check date: the rows that may change verdict between two dates.
TIME_BOUNDARIES: Mapping[str, Callable[[ColumnElement[Any], dt.date, dt.date], ColumnElement[bool]]] = {
    "not_expired": _date_between,
    "date_range": _date_between,
    "id_number": _birth_between,
}
PEER_KINDS = ("unique_among_in_scope",)  # kinds whose verdict depends on other records


@dataclass(frozen=True)
class Plan:
    """What one run evaluates, and what it records for the next run to compare with."""

    mode: str  # full | incremental
    reason: str
    rules_fingerprint: str
    org_fingerprint: str
    high_water: dt.datetime | None  # the newest updated_at in the table when the run started
    base_run_id: int | None = None
    base_date: dt.date | None = None
    since: dt.datetime | None = None  # rows updated at or after this count as changed
    keys: tuple[str, ...] = field(default=())  # records evaluated whatever their updated_at

    @property
    def incremental(self) -> bool:
        return self.mode == INCREMENTAL

    def run_values(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "mode_reason": self.reason[:200],
            "base_run_id": self.base_run_id,
            "source_high_water": self.high_water,
            "rules_fingerprint": self.rules_fingerprint,
            "org_fingerprint": self.org_fingerprint,
        }


def rules_fingerprint(suite: Suite) -> str:
    body = json.dumps(
        {
            "rules": [[r.id, r.fingerprint()] for r in suite.rules],
            "scope": list(suite.scope.exclude_status),
            "reference": reference_versions(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def org_fingerprint(source: sa.Engine) -> str:
    """A digest of the institution and staff tables: routing (G3) and the active-staff rule read them."""
    digest = hashlib.sha256()
    with source.connect() as conn:
        for table in (src_institution, src_staff):
            key = table.c[0]
            for row in conn.execute(sa.select(table).order_by(key)):
                digest.update(json.dumps(list(row), default=str, ensure_ascii=False).encode())
            digest.update(b"|")
    return digest.hexdigest()


def high_water(source: sa.Engine, suite: Suite) -> dt.datetime | None:
    updated: sa.ColumnClause[dt.datetime] = sa.column("updated_at", sa.DateTime)
    with source.connect() as conn:
        value = conn.scalar(sa.select(sa.func.max(updated)).select_from(sa.table(suite.table, updated)))
    if isinstance(value, str):  # SQLite without a declared type
        value = dt.datetime.fromisoformat(value)
    return value


def plan_run(
    source: sa.Engine, store: sa.Engine, suite: Suite, check_date: dt.date, requested: str = FULL
) -> Plan:
    """Decide the run's mode. `requested`: `full`; `incremental` when it is safe; `auto` as `incremental`,
    but full on the days of `DQGOV_FULL_SWEEP`."""
    if requested not in MODES:
        raise ValueError(f"mode {requested!r}: expected one of {', '.join(MODES)}")
    basics = {
        "rules_fingerprint": rules_fingerprint(suite),
        "org_fingerprint": org_fingerprint(source),
        "high_water": high_water(source, suite),
    }

    def full(reason: str) -> Plan:
        return Plan(FULL, reason, **basics)  # type: ignore[arg-type]

    if requested == FULL:
        return full("full run requested")
    if requested == AUTO and check_date.weekday() in weekdays_of("DQGOV_FULL_SWEEP"):
        return full("full sweep day (DQGOV_FULL_SWEEP)")
    with store.connect() as conn:
        base = _base_run(conn, suite.table)
        why = _why_full(conn, base, check_date, basics)
        if why is not None or base is None:
            return full(why or "no earlier run")
        keys = _listed_keys(conn, source, suite, base.id)
    if len(keys) > MAX_LISTED_KEYS:
        return full(f"more than {MAX_LISTED_KEYS:,} records to list (claimed fixes, exemptions, duplicates)")
    margin = dt.timedelta(minutes=integer_of("DQGOV_CHANGE_MARGIN_MINUTES"))
    return Plan(
        INCREMENTAL,
        f"records changed since run {base.id}",
        base_run_id=base.id,
        base_date=base.logical_date,
        since=base.source_high_water - margin,
        keys=tuple(sorted(keys)),
        **basics,  # type: ignore[arg-type]
    )


def _base_run(conn: sa.Connection, table: str) -> Any:
    last = sa.select(sa.func.max(CheckRun.id)).where(
        CheckRun.table_name == table,
        CheckRun.record_key.is_(None),
        CheckRun.status == RunStatus.RECONCILED,
    )
    return conn.execute(sa.select(CheckRun).where(CheckRun.id == last.scalar_subquery())).one_or_none()


def _why_full(
    conn: sa.Connection, base: Any, check_date: dt.date, basics: Mapping[str, object]
) -> str | None:
    if base is None:
        return "no earlier reconciled run"
    voided = conn.scalar(
        sa.select(sa.func.count()).where(
            CheckRun.table_name == base.table_name, CheckRun.status == RunStatus.VOID, CheckRun.id > base.id
        )
    )
    if voided:
        return f"a run after run {base.id} was voided"
    if check_date < base.logical_date:
        return f"check date before run {base.id}'s ({base.logical_date})"
    if base.source_high_water is None:
        return f"run {base.id} saw no updated_at"
    if base.rules_fingerprint != basics["rules_fingerprint"]:
        return f"rules, scope or reference data changed since run {base.id}"
    if base.org_fingerprint != basics["org_fingerprint"]:
        return f"institutions or staff changed since run {base.id}"
    return None


def _listed_keys(conn: sa.Connection, source: sa.Engine, suite: Suite, base_id: int) -> set[str]:
    """Records a full run could change without a change of verdict, or whose peers may have changed."""
    peer_rules = [r.id for r in suite.rules if r.kind in PEER_KINDS]
    of_table = Todo.table_name == suite.table
    waiting = (TodoStatus.PENDING_VERIFICATION.value, TodoStatus.EXEMPTED.value)
    closable = (TodoStatus.OPEN.value, *waiting)
    listed = sa.or_(
        Todo.status.in_(waiting), sa.and_(Todo.rule_id.in_(peer_rules), Todo.status.in_(closable))
    )
    keys = set(conn.scalars(sa.select(Todo.record_key).distinct().where(of_table, listed)))
    keys |= set(conn.scalars(sa.select(DuplicateKey.record_key).where(DuplicateKey.run_id == base_id)))
    gone = conn.scalars(sa.select(Todo.record_key).distinct().where(of_table, Todo.status == TodoStatus.GONE))
    keys |= set(_existing(source, suite, gone))  # a vanished record that is back
    return keys


def _existing(source: sa.Engine, suite: Suite, keys: Iterator[str] | Any) -> Iterator[str]:
    key_col = source_columns(suite.table)[suite.key]
    batch: list[str] = []
    with source.connect() as conn:
        for key in [*keys, None]:
            if key is not None:
                batch.append(key)
            if batch and (key is None or len(batch) >= LOOKUP_BATCH):
                where = key_in(key_col, batch, conn.dialect)
                stmt = sa.select(key_col).select_from(sa.table(suite.table)).where(where)
                yield from (str(k) for k in conn.scalars(stmt))
                batch = []


def scope_where(
    suite: Suite, plan: Plan, check_date: dt.date, dialect: sa.Dialect
) -> list[ColumnElement[bool]]:
    """The condition on the source table's bare columns that picks the records an incremental run
    evaluates; none for a full run."""
    if not plan.incremental:
        return []
    cols = source_columns(suite.table)
    assert plan.since is not None and plan.base_date is not None
    parts: list[ColumnElement[bool]] = [_changed(cols["updated_at"], plan.since)]
    if plan.keys:
        parts.append(key_in(cols[suite.key], plan.keys, dialect))
    lo, hi = min(plan.base_date, check_date), max(plan.base_date, check_date)
    for rule in suite.rules:
        boundary = TIME_BOUNDARIES.get(rule.kind)
        if boundary is not None and lo != hi:
            parts.append(boundary(cols[rule.columns[0]], lo, hi))
        if rule.kind in PEER_KINDS:
            parts.append(_peers_of_changed(suite.table, rule.columns[0], plan.since))
    return [sa.or_(*parts)]


def _changed(updated: ColumnElement[Any], since: dt.datetime) -> ColumnElement[bool]:
    return sa.or_(updated.is_(None), updated >= since)


def _peers_of_changed(table: str, column: str, since: dt.datetime) -> ColumnElement[bool]:
    """Records whose value (stripped, as uniqueness judges it) a changed record now holds. Those that
    shared a value a record gave up (changed, closed, deleted) failed the rule: their to-dos are listed."""
    peer = RECORD_TABLES[table].alias("dq_changed")
    changed_values = sa.select(sqlchecks.strip_blanks(peer.c[column])).where(
        _changed(peer.c.updated_at, since), peer.c[column].is_not(None)
    )
    return sqlchecks.strip_blanks(sa.column(column, sa.String)).in_(changed_values)


def evaluated_keys(source: sa.Engine, suite: Suite, where: Sequence[ColumnElement[bool]]) -> frozenset[str]:
    """The keys of the records an incremental run evaluates (a few per cent of the table)."""
    key_col = source_columns(suite.table)[suite.key]
    stmt = sa.select(key_col).select_from(sa.table(suite.table)).where(*where, key_col.is_not(None))
    with source.connect() as conn:
        return frozenset(str(k) for k in conn.scalars(stmt))


def subset_where(
    suite: Suite, keys: frozenset[str], where: Sequence[ColumnElement[bool]], dialect: sa.Dialect
) -> list[ColumnElement[bool]]:
    """The records of `keys` by key (GX issues several statements over its batch: each then reads them
    through the primary key instead of judging the whole table again), or `where` for a larger set."""
    if len(keys) > MAX_SUBSET_KEYS:
        return list(where)
    key_col = source_columns(suite.table)[suite.key]
    return [key_in(key_col, sorted(keys), dialect)] if keys else [sa.false()]
