"""Scale-out: one check run with its extraction split into key ranges, each staged by a task of its own.

The check DAG runs `prepare` (what `pipeline.validate` does before the extraction: a new run, the record
counts, the volume, the key defects and Great Expectations' aggregate over the whole table; then the key
ranges), one `extract_range` per range as dynamically mapped Airflow tasks (on as many Celery workers as
there are), and `finish` (the counts per rule summed over the ranges and compared with GX's, the state of
the records whose to-dos may close, the run marked validated), so the run stages what `validate` stages.

Ranges are half-open [lo, hi) on the table's key, cut at its quantiles (`percentile_disc` on PostgreSQL,
ORDER BY … OFFSET elsewhere), the first and the last unbounded, so every key falls in exactly one; rows
without a key go with the first. Both the cutting and the reading compare keys in the source (its
collation). A table with fewer distinct keys than N gets fewer ranges.

A range stages its findings and its row in `dq_run_partition` in one store transaction: a task that dies
stages nothing, and a range that has its row is done, so a retried task stages nothing twice (two attempts
at once: the second's row collides and it rolls back). The state of the records whose to-dos may close is
staged by `finish`, since only then is it known which rules may close to-dos. Between the tasks the run
belongs to no process (its owner names the ranges), so the sweep judges it by its heartbeat lease alone
(DQGOV_RUN_LEASE_MINUTES); each task beats it while it works. A run whose range failed for good stays
*validating* until the sweep marks it abandoned; it is never applied.

An incremental run (`remediation.checks.incremental`) fixes the keys it evaluates in `prepare` and carries
them to its ranges and to `finish`: a range reads those of its keys in batches by key, so a record that
changes while the ranges run is judged on this run only if `prepare` chose it, and `finish` stages the
state of exactly the records that were chosen.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from expectations.compiler import source_columns
from expectations.kinds import CheckContext
from expectations.rulebook import Suite
from expectations.runner import FailingRecord, GxValidation, RuleOutcome, failing_records
from remediation import settings
from remediation.checks.incremental import FULL
from remediation.checks.keydefects import KeyDefects
from remediation.checks.pipeline import Measured, Progress, ValidateSummary, conclude, measure, open_run
from remediation.checks.staging import Extracted, fail_run, key_in, stage_failing
from remediation.checks.sweep import heartbeat
from remediation.clock import now
from remediation.errors import DqgovError
from remediation.settings import SettingError
from remediation.store.models import (
    CheckRun,
    CheckRunRule,
    DuplicateKey,
    RecordState,
    RunPartition,
    RunStatus,
)
from remediation.store.tablelock import holder

MAX_PARTITIONS = 64
KEY_BATCH = 5000  # keys of an incremental run read per statement by a range
_log = logging.getLogger(__name__)


def _quiet(_: str) -> None:
    pass


def partition_count(raw: object = None) -> int:
    """How many key ranges: `raw` (a DAG run's conf `partitions`) when given, else DQGOV_CHECK_PARTITIONS."""
    name = "DQGOV_CHECK_PARTITIONS"
    if raw is None or raw == "":
        n = settings.integer_of(name)
    else:
        name = "partitions"
        try:
            n = int(str(raw).strip())
        except ValueError:
            raise SettingError(f"partitions={raw!r} is not a whole number") from None
    if not 1 <= n <= MAX_PARTITIONS:
        raise SettingError(f"{name}={n} must be between 1 and {MAX_PARTITIONS}")
    return n


@dataclass(frozen=True)
class KeyRange:
    """Keys in [lo, hi); None: unbounded. The first range (lo None) also holds the rows without a key."""

    part: int
    lo: str | None = None
    hi: str | None = None

    def where(self, key: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.lo is not None:
            conditions.append(key >= self.lo)
        if self.hi is not None:
            below = key < self.hi
            conditions.append(below if self.lo is not None else sa.or_(below, key.is_(None)))
        return conditions


def key_ranges(source: sa.Engine, suite: Suite, n: int) -> list[KeyRange]:
    """At most `n` ranges of about equal size covering every key of the table once (and the NULL keys)."""
    key = source_columns(suite.table)[suite.key]
    keyed = sa.select().select_from(sa.table(suite.table)).where(key.is_not(None))
    cuts: list[Any] = []
    with source.connect() as conn:
        if n > 1 and conn.dialect.name == "postgresql":
            fractions = sa.literal([i / n for i in range(1, n)], postgresql.ARRAY(sa.Float))
            cuts = list(
                conn.scalar(keyed.add_columns(sa.func.percentile_disc(fractions).within_group(key))) or []
            )
        elif n > 1:
            count = int(conn.scalar(keyed.add_columns(sa.func.count())) or 0)
            ordered = keyed.add_columns(key).order_by(key).limit(1)
            cuts = [conn.scalar(ordered.offset(count * i // n)) for i in range(1, n) if count]
    bounds: list[str] = []
    for cut in cuts:  # in the source's order already; equal cuts would only make empty ranges
        if cut is not None and (not bounds or str(cut) != bounds[-1]):
            bounds.append(str(cut))
    edges: list[str | None] = [None, *bounds, None]
    return [KeyRange(i, edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


@dataclass(frozen=True)
class Prepared:
    """A run ready for its ranges: what `finish` needs besides their rows (JSON, for Airflow's XCom)."""

    run_id: int
    table: str
    check_date: dt.date
    ranges: tuple[KeyRange, ...]
    records_total: int
    records_in_scope: int
    null_keys: int
    duplicate_rows: int
    gx: dict[str, Any]
    mode: str = FULL
    evaluated: tuple[str, ...] | None = None  # an incremental run's keys (sorted); None: every record

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "table": self.table,
            "check_date": self.check_date.isoformat(),
            "ranges": [[r.lo, r.hi] for r in self.ranges],
            "records_total": self.records_total,
            "records_in_scope": self.records_in_scope,
            "null_keys": self.null_keys,
            "duplicate_rows": self.duplicate_rows,
            "gx": self.gx,
            "mode": self.mode,
            "evaluated": None if self.evaluated is None else list(self.evaluated),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Prepared:
        try:
            return cls(
                run_id=int(data["run_id"]),
                table=str(data["table"]),
                check_date=dt.date.fromisoformat(str(data["check_date"])),
                ranges=tuple(KeyRange(i, lo, hi) for i, (lo, hi) in enumerate(data["ranges"])),
                records_total=int(data["records_total"]),
                records_in_scope=int(data["records_in_scope"]),
                null_keys=int(data["null_keys"]),
                duplicate_rows=int(data["duplicate_rows"]),
                gx=dict(data["gx"]),
                mode=str(data.get("mode", FULL)),
                evaluated=None if data.get("evaluated") is None else tuple(map(str, data["evaluated"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DqgovError(f"not a prepared check run: {exc!r} in {str(data)[:200]}") from None


def _gx_json(gx: GxValidation) -> dict[str, Any]:
    outcomes = {r: {"unexpected": o.unexpected, "error": o.error} for r, o in gx.outcomes.items()}
    return {"success": gx.success, "seconds": gx.seconds, "gx_version": gx.gx_version, "outcomes": outcomes}


def _gx_of(data: dict[str, Any]) -> GxValidation:
    outcomes = {
        r: RuleOutcome(r, unexpected=o["unexpected"], error=o["error"]) for r, o in data["outcomes"].items()
    }
    return GxValidation(bool(data["success"]), outcomes, float(data["seconds"]), str(data["gx_version"]))


def prepare(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    check_date: dt.date,
    partitions: int,
    trigger: str = "airflow",
    progress: Progress = _quiet,
    today: dt.date | None = None,
    mode: str = FULL,
) -> Prepared:
    """A new run with everything but its extraction done, and its key ranges (at most `partitions`)."""
    run_id, plan = open_run(source, store, suite, check_date, trigger, today, mode)
    try:
        with heartbeat(store, run_id):
            ctx = CheckContext(check_date=check_date)
            measured = measure(source, store, suite, run_id, ctx, progress, plan)
            ranges = key_ranges(source, suite, partitions)
        owner = f"{len(ranges)} key ranges, prepared by {holder()}"[:120]  # no process of its own now
        with store.begin() as conn:
            conn.execute(
                sa.update(CheckRun).where(CheckRun.id == run_id).values(owner=owner, heartbeat_at=now())
            )
    except BaseException as exc:
        fail_run(store, run_id, exc)
        raise
    return Prepared(
        run_id=run_id,
        table=suite.table,
        check_date=check_date,
        ranges=tuple(ranges),
        records_total=measured.records_total,
        records_in_scope=measured.records_in_scope,
        null_keys=measured.defects.null_keys,
        duplicate_rows=measured.defects.duplicate_rows,
        gx=_gx_json(measured.gx),
        mode=measured.mode,
        evaluated=None if measured.evaluated is None else tuple(sorted(measured.evaluated)),
    )


def _validating(conn: sa.Connection, run_id: int, lock: bool = False) -> None:
    stmt = sa.select(CheckRun.status).where(CheckRun.id == run_id)
    # FOR NO KEY UPDATE: the ranges' findings hold key-share locks on the run's row until they commit
    status = conn.scalar(stmt.with_for_update(key_share=True) if lock else stmt)
    if status != RunStatus.VALIDATING:
        raise DqgovError(f"check run {run_id} is {status or 'missing'}, no longer validating: nothing staged")


def extract_range(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    prepared: Prepared,
    part: int,
    progress: Progress = _quiet,
) -> int:
    """Stage the findings of one key range of a prepared run, all or nothing; the failing records read.

    A range staged already (an earlier attempt committed) is left as it is."""
    key_range = prepared.ranges[part]
    run_id = prepared.run_id
    ctx = CheckContext(check_date=prepared.check_date)
    key = source_columns(suite.table)[suite.key]
    with heartbeat(store, run_id), store.begin() as conn:
        _validating(conn, run_id)
        done = conn.scalar(
            sa.select(RunPartition.records).where(RunPartition.run_id == run_id, RunPartition.part == part)
        )
        if done is not None:
            _log.info("check run %s: key range %s was staged already; nothing to do", run_id, part)
            return int(done)
        skipped = frozenset(
            conn.scalars(sa.select(DuplicateKey.record_key).where(DuplicateKey.run_id == run_id))
        )
        failing = _range_records(source, suite, ctx, prepared, key_range.where(key))
        extracted = stage_failing(store, suite, failing, run_id, progress, skipped, conn=conn)
        _validating(conn, run_id, lock=True)
        conn.execute(
            sa.insert(RunPartition).values(
                run_id=run_id,
                part=part,
                lo=key_range.lo,
                hi=key_range.hi,
                records=extracted.records,
                per_rule=json.dumps(dict(extracted.per_rule), sort_keys=True),
                staged_at=now(),
            )
        )
    return extracted.records


def _range_records(
    source: sa.Engine,
    suite: Suite,
    ctx: CheckContext,
    prepared: Prepared,
    in_range: list[ColumnElement[bool]],
) -> Iterator[FailingRecord]:
    """The failing records of a range: all of them, or those of the incremental run's keys, by batch."""
    if prepared.evaluated is None:
        yield from failing_records(source, suite, ctx, where=in_range)
        return
    key = source_columns(suite.table)[suite.key]
    keys = prepared.evaluated
    for start in range(0, len(keys), KEY_BATCH):
        batch = [*in_range, key_in(key, keys[start : start + KEY_BATCH], source.dialect)]
        yield from failing_records(source, suite, ctx, where=batch)


def finish(source: sa.Engine, store: sa.Engine, suite: Suite, prepared: Prepared) -> ValidateSummary:
    """Sum the ranges' counts, compare them with GX's, stage the record states and mark the run validated.

    Every range must have been staged. A run validated already (an earlier attempt committed) is left as
    it is."""
    run_id = prepared.run_id
    with store.connect() as conn:
        status = conn.scalar(sa.select(CheckRun.status).where(CheckRun.id == run_id))
        parts = conn.execute(sa.select(RunPartition).where(RunPartition.run_id == run_id)).all()
        duplicates = frozenset(
            conn.scalars(sa.select(DuplicateKey.record_key).where(DuplicateKey.run_id == run_id))
        )
    defects = KeyDefects(suite.key, prepared.null_keys, duplicates, prepared.duplicate_rows)
    if status == RunStatus.VALIDATED:
        return _summary_of(store, prepared, defects)
    if status != RunStatus.VALIDATING:
        raise DqgovError(f"check run {run_id} is {status or 'missing'}, no longer validating")
    missing = sorted({r.part for r in prepared.ranges} - {p.part for p in parts})
    if missing:
        raise DqgovError(f"check run {run_id}: key range(s) {missing} are not staged yet")
    per_rule: Counter[str] = Counter()
    for row in parts:
        per_rule.update(json.loads(row.per_rule))
    extracted = Extracted(per_rule, sum(p.records for p in parts))
    evaluated = None if prepared.evaluated is None else frozenset(prepared.evaluated)
    measured = Measured(
        prepared.records_total,
        prepared.records_in_scope,
        defects,
        _gx_of(prepared.gx),
        prepared.mode,
        evaluated=evaluated,
    )
    with store.begin() as conn:  # an earlier attempt may have staged some before it failed
        conn.execute(sa.delete(RecordState).where(RecordState.run_id == run_id))
    with heartbeat(store, run_id):
        return conclude(source, store, suite, run_id, prepared.check_date, measured, extracted)


def _summary_of(store: sa.Engine, prepared: Prepared, defects: KeyDefects) -> ValidateSummary:
    with store.connect() as conn:
        run = conn.execute(sa.select(CheckRun.__table__).where(CheckRun.id == prepared.run_id)).one()
        not_closable = conn.scalars(
            sa.select(CheckRunRule.rule_id)
            .where(CheckRunRule.run_id == prepared.run_id, CheckRunRule.status != "ok")
            .order_by(CheckRunRule.rule_id)
        )
        return ValidateSummary(
            run_id=prepared.run_id,
            table=prepared.table,
            check_date=prepared.check_date,
            records_total=run.records_total,
            records_in_scope=run.records_in_scope,
            failing_records=run.failing_records,
            findings=run.findings,
            rules_not_closable=tuple(not_closable),
            source_defects=defects.describe(),
            mode=prepared.mode,
            records_evaluated=run.records_evaluated or 0,
        )


def validate_partitioned(
    source: sa.Engine,
    store: sa.Engine,
    suite: Suite,
    check_date: dt.date,
    partitions: int,
    trigger: str = "cli",
    progress: Progress = _quiet,
    today: dt.date | None = None,
    mode: str = FULL,
) -> ValidateSummary:
    """The DAG's prepare, extract and finish in this process, one range after the other."""
    prepared = prepare(source, store, suite, check_date, partitions, trigger, progress, today, mode)
    for key_range in prepared.ranges:
        extract_range(source, store, suite, prepared, key_range.part, progress)
    return finish(source, store, suite, prepared)
