"""The portal's pages over HTTP: languages, the message catalogue, local assets, masking and its audit."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.i18n import MESSAGES
from remediation.checks.verification import recheck_record
from remediation.clock import now
from remediation.store.models import Institution, Todo
from remediation.store.workflow_models import AuditEntry, InboxMessage
from tests.dbenv import source_engine
from tests.factories import CHECK_DATE, add_row, merchant_row, update_record, without_primary_key
from tests.portal.conftest import BAD_ID, BAD_PHONE, Bank, Client, Portal, key, make_app, serve

TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates"
PAGES = {
    "M101": ["/todos", "/todos?status=all&sort=-due&severity=low", "/inbox"],
    "S101": ["/dashboard", "/todos", "/summary", "/appeals"],
    "D001": [
        "/dashboard",
        "/dashboard?inst=110200",
        "/todos?due=soon",
        "/summary",
        "/appeals",
        "/office/campaigns",
        "/office/rules",
        "/office/runs",
        "/office/runs?rechecks=true",
        "/office/exports",
        "/office/audit",
        "/office/calendar",
        "/office/calendar?year=2027&day=2027-02-08",
    ],
}


def test_every_page_renders_in_chinese_and_in_english(portal: Portal) -> None:
    for staff_id, paths in PAGES.items():
        client = portal.client()
        client.login(staff_id)
        for path in paths:
            zh = client.get(path)
            assert zh.status == 200, path
            assert 'lang="zh-CN"' in zh.text and "数据质量治理平台" in zh.text
            joiner = "&" if "?" in path else "?"
            en = client.get(path + joiner + "lang=en")
            assert en.status == 200 and 'lang="en"' in en.text and "Data-quality governance" in en.text, path
            assert "中文" in en.text
            client.get(path + joiner + "lang=zh")


def test_the_language_is_remembered_and_an_unknown_one_refused(portal: Portal) -> None:
    client = portal.client()
    client.login("D001")
    client.get("/dashboard?lang=en")
    assert "Stock completion rate" in client.get("/dashboard").text
    refused = client.get("/dashboard?lang=fr")
    assert refused.status == 422 and "set-cookie" not in refused.headers
    assert "Stock completion rate" in client.get("/dashboard").text  # the choice before stands


def test_every_answer_carries_the_frame_s_headers(portal: Portal) -> None:
    """Pages, error pages and static files: the security headers, the server's time; pages are not stored by
    the browser, static files may be."""
    client = portal.client()
    client.login("D001")
    for path, status in (
        ("/dashboard", 200),
        ("/dashboard?lang=fr", 422),
        ("/nowhere", 404),
        ("/static/app.css", 200),
    ):
        answer = client.get(path)
        assert answer.status == status, path
        headers = answer.headers
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert (headers["x-frame-options"], headers["x-content-type-options"]) == ("DENY", "nosniff"), path
        assert headers["referrer-policy"] == "same-origin", path
        assert re.fullmatch(r"app;dur=\d+\.\d", headers["server-timing"]), path
        assert (headers.get("cache-control") == "no-store") == (not path.startswith("/static/")), path


def test_the_menu_counts_the_viewers_unread_messages_until_they_are_read(any_bank: Bank) -> None:
    """The count beside 消息 is read with the session (one statement for both on every page): only the
    viewer's own unread messages, and none once they are marked read; on both stores."""
    with any_bank.store.begin() as conn:
        for staff_id, subject in (("M101", "第一条"), ("M101", "第二条"), ("M102", "别人的")):
            conn.execute(
                sa.insert(InboxMessage).values(staff_id=staff_id, subject=subject, body="…", created_at=now())
            )
    with serve(make_app(any_bank)) as url:
        client = Client(url)
        client.login("M101")
        assert '<a href="/inbox">消息 (2)</a>' in client.get("/todos").text
        assert client.post("/inbox/read").status == 303
        page = client.get("/todos").text
        assert '<a href="/inbox">消息</a>' in page and "消息 (" not in page
        other = Client(url)
        other.login("M102")
        assert '<a href="/inbox">消息 (1)</a>' in other.get("/todos").text


def test_every_label_in_the_templates_is_in_the_catalogue_in_both_languages() -> None:
    used: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_]+\.[a-z0-9_]+)'", template.read_text(encoding="utf-8")))
    dynamic = {k for k in used if k.endswith("_")}  # t('todo.field_error_' ~ code)
    problems = {f"audit.problem_{p}" for p in ("changed", "missing", "inserted", "unlinked")}
    used = (used - dynamic) | {"todo.field_error_date", "todo.field_error_number"} | problems
    assert used and sorted(used - set(MESSAGES)) == []
    assert all(zh and en for zh, en in MESSAGES.values())


def test_assets_are_served_by_the_portal_itself(portal: Portal) -> None:
    client = portal.client()
    for path in (
        "/static/app.css",
        "/static/app.js",
        "/static/vendor/echarts.min.js",
        "/static/datadocs.css",
    ):
        assert client.get(path).status == 200, path
    client.login("D001")
    page = client.get("/dashboard")
    assert "/static/vendor/echarts.min.js" in page.text
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    for template in TEMPLATES.glob("*.html"):
        assert "http" not in template.read_text(encoding="utf-8").replace("http-equiv", ""), template.name


def test_masked_everywhere_except_the_owners_edit_form_which_is_audited(portal: Portal) -> None:
    bank = portal.bank
    phone_todo = bank.todo_id(1, "MER-C1-PHONE-FORMAT")
    id_todo = bank.todo_id(2, "MER-P3-LEGAL-REP-ID-VALID")
    head = portal.client()
    head.login("S101")
    for path in ("/todos?status=all", f"/todos/{phone_todo}", f"/todos/{id_todo}"):
        text = head.get(path).text
        assert BAD_PHONE not in text and BAD_ID not in text, path
    assert "123****8901" in head.get(f"/todos/{phone_todo}").text
    assert "360***********1230" in head.get(f"/todos/{id_todo}").text
    owner = portal.client()
    owner.login("M101")
    assert BAD_PHONE not in owner.get("/todos").text
    form = owner.get(f"/todos/{id_todo}").text
    assert f'value="{BAD_ID}"' in form  # the owner's own edit form
    assert 'name="field_' not in head.get(f"/todos/{id_todo}").text  # no edit form for the head
    with bank.store.connect() as conn:
        views = conn.execute(
            sa.select(AuditEntry.staff_id, AuditEntry.record_key).where(AuditEntry.action == "unmasked_view")
        ).all()
    assert [tuple(v) for v in views] == [("M101", key(2))]


def test_a_key_two_source_rows_share_shows_neither_row_and_takes_no_correction(bank: Bank) -> None:
    """王经理's row (M102) gains 张经理's merchant key (M101): 张经理's form must show and change neither."""
    source = sa.create_engine(bank.source_url)
    without_primary_key(source)
    add_row(
        source,
        "merchant",
        merchant_row(1, mgr_staff_id="M102", legal_rep_name="欧阳娜娜", contact_phone="13900139000"),
    )
    todo = bank.todo_id(1, "MER-C1-PHONE-FORMAT")
    with serve(make_app(bank)) as url:
        owner = Client(url)
        owner.login("M101")
        page = owner.get(f"/todos/{todo}")
        assert page.status == 200 and 'id="ambiguous-key"' in page.text
        assert f"两条记录使用同一主键 {key(1)}（源系统中共 2 条）" in page.text
        assert 'name="field_' not in page.text and "139****9000" not in page.text and "欧阳*" not in page.text
        assert "Two source rows share key" in owner.get(f"/todos/{todo}?lang=en").text
        refused = owner.post(f"/todos/{todo}/correct", {"field_contact_phone": "13800138000"})
        assert refused.status == 409 and "Two source rows share key" in refused.text
    with source.connect() as conn:
        phones = conn.scalars(sa.text("SELECT contact_phone FROM merchant WHERE mer_id = :k"), {"k": key(1)})
        assert sorted(phones) == [BAD_PHONE, "13900139000"]
    source.dispose()
    with bank.store.connect() as conn:
        actions = conn.scalars(sa.select(AuditEntry.action).where(AuditEntry.staff_id == "M101")).all()
    assert "unmasked_view" not in actions and actions[-1] == "correction_refused"


def test_exports_are_masked_and_audited(portal: Portal) -> None:
    office = portal.client()
    office.login("D001")
    csv_text = office.get("/office/exports/findings.csv?all=true").text
    assert csv_text.startswith("\ufefftable,record_key,rule_id,clause")
    assert key(1) in csv_text and BAD_PHONE not in csv_text and "123****8901" in csv_text
    workbook = office.get("/summary.xlsx")
    assert workbook.status == 200
    book = load_workbook(io.BytesIO(workbook.body))
    assert book["支行"]["B1"].value == "机构代码"
    codes = {row[1] for name in ("分行", "支行") for row in book[name].iter_rows(min_row=2, values_only=True)}
    assert codes >= {"110000", "110100", "110200"}
    with portal.bank.store.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "export")) == 2


def test_the_audit_page_says_when_the_log_was_tampered_with(portal: Portal) -> None:
    office = portal.client()
    office.login("D001")
    page = office.get("/office/audit")
    assert 'id="audit-intact"' in page.text and 'id="audit-broken"' not in page.text
    with portal.bank.store.begin() as conn:  # an attacker with rights on the database
        conn.exec_driver_sql("DROP TRIGGER dq_audit_no_update")
        conn.exec_driver_sql("UPDATE dq_audit SET detail = 'wrong password (1 in a row)' WHERE id = 3")
    zh = office.get("/office/audit")
    assert "审计日志已被篡改：哈希链在第 3 条处断开。" in zh.text and "该条在写入后被修改过。" in zh.text
    en = office.get("/office/audit?lang=en")
    assert "its hash chain breaks at entry 3." in en.text and "changed after it was written" in en.text
    assert 'id="audit-intact"' not in en.text


def test_a_micro_merchants_name_is_masked_for_the_head_and_in_clear_only_on_the_owners_form(
    portal: Portal,
) -> None:
    bank = portal.bank
    name = "欧阳小明 "  # padded: a G2 to-do on the registered name, which for a micro merchant is a person's
    source = sa.create_engine(bank.source_url)
    update_record(
        source, "merchant", key(3), mer_type="micro", uscc=None, licence_end=None, mer_reg_name=name
    )
    source.dispose()
    recheck_record(source_engine(bank.source_url), bank.store, "merchant", key(3), CHECK_DATE)
    todo = bank.todo_id(3, "MER-E1-REG-NAME-TEXT")
    head = portal.client()
    head.login("S101")
    for page in (head.get(f"/todos/{todo}").text, head.get("/todos?key=" + key(3)).text):
        assert "欧阳小明" not in page and "欧*" in page
    owner = portal.client()
    owner.login("M101")
    assert f'value="{name}"' in owner.get(f"/todos/{todo}").text  # the owner's own edit form


def test_the_portal_exports_hold_no_live_formula(portal: Portal) -> None:
    evil = '=HYPERLINK("http://x","点击")'
    with portal.bank.store.begin() as conn:
        conn.execute(sa.update(Institution).where(Institution.inst_code == "110100").values(inst_name=evil))
        conn.execute(sa.update(Todo).where(Todo.record_key == key(1)).values(record_key="@SUM(A1)"))
    office = portal.client()
    office.login("D001")
    rows = list(
        csv.DictReader(io.StringIO(office.get("/office/exports/findings.csv?all=true").text.lstrip("\ufeff")))
    )
    assert "'@SUM(A1)" in {r["record_key"] for r in rows}
    assert not any(v.startswith(("=", "@", "+")) for r in rows for v in r.values())
    book = load_workbook(io.BytesIO(office.get("/summary.xlsx").body))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    shown = [c.data_type for c in cells if c.value == "'" + evil]  # the sub-branch and its managers' rows
    assert shown and set(shown) == {"s"}


def test_a_correction_is_refused_field_by_field_then_accepted_and_verified(portal: Portal) -> None:
    bank = portal.bank
    todo = bank.todo_id(1, "MER-C1-PHONE-FORMAT")
    client = portal.client()
    client.login("M101")
    client.get(f"/todos/{todo}")
    refused = client.post(f"/todos/{todo}/correct", {"field_contact_phone": "1380013800"})
    assert refused.status == 422
    assert 'aria-invalid="true"' in refused.text and "MER-C1-PHONE-FORMAT" in refused.text
    assert bank.source_value(1, "contact_phone") == BAD_PHONE  # nothing written
    accepted = client.post(f"/todos/{todo}/correct", {"field_contact_phone": "13800138000"})
    assert accepted.status == 303 and accepted.headers["location"] == f"/todos/{todo}?msg=verified"
    assert bank.source_value(1, "contact_phone") == "13800138000"
    assert bank.todo_status(todo) == "fixed"
    page = client.get(accepted.headers["location"]).text
    assert "已整改（已验证）" in page and "在平台更正并写回" in page


def test_the_portal_reads_writes_and_rechecks_the_source_through_one_engine(portal: Portal) -> None:
    """Record pages, corrections (write-back and re-check) share the portal's one source engine: none is
    opened per request."""
    source_db = sa.make_url(portal.bank.source_url).database
    engines: set[int] = set()

    def seen(conn: sa.Connection) -> None:
        if conn.engine.url.database == source_db:
            engines.add(id(conn.engine))

    sa.event.listen(sa.Engine, "engine_connect", seen)
    try:
        client = portal.client()
        client.login("M101")
        for seq, rule in ((1, "MER-C1-PHONE-FORMAT"), (7, "MER-C1-PHONE-FORMAT")):
            todo = portal.bank.todo_id(seq, rule)
            client.get(f"/todos/{todo}")
            assert client.post(f"/todos/{todo}/correct", {"field_contact_phone": "13800138000"}).status == 303
    finally:
        sa.event.remove(sa.Engine, "engine_connect", seen)
    cfg = portal.app.state.portal
    assert engines == {id(cfg.source())}
    assert cfg.writeback().source is cfg.source()


def test_already_fixed_and_appeal_actions(portal: Portal) -> None:
    bank = portal.bank
    client = portal.client()
    client.login("M101")
    claimed = bank.todo_id(7, "MER-C1-PHONE-FORMAT")
    client.get(f"/todos/{claimed}")
    assert client.post(f"/todos/{claimed}/claim", {"note": "已在收单系统改好"}).status == 303
    assert bank.todo_status(claimed) == "pending_verification"
    with bank.store.connect() as conn:
        assert conn.execute(
            sa.select(AuditEntry.staff_id, AuditEntry.detail).where(AuditEntry.action == "claim_fixed")
        ).all() == [("M101", f"to-do {claimed}")]
    appealed = bank.todo_id(6, "MER-E5-LICENCE-EXPIRED")
    assert client.post(f"/todos/{appealed}/appeal", {"reason": "执照已换新，系统未同步"}).status == 303
    assert "执照已换新" in client.get(f"/todos/{appealed}").text
    again = client.post(f"/todos/{appealed}/appeal", {"reason": "再次申诉"})
    # the form is gone; a replayed post is refused, in the viewer's language
    assert again.status == 409 and "在处理中" in again.text and "pending" not in again.text


def test_the_inbox_shows_a_persons_messages_only_and_marks_them_read(portal: Portal) -> None:
    import datetime as dt

    from remediation.store.workflow_models import InboxMessage

    with portal.bank.store.begin() as conn:
        conn.execute(
            sa.insert(InboxMessage),
            [
                {
                    "staff_id": s,
                    "subject": f"{s} 的数据质量待办提醒",
                    "body": "新增 2 条",
                    "created_at": dt.datetime.now(dt.UTC),
                }
                for s in ("M101", "M102")
            ],
        )
    client = portal.client()
    client.login("M101")
    page = client.get("/inbox").text
    assert "M101 的数据质量待办提醒" in page and "M102" not in page and "消息 (1)" in page
    assert client.post("/inbox/read").status == 303
    assert "消息 (1)" not in client.get("/inbox").text


def test_outbox_write_back_queues_the_correction_for_the_source_system(bank: Bank) -> None:
    from remediation.checks.writeback import CorrectionsOutbox
    from remediation.store.engines import create_engine

    todo = bank.todo_id(1, "MER-C1-PHONE-FORMAT")
    with serve(make_app(bank, writeback=CorrectionsOutbox(create_engine(bank.source_url, "source")))) as url:
        client = Client(url)
        client.login("M101")
        client.get(f"/todos/{todo}")
        answer = client.post(f"/todos/{todo}/correct", {"field_contact_phone": "13800138000"})
        assert answer.headers["location"] == f"/todos/{todo}?msg=queued"
        assert "待下一次检查验证" in client.get(answer.headers["location"]).text
    assert bank.todo_status(todo) == "pending_verification"
    assert bank.source_value(1, "contact_phone") == BAD_PHONE


def test_create_app_without_arguments_reads_the_settings(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    from portal.app import create_app

    monkeypatch.setenv("DQGOV_STORE_URL", str(bank.store.url))
    monkeypatch.setenv("DQGOV_SOURCE_URL", bank.source_url)
    monkeypatch.setenv("DQGOV_HOME", str(bank.folder))
    with serve(create_app()) as url:
        client = Client(url)
        assert client.get("/healthz").status == 200
        assert client.login("D001").status == 303
        assert client.get("/dashboard").status == 200


def test_the_appellant_withdraws_and_escalates_from_the_record_page(portal: Portal) -> None:
    from remediation.reporting.appeal_views import appeal_history
    from remediation.workflow.appeals import coordinate

    bank = portal.bank
    client = portal.client()
    client.login("M101")
    todo = bank.todo_id(6, "MER-E5-LICENCE-EXPIRED")
    assert client.post(f"/todos/{todo}/appeal", {"reason": "执照已换新，系统未同步"}).status == 303
    first = appeal_history(bank.store, todo)[0]
    assert f"/appeals/{first.id}/withdraw" in client.get(f"/todos/{todo}").text
    withdrawn = client.post(f"/todos/{todo}/appeals/{first.id}/withdraw")
    assert withdrawn.status == 303 and "申诉已撤回" in client.get(withdrawn.headers["location"]).text
    assert appeal_history(bank.store, todo)[0].status == "withdrawn"
    again = client.post(f"/todos/{todo}/appeals/{first.id}/withdraw")  # refused in the viewer's language
    assert (
        again.status == 409 and f"申诉 {first.id} 已不在处理中" in again.text and "pending" not in again.text
    )

    assert client.post(f"/todos/{todo}/appeal", {"reason": "已提供新执照照片"}).status == 303
    second = next(a for a in appeal_history(bank.store, todo) if a.status == "pending")
    coordinate(bank.store, second.id, "S101", "reject", "照片不清晰")
    assert f"/appeals/{second.id}/escalate" in client.get(f"/todos/{todo}").text
    assert client.post(f"/todos/{todo}/appeals/{second.id}/escalate").status == 303
    escalated = next(a for a in appeal_history(bank.store, todo) if a.id == second.id)
    assert (escalated.stage, escalated.status) == ("arbitration", "pending")

    other = bank.todo_id(7, "MER-C1-PHONE-FORMAT")  # an appeal id under another to-do's URL is not found
    assert client.post(f"/todos/{other}/appeals/{second.id}/withdraw").status == 404
    assert client.post(f"/todos/{todo}/appeals/{second.id}/delete").status == 404
    assert client.post(f"/todos/{todo}/appeals/{second.id}/withdraw", csrf=False).status == 403
    with bank.store.connect() as conn:
        entries = conn.execute(
            sa.select(AuditEntry.action, AuditEntry.client)
            .where(AuditEntry.staff_id == "M101", AuditEntry.action.like("appeal_%"))
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(e) for e in entries] == [
        ("appeal_filed", "127.0.0.1"),
        ("appeal_withdraw", "127.0.0.1"),
        ("appeal_filed", "127.0.0.1"),
        ("appeal_escalate", "127.0.0.1"),
    ]
