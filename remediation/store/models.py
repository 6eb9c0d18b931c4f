"""The governance store: SQLAlchemy 2 models. Alembic migrations in `remediation/store/migrations` create them.

All tables carry the `dq_` prefix so the store can live in the same database (or schema) as the bank's
source tables without a clash (the source also has `institution` and `staff`).
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
        }
    )


class TodoStatus(enum.StrEnum):
    OPEN = "open"
    PENDING_VERIFICATION = "pending_verification"  # the account manager says fixed; a check must prove it
    FIXED = "fixed"  # closed because a re-check passed (verified fixed)
    EXEMPTED = (
        "exempted"  # an accepted appeal: the rule does not apply to these values (leaves the denominator)
    )
    OUT_OF_SCOPE = "out_of_scope"  # closed because the record's status is closed (clause G1)
    GONE = "gone"  # closed because the record is no longer in the source extract
    VOID = "void"  # opened by a check run that the data office voided: it never should have existed


# statuses in which the account manager still owes work; both count as open in rates and SLAs
ACTIVE_STATUSES = (TodoStatus.OPEN.value, TodoStatus.PENDING_VERIFICATION.value)
# closed to-dos that count nowhere (not fixed, not open): nobody can or should fix them
UNCOUNTED_STATUSES = (TodoStatus.OUT_OF_SCOPE.value, TodoStatus.GONE.value, TodoStatus.VOID.value)


class Card(enum.StrEnum):
    NONE = "none"
    YELLOW = "yellow"  # overdue
    RED = "red"  # overdue past the second limit; escalated to the head


class RunStatus(enum.StrEnum):
    VALIDATING = "validating"
    VALIDATED = "validated"
    RECONCILED = "reconciled"
    SUPERSEDED = "superseded"  # a newer run of the table was reconciled first; this run changed nothing
    FAILED = "failed"  # validation raised, or the volume guard stopped it before reconcile (`guard` says)
    ABANDONED = "abandoned"  # its process died (or its lease ran out) before it was reconciled
    VOID = "void"  # voided by the data office: its changes to the to-dos were undone


# runs whose results were applied, or may still be
LIVE_RUN_STATUSES = (RunStatus.VALIDATING.value, RunStatus.VALIDATED.value)


class Institution(Base):
    """Mirror of the source `institution` table, plus the routing fallback computed at sync."""

    __tablename__ = "dq_institution"
    inst_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    inst_name: Mapped[str] = mapped_column(sa.String(100))
    inst_level: Mapped[str] = mapped_column(sa.String(20))
    parent_code: Mapped[str | None] = mapped_column(sa.String(20))
    fallback_staff_id: Mapped[str | None] = mapped_column(sa.String(20))  # active head up the tree (G3)
    depth: Mapped[int] = mapped_column(sa.Integer, default=0)


class Staff(Base):
    """Mirror of the source `staff` table."""

    __tablename__ = "dq_staff"
    staff_id: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    staff_name: Mapped[str] = mapped_column(sa.String(60))
    inst_code: Mapped[str] = mapped_column(sa.String(20), index=True)
    position: Mapped[str] = mapped_column(sa.String(30))
    email: Mapped[str | None] = mapped_column(sa.String(120))
    wecom_userid: Mapped[str | None] = mapped_column(sa.String(60))
    active: Mapped[bool] = mapped_column(sa.Boolean)


class RuleRecord(Base):
    """The rules as last loaded from `expectations/rules/*.yml` (the catalogue the store's to-dos refer to)."""

    __tablename__ = "dq_rule"
    rule_id: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    table_name: Mapped[str] = mapped_column(sa.String(40))
    clauses: Mapped[str] = mapped_column(sa.String(60))
    columns: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(40))
    severity: Mapped[str] = mapped_column(sa.String(10))
    dimension: Mapped[str] = mapped_column(sa.String(20))
    dimension_gbt: Mapped[str] = mapped_column(sa.String(20))
    description: Mapped[str] = mapped_column(sa.Text)
    hint: Mapped[str] = mapped_column(sa.Text)
    regulation: Mapped[str] = mapped_column(sa.Text)
    fingerprint: Mapped[str] = mapped_column(sa.String(16))


class CheckRun(Base):
    __tablename__ = "dq_check_run"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(sa.String(40))
    logical_date: Mapped[dt.date] = mapped_column(sa.Date)
    trigger: Mapped[str] = mapped_column(sa.String(20))  # airflow | cli | recheck
    record_key: Mapped[str | None] = mapped_column(sa.String(64))  # set on a targeted re-check of one record
    status: Mapped[str] = mapped_column(sa.String(20))
    source: Mapped[str] = mapped_column(sa.String(300))  # URL without password
    started_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    records_total: Mapped[int] = mapped_column(sa.Integer, default=0)
    records_in_scope: Mapped[int] = mapped_column(sa.Integer, default=0)
    failing_records: Mapped[int] = mapped_column(sa.Integer, default=0)
    findings: Mapped[int] = mapped_column(sa.Integer, default=0)
    opened: Mapped[int] = mapped_column(sa.Integer, default=0)
    reopened: Mapped[int] = mapped_column(sa.Integer, default=0)
    kept: Mapped[int] = mapped_column(sa.Integer, default=0)
    fixed: Mapped[int] = mapped_column(sa.Integer, default=0)
    out_of_scope: Mapped[int] = mapped_column(sa.Integer, default=0)
    gone: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    reassigned: Mapped[int] = mapped_column(sa.Integer, default=0)
    gx_success: Mapped[bool | None] = mapped_column(sa.Boolean)
    gx_seconds: Mapped[float | None] = mapped_column(sa.Float)
    versions: Mapped[str | None] = mapped_column(sa.Text)  # JSON: GX and reference-data versions
    error: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str | None] = mapped_column(sa.String(120))  # host:pid of the validating process
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    guard: Mapped[str | None] = mapped_column(sa.Text)  # JSON: the volume-guard comparison, when it tripped
    accepted_by: Mapped[str | None] = mapped_column(sa.String(20))  # who confirmed a drop the guard stopped
    accepted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    source_defects: Mapped[str | None] = mapped_column(sa.Text)  # JSON: records without a key, duplicate keys
    voided_by: Mapped[str | None] = mapped_column(sa.String(20))
    voided_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # full: every record evaluated; incremental: only the records that may have changed verdict since
    # `base_run_id` (remediation.checks.incremental)
    mode: Mapped[str] = mapped_column(sa.String(12), default="full", server_default="full")
    base_run_id: Mapped[int | None] = mapped_column(sa.Integer)
    mode_reason: Mapped[str | None] = mapped_column(sa.String(200))  # why the run has its mode
    source_high_water: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)  # max updated_at seen
    rules_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))  # rules, scope, reference data
    org_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))  # institution and staff tables
    records_evaluated: Mapped[int | None] = mapped_column(sa.Integer)  # rows the rules ran on

    __table_args__ = (sa.Index("ix_dq_check_run_table_date", "table_name", "logical_date"),)


class RunVolume(Base):
    """Per check run and institution: records in scope, which the volume guard compares run to run."""

    __tablename__ = "dq_run_volume"
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dq_check_run.id", ondelete="CASCADE"), primary_key=True
    )
    inst_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    records: Mapped[int] = mapped_column(sa.Integer, default=0)


class DuplicateKey(Base):
    """A source defect seen by a run: several rows share one primary key. Their to-dos are left alone."""

    __tablename__ = "dq_duplicate_key"
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dq_check_run.id", ondelete="CASCADE"), primary_key=True
    )
    record_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    rows: Mapped[int] = mapped_column(sa.Integer)


class RunPartition(Base):
    """One key range of a partitioned check run, written with its findings: failing records, counts per rule."""

    __tablename__ = "dq_run_partition"
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dq_check_run.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    lo: Mapped[str | None] = mapped_column(sa.String(64))  # NULL: unbounded (the first range)
    hi: Mapped[str | None] = mapped_column(sa.String(64))  # NULL: unbounded (the last range)
    records: Mapped[int] = mapped_column(sa.Integer)
    per_rule: Mapped[str] = mapped_column(sa.Text)  # JSON: rule id -> failing records extracted
    staged_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class TodoBefore(Base):
    """The state of a to-do just before a run changed it, so that voiding the run can restore it."""

    __tablename__ = "dq_todo_before"
    run_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    todo_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    inst_code: Mapped[str | None] = mapped_column(sa.String(20))
    mgr_staff_id: Mapped[str | None] = mapped_column(sa.String(20))
    assignee_staff_id: Mapped[str | None] = mapped_column(sa.String(20))
    routed_to_head: Mapped[bool] = mapped_column(sa.Boolean)
    masked_value: Mapped[str | None] = mapped_column(sa.String(300))
    first_seen: Mapped[dt.date] = mapped_column(sa.Date)
    last_seen: Mapped[dt.date] = mapped_column(sa.Date)
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    reopen_count: Mapped[int] = mapped_column(sa.Integer)
    opened_run_id: Mapped[int] = mapped_column(sa.Integer)
    transition_run_id: Mapped[int] = mapped_column(sa.Integer)
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    card: Mapped[str] = mapped_column(sa.String(10))
    value_hash: Mapped[str | None] = mapped_column(sa.String(64))
    assigned_by: Mapped[str | None] = mapped_column(sa.String(20))


# the to-do columns a run may change, which a before-image keeps
TODO_STATE_COLUMNS = (
    "status",
    "inst_code",
    "mgr_staff_id",
    "assignee_staff_id",
    "routed_to_head",
    "masked_value",
    "first_seen",
    "last_seen",
    "closed_on",
    "reopen_count",
    "opened_run_id",
    "transition_run_id",
    "due_date",
    "card",
    "value_hash",
    "assigned_by",
)


class TableLock(Base):
    """One row per record type: on SQLite, writing it takes the database's write lock for a reconcile."""

    __tablename__ = "dq_table_lock"
    table_name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(120))
    acquired_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class CheckRunRule(Base):
    """Per rule and run: GX's failing count, the extracted count, and whether closing is allowed."""

    __tablename__ = "dq_check_run_rule"
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dq_check_run.id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    unexpected: Mapped[int | None] = mapped_column(sa.Integer)
    extracted: Mapped[int] = mapped_column(sa.Integer, default=0)
    status: Mapped[str] = mapped_column(sa.String(20))  # ok | mismatch | error
    error: Mapped[str | None] = mapped_column(sa.Text)


class Finding(Base):
    """Staging: every failing (rule, record) of one run, routed. Kept only for the latest runs."""

    __tablename__ = "dq_finding"
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dq_check_run.id", ondelete="CASCADE"), primary_key=True
    )
    rule_id: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    record_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    table_name: Mapped[str] = mapped_column(sa.String(40))
    inst_code: Mapped[str | None] = mapped_column(sa.String(20))
    mgr_staff_id: Mapped[str | None] = mapped_column(sa.String(20))
    assignee_staff_id: Mapped[str | None] = mapped_column(sa.String(20))
    routed_to_head: Mapped[bool] = mapped_column(sa.Boolean)
    masked_value: Mapped[str | None] = mapped_column(sa.String(300))
    record_created: Mapped[dt.date | None] = mapped_column(sa.Date)
    value_hash: Mapped[str | None] = mapped_column(sa.String(64))


class RecordState(Base):
    """Staging: source status of records whose open to-dos no longer fail (fixed, or closed, or gone)."""

    __tablename__ = "dq_record_state"
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dq_check_run.id", ondelete="CASCADE"), primary_key=True
    )
    record_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    status: Mapped[str | None] = mapped_column(sa.String(20))  # NULL: the record is gone from the source
    state: Mapped[str | None] = mapped_column(
        sa.String(20)
    )  # live | out_of_scope | gone (by the suite's scope)


# Half of each page of `dq_todo` is left free on PostgreSQL, so that the update of a to-do's `last_seen`
# (no index reads it) stays on its page and adds no index entries (migration 0016)
TODO_FILLFACTOR = 50


class Todo(Base):
    """数据质量问题待办: one per (rule, table, record key), opened and closed only by check results."""

    __tablename__ = "dq_todo"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(sa.String(60))
    table_name: Mapped[str] = mapped_column(sa.String(40))
    record_key: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(20))
    clause: Mapped[str] = mapped_column(sa.String(60))
    columns: Mapped[str] = mapped_column(sa.String(200))
    severity: Mapped[str] = mapped_column(sa.String(10))
    inst_code: Mapped[str | None] = mapped_column(sa.String(20))
    mgr_staff_id: Mapped[str | None] = mapped_column(sa.String(20))
    assignee_staff_id: Mapped[str | None] = mapped_column(sa.String(20))
    routed_to_head: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    masked_value: Mapped[str | None] = mapped_column(sa.String(300))
    first_seen: Mapped[dt.date] = mapped_column(sa.Date)
    last_seen: Mapped[dt.date] = mapped_column(sa.Date)
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    reopen_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    opened_run_id: Mapped[int] = mapped_column(sa.Integer)
    transition_run_id: Mapped[int] = mapped_column(sa.Integer)  # the run of the last status change
    due_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    card: Mapped[str] = mapped_column(sa.String(10), default=Card.NONE, server_default=Card.NONE.value)
    record_created: Mapped[dt.date | None] = mapped_column(sa.Date)  # onboard_date / open_date: stock or new
    value_hash: Mapped[str | None] = mapped_column(sa.String(64))  # of the rule's raw values, for exemptions
    # 转派: the head who handed it to its assignee; held while the source's mgr_staff_id stays the same
    assigned_by: Mapped[str | None] = mapped_column(sa.String(20))

    __table_args__ = (
        sa.UniqueConstraint("rule_id", "table_name", "record_key"),
        sa.Index("ix_dq_todo_assignee_status", "assignee_staff_id", "status"),
        sa.Index("ix_dq_todo_inst_status", "inst_code", "status"),
        sa.Index("ix_dq_todo_table_status", "table_name", "status"),
        sa.Index("ix_dq_todo_transition", "transition_run_id"),
        # active to-dos by due date: the calendar's coverage warning reads the span and years of these
        sa.Index(
            "ix_dq_todo_active_due",
            "due_date",
            postgresql_where=sa.text("status IN ('open', 'pending_verification')"),
            sqlite_where=sa.text("status IN ('open', 'pending_verification')"),
        ),
        {"postgresql_with": {"fillfactor": TODO_FILLFACTOR}},
    )


class TodoEvent(Base):
    """Append-only audit of every change to a to-do: who (a person or `system`), when, from what to what."""

    __tablename__ = "dq_todo_event"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    todo_id: Mapped[int] = mapped_column(sa.ForeignKey("dq_todo.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(sa.String(40))
    event: Mapped[str] = mapped_column(sa.String(30))  # opened | reopened | fixed | out_of_scope | reassigned
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str | None] = mapped_column(sa.String(20))
    detail: Mapped[str | None] = mapped_column(sa.Text)
