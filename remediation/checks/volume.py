"""The volume guard (数据量骤降保护): absence of records is not a fix.

Before a full run applies, its records in scope are compared with those of the last reconciled full run
of the table, in all and per institution. When the extract shrank by more than the policy's
`volume_guard.max_drop` (a table, or an institution on its own, is judged from `min_records` records up),
the run is stopped: status *failed*, an error starting with `volume guard:`, the comparison kept in
`dq_check_run.guard`, an alert queued for the data office, and no to-do changed. A member of the data
office who confirms the drop is real (`dqgov check … --accept-drop --staff ID`, or the run's page in the
portal) lets it through; the acceptance is recorded on the run and in the audit log.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from remediation.clock import now
from remediation.errors import DqgovError, NotAllowed, NotFound
from remediation.notify.alerts import alert_data_office
from remediation.policy import Policy
from remediation.store.models import CheckRun, RunStatus, RunVolume, Staff
from remediation.workflow.audit import audit

SHOWN_INSTITUTIONS = 10


class VolumeGuardTripped(DqgovError):
    """The extract shrank beyond the limit: the run was stopped before it changed any to-do."""


@dataclass(frozen=True)
class InstitutionDrop:
    inst_code: str
    previous: int
    current: int

    @property
    def drop(self) -> float:
        return 1 - self.current / self.previous if self.previous else 0.0


@dataclass
class GuardVerdict:
    table: str
    run_id: int
    previous_run: int | None
    previous: int
    current: int
    max_drop: float
    institutions: list[InstitutionDrop] = field(default_factory=list)  # those beyond the limit, worst first

    @property
    def drop(self) -> float:
        return 1 - self.current / self.previous if self.previous else 0.0

    @property
    def tripped(self) -> bool:
        return self.previous_run is not None and (self.drop > self.max_drop or bool(self.institutions))

    @property
    def message(self) -> str:
        limit = f"more than the {self.max_drop:.0%} allowed"
        if self.drop > self.max_drop:
            what = (
                f"{self.table} records in scope fell from {self.previous:,} (run {self.previous_run}) to "
                f"{self.current:,} (-{self.drop:.0%}), {limit}"
            )
        else:
            worst = self.institutions[0]
            what = (
                f"{self.table} records in scope of {len(self.institutions)} institution(s) fell {limit}, e.g. "
                f"{worst.inst_code} from {worst.previous:,} to {worst.current:,} (-{worst.drop:.0%})"
            )
        return (
            f"volume guard: {what}; run {self.run_id} changed no to-do. If the drop is real, a member of the "
            f"data office accepts it: dqgov run accept-drop {self.run_id} --staff ID (or on the run's page)"
        )

    def as_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["drop"] = round(self.drop, 4)
        data["institutions"] = [{**asdict(i), "drop": round(i.drop, 4)} for i in self.institutions]
        return json.dumps(data, ensure_ascii=False)


def _volumes(conn: sa.Connection, run_id: int) -> dict[str, int]:
    rows = conn.execute(sa.select(RunVolume.inst_code, RunVolume.records).where(RunVolume.run_id == run_id))
    return {code: int(n) for code, n in rows}


def judge_volume(conn: sa.Connection, run: Any, policy: Policy) -> GuardVerdict:
    """Compare `run` (a full run, validated) with the last reconciled full run of its table."""
    last = conn.execute(
        sa.select(CheckRun.id, CheckRun.records_in_scope)
        .where(
            CheckRun.table_name == run.table_name,
            CheckRun.record_key.is_(None),
            CheckRun.status == RunStatus.RECONCILED,
            CheckRun.id != run.id,
        )
        .order_by(CheckRun.id.desc())
        .limit(1)
    ).first()
    verdict = GuardVerdict(
        table=run.table_name,
        run_id=run.id,
        previous_run=last.id
        if last is not None and last.records_in_scope >= policy.volume_min_records
        else None,
        previous=int(last.records_in_scope) if last is not None else 0,
        current=int(run.records_in_scope),
        max_drop=policy.volume_max_drop,
    )
    if verdict.previous_run is None:
        return verdict
    before, after = _volumes(conn, verdict.previous_run), _volumes(conn, run.id)
    drops = [
        InstitutionDrop(code, n, after.get(code, 0))
        for code, n in before.items()
        if n >= policy.volume_min_records
    ]
    verdict.institutions = sorted(
        (d for d in drops if d.drop > policy.volume_max_drop),
        key=lambda d: (-d.drop, -d.previous, d.inst_code),
    )
    return verdict


def stop_run(conn: sa.Connection, run: Any, verdict: GuardVerdict) -> None:
    """Record the stop on the run and alert the data office, in the caller's transaction."""
    conn.execute(
        sa.update(CheckRun)
        .where(CheckRun.id == run.id)
        .values(
            status=RunStatus.FAILED, error=verdict.message[:1000], guard=verdict.as_json(), finished_at=now()
        )
    )
    shown = "\n".join(
        f"- {d.inst_code}: {d.previous:,} → {d.current:,} (-{d.drop:.0%})"
        for d in verdict.institutions[:SHOWN_INSTITUTIONS]
    )
    body = (
        f"数据量骤降保护拦截了检查运行 {run.id}（{run.table_name}，检查日 {run.logical_date}），未更改任何待办。\n"
        f"Volume guard stopped check run {run.id} ({run.table_name}, check date {run.logical_date}); "
        f"no to-do was changed.\n\n{verdict.message}\n{shown}"
    )
    alert_data_office(
        conn,
        f"volume-guard:{run.id}",
        f"数据量骤降保护 · volume guard: {run.table_name} run {run.id}",
        body,
        now(),
    )


def require_data_office(conn: sa.Connection, staff_id: str) -> None:
    person = conn.execute(sa.select(Staff.position, Staff.active).where(Staff.staff_id == staff_id)).first()
    if person is None:
        raise NotFound(f"there is no member of staff {staff_id!r}", code="staff_not_found", staff=staff_id)
    if person.position != "data_office" or not person.active:
        raise NotAllowed(
            f"{staff_id} is not an active member of the data office: only they may do this",
            code="not_data_office",
        )


def accept_drop(conn: sa.Connection, run: Any, verdict: GuardVerdict, staff_id: str) -> None:
    """A member of the data office confirms the drop is real: recorded on the run (`audit_acceptance` writes
    the audit entry, last in the transaction, as the audit log's lock asks)."""
    require_data_office(conn, staff_id)
    conn.execute(
        sa.update(CheckRun)
        .where(CheckRun.id == run.id)
        .values(accepted_by=staff_id, accepted_at=now(), guard=verdict.as_json(), error=None)
    )


def audit_acceptance(
    conn: sa.Connection, run: Any, verdict: GuardVerdict, staff_id: str, client: str | None
) -> None:
    audit(
        conn,
        staff_id,
        "volume_drop_accepted",
        table_name=run.table_name,
        detail=f"run {run.id}: {verdict.message.split(';')[0].removeprefix('volume guard: ')}",
        client=client,
    )
