"""The data office's working-day calendar page over HTTP: changes move due dates, bad input answers in the
reader's language, only the data office may use it, and the dashboard warns about uncovered years."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from remediation.calendar_file import read_calendar
from remediation.store.models import Todo, TodoEvent
from remediation.store.workflow_models import AuditEntry
from tests.portal.conftest import Portal

PHONE = "MER-C1-PHONE-FORMAT"  # low: due 20 working days after the check of Fri 20 November 2026
BAD_ID_RULE = "MER-P3-LEGAL-REP-ID-VALID"  # high: due 5 working days after it


def due(portal: Portal, todo_id: int) -> dt.date:
    with portal.bank.store.connect() as conn:
        return conn.execute(sa.select(Todo.due_date).where(Todo.id == todo_id)).scalar_one()


def test_marking_a_holiday_moves_the_due_dates_after_it_only(portal: Portal) -> None:
    phone, bad_id = portal.bank.todo_id(1, PHONE), portal.bank.todo_id(2, BAD_ID_RULE)
    assert (due(portal, phone), due(portal, bad_id)) == (dt.date(2026, 12, 18), dt.date(2026, 11, 27))
    office = portal.client()
    office.login("D001")
    page = office.get("/office/calendar?year=2026&day=2026-12-01")
    assert page.status == 200 and 'id="edit"' in page.text and "2026-12-01 周二 · 工作日" in page.text
    done = office.post(
        "/office/calendar/day",
        {"day": "2026-12-01", "choice": "holiday", "note": "行庆日", "notice": "行发〔2026〕9号"},
    )
    assert done.status == 303 and "msg=calendar_saved" in done.headers["location"]
    shown = office.get(done.headers["location"])
    assert "工作日历已保存" in shown.text and "项未完成待办的到期日已按新日历重新计算" in shown.text
    assert "2026-12-01 周二 · 休息日 · 本行日历: 行庆日 (行发〔2026〕9号)" in shown.text
    assert (due(portal, phone), due(portal, bad_id)) == (dt.date(2026, 12, 21), dt.date(2026, 11, 27))
    with portal.bank.store.connect() as conn:
        event = conn.execute(
            sa.select(TodoEvent.actor, TodoEvent.detail).where(
                TodoEvent.todo_id == phone, TodoEvent.event == "due_date_changed"
            )
        ).one()
        actions = list(conn.scalars(sa.select(AuditEntry.action).where(AuditEntry.staff_id == "D001")))
    assert tuple(event) == (
        "D001",
        "2026-12-18 -> 2026-12-21; calendar 2026-12-01 holiday: 行庆日 (行发〔2026〕9号)",
    )
    assert "calendar_set" in actions
    assert dt.date(2026, 12, 1) in read_calendar(portal.bank.folder / "bank_calendar.yml").days
    record = office.get(f"/todos/{phone}")
    assert (
        '<span id="todo-due">2026-12-21</span>' in record.text and "工作日历调整，到期日变更" in record.text
    )


def test_bad_input_answers_422_in_the_readers_language_and_changes_nothing(portal: Portal) -> None:
    office = portal.client()
    office.login("D001")
    office.get("/office/calendar")
    for form, zh, en in [
        (
            {"day": "2026-12-32", "choice": "holiday", "note": "x"},
            "日期格式应为 YYYY-MM-DD",
            "Enter the day as",
        ),
        (
            {"day": "2026-12-01", "choice": "off", "note": "x"},
            "请选择：放假、调休上班或恢复默认",
            "Choose a holiday",
        ),
        ({"day": "2026-12-01", "choice": "holiday", "note": "  "}, "请填写说明", "Write a note"),
        (
            {"day": "2026-12-01", "choice": "holiday", "note": "x" * 201},
            "说明最多 200 字",
            "at most 200 characters",
        ),
    ]:
        answer = office.post("/office/calendar/day", form)
        assert answer.status == 422 and zh in answer.text and 'role="alert"' in answer.text, form
        office.get("/office/calendar?lang=en")
        assert en in office.post("/office/calendar/day", form).text
        office.get("/office/calendar?lang=zh")
    assert office.get("/office/calendar?year=abc").status == 404
    assert office.get("/office/calendar?year=2026&day=2027-01-01").status == 404
    assert not (portal.bank.folder / "bank_calendar.yml").exists()


def test_only_the_data_office_sees_the_calendar(portal: Portal) -> None:
    for staff_id in ("M101", "S101"):
        client = portal.client()
        client.login(staff_id)
        assert client.get("/office/calendar").status == 403
        answer = client.post("/office/calendar/day", {"day": "2026-12-01", "choice": "holiday", "note": "x"})
        assert answer.status == 403
    assert not (portal.bank.folder / "bank_calendar.yml").exists()


def test_the_office_dashboard_warns_until_the_coming_year_is_covered(portal: Portal) -> None:
    warning = "未来 90 天将进入 2027 年，但法定日历和本行日历都未覆盖该年"
    head = portal.client()
    head.login("S101")
    assert warning not in head.get("/dashboard").text  # the warning is for the data office
    office = portal.client()
    office.login("D001")
    dashboard = office.get("/dashboard")
    assert warning in dashboard.text and 'href="/office/calendar?year=2027"' in dashboard.text
    assert "The next 90 days reach into 2027" in office.get("/dashboard?lang=en").text
    office.get("/office/calendar?year=2027&lang=zh")
    assert office.post("/office/calendar/cover", {"year": "2027", "covered": "yes"}).status == 303
    assert warning not in office.get("/dashboard").text
    assert "本行日历已录入 2027 年全部放假安排" in office.get("/office/calendar?year=2027").text
