"""Evidence files on appeals: type by content, size limit, kept in the store, seen by the appellant and the
deciders only; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import sqlalchemy as sa

from remediation.errors import InvalidInput, InvalidState, NotAllowed, NotFound
from remediation.store.models import Staff
from remediation.store.workflow_models import AppealEvidence
from remediation.workflow.appeals import coordinate, file_appeal
from remediation.workflow.evidence import attach, fetch, files_of, sniff
from tests.storedata import staff_row
from tests.workflowbank import Bank, build_bank

PHONE = "MER-C1-PHONE-FORMAT"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.fixture
def bank(databases: Any) -> Bank:
    return build_bank(databases)


def test_kinds_are_judged_by_their_first_bytes() -> None:
    assert (sniff(PDF), sniff(PNG), sniff(JPEG)) == ("pdf", "png", "jpeg")
    assert sniff(b"GIF89a...") is None
    assert sniff(b"MZ\x90\x00 an exe named scan.pdf") is None
    assert sniff(b"") is None


def test_files_are_kept_and_seen_by_the_appellant_and_the_deciders_only(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    with bank.store.begin() as conn:  # an active head of another sub-branch: not a decider of 110100's to-dos
        conn.execute(sa.insert(Staff), [staff_row("S202", "郑支行", "110200", "sub_branch_head")])
    appeal_id = file_appeal(bank.store, bank.todo(2, PHONE)["id"], "M101", "境外号码")
    pdf_id = attach(bank.store, appeal_id, "M101", "C:\\扫描\\营业执照.pdf", PDF)
    png_id = attach(bank.store, appeal_id, "M101", "photo.png", PNG)

    with bank.store.connect() as conn:
        kept = conn.execute(sa.select(AppealEvidence).order_by(AppealEvidence.id)).all()
    assert [(r.filename, r.kind, r.size, r.uploaded_by) for r in kept] == [
        ("营业执照.pdf", "pdf", len(PDF), "M101"),
        ("photo.png", "png", len(PNG), "M101"),
    ]
    assert bytes(kept[0].content) == PDF and kept[0].sha256 == hashlib.sha256(PDF).hexdigest()

    for decider in ("M101", "S101", "B001", "D001"):  # appellant, coordinators up the tree, the data office
        got = fetch(bank.store, pdf_id, decider)
        assert (got.content, got.media_type, got.file.filename) == (PDF, "application/pdf", "营业执照.pdf")
        assert [f.id for f in files_of(bank.store, [appeal_id], decider)[appeal_id]] == [pdf_id, png_id]
    for outsider in ("M102", "M201", "S201", "S202", "nobody"):
        with pytest.raises(NotAllowed):
            fetch(bank.store, png_id, outsider)
        assert files_of(bank.store, [appeal_id], outsider) == {}
    with pytest.raises(NotFound):
        fetch(bank.store, png_id + 100, "M101")

    with pytest.raises(NotAllowed):  # only the appellant attaches
        attach(bank.store, appeal_id, "S101", "memo.pdf", PDF)
    coordinate(bank.store, appeal_id, "S101", "reject", "号码格式确实有误")
    with pytest.raises(InvalidState) as closed:  # a decided appeal's files stay as they were
        attach(bank.store, appeal_id, "M101", "late.pdf", PDF)
    assert closed.value.code == "evidence_closed"
    assert fetch(bank.store, pdf_id, "S101").content == PDF  # still there for the record


REFUSED = [
    ("empty.pdf", b"", "evidence_empty"),
    ("virus.pdf", b"MZ\x90\x00 not a pdf at all", "evidence_type"),
    ("notes.png", b"just some text", "evidence_type"),
    ("big.jpg", b"\xff\xd8\xff" + b"\x00" * 2000, "evidence_too_big"),
]


def test_refused_files_are_named_and_nothing_is_kept(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DQGOV_EVIDENCE_MAX_MB", "0.001")  # 1048 bytes
    appeal_id = file_appeal(bank.store, bank.todo(2, PHONE)["id"], "M101", "境外号码")
    for name, content, code in REFUSED:
        with pytest.raises(InvalidInput) as refused:
            attach(bank.store, appeal_id, "M101", name, content)
        assert (refused.value.code, refused.value.params["file"]) == (code, name)
        assert name in str(refused.value)
    with bank.store.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(AppealEvidence)) == 0
