"""Evidence files on appeals through the portal: attached when filing and later, refused by content with the
file named in the viewer's language, downloadable by the appellant and the deciders only, audited."""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request

import sqlalchemy as sa

from remediation.store.workflow_models import AppealEvidence, AuditEntry
from tests.portal.conftest import Client, Portal, Response

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def post_files(client: Client, path: str, fields: dict[str, str], files: list[tuple[str, bytes]]) -> Response:
    """A multipart POST as a browser sends it (the files under `files`, each with a misleading type)."""
    boundary = secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in {"csrf_token": client.csrf, **fields}.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for filename, content in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(
        client.base + path,
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with client.opener.open(req, timeout=60) as answer:
            return Response(answer.status, answer.read().decode(), dict(answer.headers.items()))
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read().decode(), dict(exc.headers.items()))


def test_evidence_is_uploaded_refused_downloaded_by_deciders_only_and_audited(portal: Portal) -> None:
    bank = portal.bank
    todo = bank.todo_id(6, "MER-E5-LICENCE-EXPIRED")
    m101 = portal.client()
    m101.login("M101")
    page = m101.get(f"/todos/{todo}")
    assert 'enctype="multipart/form-data"' in page.text and 'name="files"' in page.text

    # a file that is not what its name says files nothing, and is named in the viewer's language
    refused = post_files(
        m101, f"/todos/{todo}/appeal", {"reason": "执照已换新"}, [("执照.pdf", b"MZ\x90\x00 an exe")]
    )
    assert refused.status == 422
    assert "文件“执照.pdf”不是 PDF、JPG 或 PNG" in refused.text and "Traceback" not in refused.text
    m101.get("/?lang=en")
    empty = post_files(m101, f"/todos/{todo}/appeal", {"reason": "x"}, [("blank.png", b"")])
    assert empty.status == 422 and "File \u201cblank.png\u201d is empty" in empty.text
    m101.get("/?lang=zh")
    assert bank.todo_status(todo) == "open"  # no appeal was filed

    filed = post_files(
        m101, f"/todos/{todo}/appeal", {"reason": "执照已换新，系统未同步"}, [("执照.pdf", PDF)]
    )
    assert filed.status == 303
    page = m101.get(f"/todos/{todo}")
    [(evidence_id, appeal_id)] = _evidence(portal)
    assert "执照.pdf" in page.text and f"/evidence/{evidence_id}" in page.text
    added = post_files(m101, f"/todos/{todo}/appeals/{appeal_id}/evidence", {}, [("现场照片.jpg", JPEG)])
    assert added.status == 303 and "evidence_added" in added.headers["location"]
    assert len(_evidence(portal)) == 2

    got = m101.get(f"/evidence/{evidence_id}")
    assert (got.status, got.body, got.headers["content-type"]) == (200, PDF, "application/pdf")
    assert "attachment" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"

    s101 = portal.client()  # the coordinator sees the files on the appeals page and downloads them
    s101.login("S101")
    appeals = s101.get("/appeals")
    assert "执照.pdf" in appeals.text and "现场照片.jpg" in appeals.text
    assert s101.get(f"/evidence/{evidence_id}").body == PDF
    for outsider in ("M102", "M201"):
        other = portal.client()
        other.login(outsider)
        assert other.get(f"/evidence/{evidence_id}").status == 404
    assert m101.get("/evidence/abc").status in (400, 404)
    assert m101.get(f"/evidence/{evidence_id + 99}").status == 404
    for path in (f"/todos/999999/appeals/{appeal_id}/evidence", f"/todos/{todo}/appeals/999999/evidence"):
        assert post_files(m101, path, {}, [("a.pdf", PDF)]).status == 404

    with bank.store.connect() as conn:
        trail = conn.execute(
            sa.select(AuditEntry.staff_id, AuditEntry.action)
            .where(AuditEntry.action.like("evidence_%"))
            .order_by(AuditEntry.id)
        ).all()
    assert trail == [
        ("M101", "evidence_uploaded"),
        ("M101", "evidence_uploaded"),
        ("M101", "evidence_downloaded"),
        ("S101", "evidence_downloaded"),
    ]
    d001 = portal.client()  # the audit log tells it in words, with the file's name
    d001.login("D001")
    log = d001.get("/office/audit")
    assert "下载申诉佐证文件" in log.text and "执照.pdf" in log.text


def _evidence(portal: Portal) -> list[tuple[int, int]]:
    with portal.bank.store.connect() as conn:
        return [
            (r.id, r.appeal_id)
            for r in conn.execute(
                sa.select(AppealEvidence.id, AppealEvidence.appeal_id).order_by(AppealEvidence.id)
            )
        ]
