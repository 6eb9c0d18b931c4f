"""The governance store, part two: campaigns, appeals and exemptions, notifications, snapshots, portal logins
and sessions, the audit log, corrections, and the value-hash key chain. (Part one, `models.py`, holds the
org mirror, the rules, the check runs and their staging, and the to-dos.) Also the follow-ups (snapshot, reminders)
that a reconciled check date still needs."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from remediation.store.models import Base


class Campaign(Base):
    """专项治理: a time-boxed remediation campaign. Empty scope fields mean "all"."""

    __tablename__ = "dq_campaign"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    tables: Mapped[str] = mapped_column(sa.String(200), default="")  # ';'-separated record types
    rules: Mapped[str] = mapped_column(sa.Text, default="")  # ';'-separated rule ids
    institutions: Mapped[str] = mapped_column(sa.Text, default="")  # ';'-separated subtree roots
    baseline_date: Mapped[dt.date] = mapped_column(sa.Date)
    deadline: Mapped[dt.date] = mapped_column(sa.Date)
    target_rate: Mapped[float] = mapped_column(sa.Float)
    is_default: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(sa.String(40))


class Appeal(Base):
    """申诉 → 协调 → 仲裁: one appeal of one to-do, moving through the three stages."""

    __tablename__ = "dq_appeal"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    todo_id: Mapped[int] = mapped_column(sa.ForeignKey("dq_todo.id"), index=True)
    stage: Mapped[str] = mapped_column(sa.String(20))  # coordination | arbitration
    status: Mapped[str] = mapped_column(sa.String(20))  # pending | accepted | rejected | withdrawn
    reason: Mapped[str] = mapped_column(sa.Text)
    evidence: Mapped[str | None] = mapped_column(sa.Text)
    value_hash: Mapped[str | None] = mapped_column(sa.String(64))  # the values appealed about
    appellant: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class AppealEvidence(Base):
    """A file (PDF, JPG, PNG) the appellant attached to an appeal, kept in the store: its type is what its
    first bytes say, never its name or the browser's word. Seen only by the appellant and the deciders."""

    __tablename__ = "dq_appeal_evidence"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("dq_appeal.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(10))  # pdf | jpeg | png
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(sa.String(20))
    uploaded_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class AppealDecision(Base):
    """Append-only: every decision on an appeal, with who, when, at which stage and why."""

    __tablename__ = "dq_appeal_decision"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("dq_appeal.id"), index=True)
    stage: Mapped[str] = mapped_column(sa.String(20))
    decision: Mapped[str] = mapped_column(sa.String(20))  # accept | reject | pass_up
    decided_by: Mapped[str] = mapped_column(sa.String(20))
    decided_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(sa.Text)


class Exemption(Base):
    """豁免: bound to the record's values when granted; lapses when they change or it expires."""

    __tablename__ = "dq_exemption"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    todo_id: Mapped[int] = mapped_column(sa.ForeignKey("dq_todo.id"), index=True)
    appeal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dq_appeal.id"))
    value_hash: Mapped[str | None] = mapped_column(sa.String(64))
    granted_by: Mapped[str] = mapped_column(sa.String(20))
    granted_on: Mapped[dt.date] = mapped_column(sa.Date)
    expires_on: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(20))  # active | lapsed | expired
    ended_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    ended_by_run_id: Mapped[int | None] = mapped_column(sa.Integer)  # the check run that ended it


class OutboxMessage(Base):
    """Transactional outbox: written with the change that causes it, delivered (and retried) later."""

    __tablename__ = "dq_outbox"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)  # nothing is sent twice
    channel: Mapped[str] = mapped_column(sa.String(20))  # email | wecom | inbox
    recipient: Mapped[str] = mapped_column(sa.String(20))  # staff_id
    address: Mapped[str | None] = mapped_column(sa.String(200))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20))  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.Index("ix_dq_outbox_status_next", "status", "next_attempt_at"),)


class InboxMessage(Base):
    """The portal inbox: what the outbox delivered on the `inbox` channel."""

    __tablename__ = "dq_inbox"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    staff_id: Mapped[str] = mapped_column(sa.String(20), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    read_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Snapshot(Base):
    """Daily counts per campaign × institution (its whole subtree) × rule × segment (stock | new)."""

    __tablename__ = "dq_snapshot"
    snapshot_date: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    inst_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    rule_id: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    segment: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    baseline: Mapped[int] = mapped_column(sa.Integer, default=0)
    open: Mapped[int] = mapped_column(sa.Integer, default=0)
    pending: Mapped[int] = mapped_column(sa.Integer, default=0)
    fixed: Mapped[int] = mapped_column(sa.Integer, default=0)
    exempted: Mapped[int] = mapped_column(sa.Integer, default=0)
    overdue: Mapped[int] = mapped_column(sa.Integer, default=0)
    yellow: Mapped[int] = mapped_column(sa.Integer, default=0)
    red: Mapped[int] = mapped_column(sa.Integer, default=0)
    new: Mapped[int] = mapped_column(sa.Integer, default=0)
    frozen: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class SnapshotRecords(Base):
    """Per snapshot and institution subtree: records in scope and new records, for new-record quality."""

    __tablename__ = "dq_snapshot_records"
    snapshot_date: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    inst_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    records: Mapped[int] = mapped_column(sa.Integer, default=0)
    new_records: Mapped[int] = mapped_column(sa.Integer, default=0)
    new_records_with_findings: Mapped[int] = mapped_column(sa.Integer, default=0)
    routing_gaps: Mapped[int] = mapped_column(sa.Integer, default=0)  # to-dos routed to a head (G3)
    frozen: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class SnapshotTotal(Base):
    """A snapshot's counts summed over the rules of each severity (dq_snapshot per institution, segment and
    the rule's severity in dq_rule, `low` when unknown): what the summary table and the trend read. Written
    with the snapshot; rebuilt when a rule's severity changes (remediation/reporting/snapshot_totals.py)."""

    __tablename__ = "dq_snapshot_total"
    campaign_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    snapshot_date: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    inst_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    segment: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    severity: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    baseline: Mapped[int] = mapped_column(sa.Integer, default=0)
    open: Mapped[int] = mapped_column(sa.Integer, default=0)
    pending: Mapped[int] = mapped_column(sa.Integer, default=0)
    fixed: Mapped[int] = mapped_column(sa.Integer, default=0)
    exempted: Mapped[int] = mapped_column(sa.Integer, default=0)
    overdue: Mapped[int] = mapped_column(sa.Integer, default=0)
    yellow: Mapped[int] = mapped_column(sa.Integer, default=0)
    red: Mapped[int] = mapped_column(sa.Integer, default=0)
    new: Mapped[int] = mapped_column(sa.Integer, default=0)
    frozen: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    __table_args__ = (
        sa.Index("ix_dq_snapshot_total_trend", "campaign_id", "inst_code", "segment", "snapshot_date"),
    )


class TodoTally(Base):
    """Live counts per campaign, institution and assignee ('' for none), kept by triggers on dq_todo
    (remediation/store/tally.py). `dated`: active counted to-dos with a due date (overdue = those due
    before the day asked, from dq_todo_due)."""

    __tablename__ = "dq_todo_tally"
    campaign_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    inst_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    assignee_staff_id: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    baseline: Mapped[int] = mapped_column(sa.Integer, default=0)
    done: Mapped[int] = mapped_column(sa.Integer, default=0)
    active: Mapped[int] = mapped_column(sa.Integer, default=0)
    pending: Mapped[int] = mapped_column(sa.Integer, default=0)
    dated: Mapped[int] = mapped_column(sa.Integer, default=0)
    yellow: Mapped[int] = mapped_column(sa.Integer, default=0)
    red: Mapped[int] = mapped_column(sa.Integer, default=0)
    new: Mapped[int] = mapped_column(sa.Integer, default=0)
    fixed_total: Mapped[int] = mapped_column(sa.Integer, default=0)


class TodoDue(Base):
    """Active counted to-dos per campaign, institution, assignee and due date, kept with dq_todo_tally."""

    __tablename__ = "dq_todo_due"
    campaign_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    inst_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    assignee_staff_id: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    due_date: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    n: Mapped[int] = mapped_column(sa.Integer, default=0)

    __table_args__ = (sa.Index("ix_dq_todo_due_campaign_due", "campaign_id", "due_date"),)


class RunRecords(Base):
    """Per check run, campaign and institution: records in scope, and those created after the baseline."""

    __tablename__ = "dq_run_records"
    run_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dq_check_run.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    inst_code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    records: Mapped[int] = mapped_column(sa.Integer, default=0)
    new_records: Mapped[int] = mapped_column(sa.Integer, default=0)


class User(Base):
    """A portal login for a member of staff (dq_staff); passwords are stored as argon2 hashes only."""

    __tablename__ = "dq_user"
    staff_id: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    failed_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    password_changed_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class WebSession(Base):
    """A server-side portal session; the cookie carries a random token, the store only its hash."""

    __tablename__ = "dq_session"
    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(sa.String(20), index=True)
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class AuditEntry(Base):
    """Append-only, hash-chained audit log: logins, unmasked views, corrections, decisions (portal and CLI)."""

    __tablename__ = "dq_audit"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    staff_id: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))  # login | login_failed | locked | unmasked_view | ...
    table_name: Mapped[str | None] = mapped_column(sa.String(40))
    record_key: Mapped[str | None] = mapped_column(sa.String(64))
    detail: Mapped[str | None] = mapped_column(sa.Text)
    client: Mapped[str | None] = mapped_column(sa.String(64))
    # the hash chain (remediation/workflow/auditchain.py): unique, so two appends can never follow the same entry
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    row_hash: Mapped[str] = mapped_column(sa.String(64))


class Correction(Base):
    """A correction typed by an account manager: validated by the rules, written back, then re-checked."""

    __tablename__ = "dq_correction"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    todo_id: Mapped[int] = mapped_column(sa.ForeignKey("dq_todo.id"), index=True)
    table_name: Mapped[str] = mapped_column(sa.String(40))
    record_key: Mapped[str] = mapped_column(sa.String(64))
    changes: Mapped[str] = mapped_column(sa.Text)  # JSON {column: new value}
    status: Mapped[str] = mapped_column(sa.String(20))  # written | write_failed | verified | still_failing
    staff_id: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    detail: Mapped[str | None] = mapped_column(sa.Text)


class HashKey(Base):
    """The key chain the store's value hashes were made with: public key ids only, oldest first."""

    __tablename__ = "dq_hash_key"
    position: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    key_id: Mapped[str] = mapped_column(sa.String(16))
    added_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class WorkbookImport(Base):
    """A to-do workbook's row whose correction was applied: one per (issued workbook, to-do), so importing
    the same file again applies nothing twice. Claimed (`applying`) before the write-back, in its own
    transaction, so two imports of one file at once cannot both apply a row."""

    __tablename__ = "dq_workbook_import"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    issue_id: Mapped[str] = mapped_column(sa.String(36))
    todo_id: Mapped[int] = mapped_column(sa.ForeignKey("dq_todo.id"))
    row_number: Mapped[int] = mapped_column(sa.Integer)
    staff_id: Mapped[str] = mapped_column(sa.String(20))
    correction_id: Mapped[int | None] = mapped_column(sa.Integer)
    outcome: Mapped[str] = mapped_column(sa.String(20))  # applying | verified | still_failing | queued
    applied_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.UniqueConstraint("issue_id", "todo_id"),)


class OaTodo(Base):
    """The OA unified to-do (统一待办) each person has for a campaign, as last queued to the OA system:
    one per (campaign, person), named by a stable external id."""

    __tablename__ = "dq_oa_todo"
    external_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    staff_id: Mapped[str] = mapped_column(sa.String(20))
    campaign_id: Mapped[int | None] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(10))  # open | done
    open_count: Mapped[int] = mapped_column(sa.Integer)
    due_soon_count: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class FollowUp(Base):
    """What a reconciled check date still needs (`snapshot`, `remind`), done by dq_snapshot and dq_notify."""

    __tablename__ = "dq_follow_up"
    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    requested_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
