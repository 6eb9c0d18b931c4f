"""Evidence files on appeals (申诉佐证材料): PDF, JPG and PNG files the appellant attaches to an appeal,
kept in the store (`dq_appeal_evidence`).

- **Type by content**: a file is a PDF, JPEG or PNG when its first bytes say so (its magic number), never
  because of its name or the type the browser sent. Anything else is refused, naming the file.
- **Size**: an empty file, or one larger than `DQGOV_EVIDENCE_MAX_MB`, is refused, naming the file.
- **Who sees them**: the appellant, and the deciders: an active sub-branch or branch head of the to-do's
  institution or of one above it (coordination), and the data office (arbitration). Nobody else.
- **Audit**: the callers (portal, CLI) append `evidence_uploaded` and `evidence_downloaded` entries.

Files are attached while the appeal is pending; a decided appeal's files stay as they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from remediation import settings
from remediation.clock import now
from remediation.errors import InvalidInput, InvalidState, NotAllowed, NotFound
from remediation.store.models import Staff, Todo
from remediation.store.workflow_models import Appeal, AppealEvidence
from remediation.workflow.actions import Store, ancestors, reading, transaction
from remediation.workflow.appeals import ARBITER_POSITIONS, COORDINATOR_POSITIONS, AppealStatus

MB = 1024 * 1024
MAX_FILES = 10  # per appeal
MAX_NAME = 200

# what each kind of file starts with, and how it is served
MAGIC: tuple[tuple[str, bytes], ...] = (
    ("pdf", b"%PDF-"),
    ("png", b"\x89PNG\r\n\x1a\n"),
    ("jpeg", b"\xff\xd8\xff"),
)
MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg"}


@dataclass(frozen=True)
class EvidenceFile:
    id: int
    appeal_id: int
    filename: str
    kind: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime


@dataclass(frozen=True)
class Download:
    file: EvidenceFile
    content: bytes

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.file.kind]


def sniff(content: bytes) -> str | None:
    """The kind of file its first bytes say it is (pdf, png, jpeg), or None."""
    for kind, magic in MAGIC:
        if content.startswith(magic):
            return kind
    return None


def max_bytes() -> int:
    return int(settings.number_of("DQGOV_EVIDENCE_MAX_MB") * MB)


def clean_name(filename: str | None) -> str:
    """The file's own name (no folders), without control characters, at most 200 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:MAX_NAME] or "file"


def check_file(filename: str, content: bytes, limit: int | None = None) -> str:
    """The file's kind; InvalidInput naming the file when it is empty, too big or not a PDF/JPG/PNG."""
    limit = max_bytes() if limit is None else limit
    if not content:
        raise InvalidInput(f"{filename}: the file is empty", code="evidence_empty", file=filename)
    if len(content) > limit:
        mb = f"{limit / MB:g}"
        raise InvalidInput(
            f"{filename}: the file is larger than {mb} MB", code="evidence_too_big", file=filename, mb=mb
        )
    kind = sniff(content)
    if kind is None:
        raise InvalidInput(
            f"{filename}: the file is not a PDF, JPG or PNG (by its content)",
            code="evidence_type",
            file=filename,
        )
    return kind


def attach(store: Store, appeal_id: int, staff_id: str, filename: str | None, content: bytes) -> int:
    """Keep one file as evidence of a pending appeal; only its appellant may. Returns the file's id."""
    name = clean_name(filename)
    kind = check_file(name, content)
    with transaction(store) as conn:
        appeal = conn.execute(sa.select(Appeal).where(Appeal.id == appeal_id)).first()
        if appeal is None:
            raise NotFound(f"there is no appeal {appeal_id}", code="appeal_not_found", appeal=appeal_id)
        if appeal.appellant != staff_id:
            raise NotAllowed(
                f"only the appellant may attach files to appeal {appeal_id}",
                code="evidence_not_appellant",
                appeal=appeal_id,
            )
        if appeal.status != AppealStatus.PENDING:
            raise InvalidState(
                f"appeal {appeal_id} is {appeal.status}: files are attached while it is pending",
                code="evidence_closed",
            )
        count = conn.scalar(
            sa.select(sa.func.count())
            .select_from(AppealEvidence)
            .where(AppealEvidence.appeal_id == appeal_id)
        )
        if (count or 0) >= MAX_FILES:
            raise InvalidInput(
                f"{name}: appeal {appeal_id} has {MAX_FILES} files already",
                code="evidence_too_many",
                file=name,
                n=MAX_FILES,
            )
        new_id = conn.execute(
            sa.insert(AppealEvidence).values(
                appeal_id=appeal_id,
                filename=name,
                kind=kind,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                content=content,
                uploaded_by=staff_id,
                uploaded_at=now(),
            )
        ).inserted_primary_key
        assert new_id is not None
        return int(new_id[0])


def may_see(conn: sa.Connection, appeal_id: int, staff_id: str) -> bool:
    """The appellant, the data office, and an active head of the to-do's institution or one above it."""
    row = conn.execute(
        sa.select(Appeal.appellant, Todo.inst_code)
        .join(Todo, Todo.id == Appeal.todo_id)
        .where(Appeal.id == appeal_id)
    ).first()
    if row is None:
        return False
    if row.appellant == staff_id:
        return True
    person = conn.execute(sa.select(Staff).where(Staff.staff_id == staff_id)).first()
    if person is None or not person.active:
        return False
    if person.position in ARBITER_POSITIONS:
        return True
    if person.position in COORDINATOR_POSITIONS and row.inst_code is not None:
        return person.inst_code in ancestors(conn, row.inst_code)
    return False


_COLUMNS = (
    AppealEvidence.id,
    AppealEvidence.appeal_id,
    AppealEvidence.filename,
    AppealEvidence.kind,
    AppealEvidence.size,
    AppealEvidence.sha256,
    AppealEvidence.uploaded_by,
    AppealEvidence.uploaded_at,
)


def files_of(store: Store, appeal_ids: list[int], staff_id: str) -> dict[int, list[EvidenceFile]]:
    """The files of those appeals this person may see, by appeal, oldest first (no content)."""
    if not appeal_ids:
        return {}
    with reading(store) as conn:
        visible = [a for a in appeal_ids if may_see(conn, a, staff_id)]
        out: dict[int, list[EvidenceFile]] = {}
        if not visible:
            return out
        rows = conn.execute(
            sa.select(*_COLUMNS).where(AppealEvidence.appeal_id.in_(visible)).order_by(AppealEvidence.id)
        )
        for r in rows:
            out.setdefault(r.appeal_id, []).append(EvidenceFile(**r._asdict()))
        return out


def fetch(store: Store, evidence_id: int, staff_id: str) -> Download:
    """One file with its content; NotFound when there is none, NotAllowed when it is not this person's
    to see."""
    with reading(store) as conn:
        row = conn.execute(
            sa.select(*_COLUMNS, AppealEvidence.content).where(AppealEvidence.id == evidence_id)
        ).first()
        if row is None:
            raise NotFound(
                f"there is no evidence file {evidence_id}", code="evidence_not_found", evidence=evidence_id
            )
        if not may_see(conn, row.appeal_id, staff_id):
            raise NotAllowed(
                f"evidence file {evidence_id} is not {staff_id}'s to see",
                code="evidence_not_yours",
                evidence=evidence_id,
            )
        values = row._asdict()
        content = values.pop("content")
        return Download(EvidenceFile(**values), bytes(content))
