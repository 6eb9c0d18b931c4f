"""Refusals the portal shows are in the viewer's language: each path driven for real through the server
(a claim twice, a closed to-do, someone else's to-do, an unknown id, run now against an Airflow that is not
there, a run still validating, Data Docs of a record type without rules, a refused workbook), the Chinese
page with the Chinese message and no English sentence, the English page with the English one. An uncoded
error (a broken calendar file) still says its kind in Chinese, its English folded away as technical detail."""

from __future__ import annotations

import html
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable

import sqlalchemy as sa
from starlette.requests import Request

from portal.deps import error_message
from remediation.errors import (
    DqgovError,
    InvalidInput,
    InvalidState,
    NotAllowed,
    NotFound,
    SourceError,
    StoreError,
)
from remediation.orchestration.runnow import AirflowApi, Trigger, rest_runner
from remediation.store.models import CheckRun, Todo
from tests.checkbank import PHONE
from tests.portal.conftest import Bank, Client, Portal, Response, make_app, serve
from tests.servers import free_port

# four or more Latin words in a row: an English sentence (or the start of one)
SENTENCE = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,:;()]+[A-Za-z][A-Za-z'’-]*){3,}")


def main_text(page: str) -> str:
    """The page's own part (no header or menu), tags and folded technical details removed."""
    body = page.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    body = re.sub(r"<details\b.*?</details>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def english_sentences(page: str) -> list[str]:
    return SENTENCE.findall(main_text(page))


def both(client: Client, send: Callable[[str], Response], zh: str, en: str, status: int) -> None:
    """`send(lang)` answers with `status`; in Chinese it says `zh` and no English sentence, in English `en`."""
    chinese = send("zh")
    assert chinese.status == status, chinese.text[:2000]
    assert zh in main_text(chinese.text), main_text(chinese.text)
    assert not english_sentences(chinese.text), english_sentences(chinese.text)
    english = send("en")
    assert english.status == status and en in main_text(english.text), main_text(english.text)


def test_an_account_managers_refusals_are_in_their_language(portal: Portal) -> None:
    bank = portal.bank
    manager = portal.client()
    manager.login("M101")
    claimed, closed, theirs = bank.todo_id(1, PHONE), bank.todo_id(7, PHONE), bank.todo_id(4, PHONE)
    assert manager.post(f"/todos/{claimed}/claim").status == 303
    both(
        manager,
        lambda lang: manager.post(f"/todos/{claimed}/claim?lang={lang}"),
        f"待办 {claimed} 已标记为在源系统修复，正在等待检查验证。",
        f"To-do {claimed} is already waiting for a check to verify the fix.",
        409,
    )
    with bank.store.begin() as conn:
        conn.execute(sa.update(Todo).where(Todo.id == closed).values(status="fixed"))
    both(
        manager,
        lambda lang: manager.post(f"/todos/{closed}/claim?lang={lang}"),
        f"待办 {closed} 已不是待整改状态",
        f"To-do {closed} is not open",
        409,
    )
    both(
        manager,
        lambda lang: manager.post(
            f"/todos/{closed}/correct?lang={lang}", {"field_contact_phone": "13800138000"}
        ),
        f"待办 {closed} 已关闭，无需再更正。",
        f"To-do {closed} is closed: there is nothing left to correct.",
        409,
    )
    for path in (f"/todos/{theirs}/claim", "/todos/2147483000/claim"):  # someone else's; no such to-do

        def claim(lang: str, path: str = path) -> Response:
            return manager.post(f"{path}?lang={lang}")

        both(manager, claim, "没有这个页面", "There is no such page", 404)
    both(
        manager,
        lambda lang: manager.get(f"/todos/2147483000?lang={lang}"),
        "没有这个页面",
        "no such page",
        404,
    )


def post_workbook(client: Client, name: str, content: bytes, lang: str) -> Response:
    boundary = secrets.token_hex(12)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{client.csrf}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{client.base}/workbook/preview?lang={lang}",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with client.opener.open(request, timeout=60) as answer:
            return Response(answer.status, answer.read().decode(), {})
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read().decode(), {})


def test_a_refused_workbook_names_the_file_in_the_viewers_language(portal: Portal) -> None:
    manager = portal.client()
    manager.login("M101")
    manager.get("/workbook")
    both(
        manager,
        lambda lang: post_workbook(manager, "待办.txt", b"not a workbook", lang),
        "文件“待办.txt”：只接受本平台导出的 .xlsx 工作簿",
        "file 待办.txt: only .xlsx workbooks issued by the platform are accepted",
        422,
    )


def test_the_data_offices_refusals_are_in_their_language(portal: Portal) -> None:
    bank = portal.bank
    office = portal.client()
    office.login("D001")
    both(
        office,
        lambda lang: office.get(f"/office/runs/2147483000?lang={lang}"),
        "没有这个页面",
        "no such page",
        404,
    )
    with bank.store.begin() as conn:
        first, second = conn.scalars(sa.select(CheckRun.id).order_by(CheckRun.id).limit(2)).all()
        conn.execute(sa.update(CheckRun).where(CheckRun.id == first).values(status="validating"))
        conn.execute(sa.update(CheckRun).where(CheckRun.id == second).values(table_name="ledger"))
    office.get("/office/runs")
    both(
        office,
        lambda lang: office.post(
            f"/office/runs/{first}/void?lang={lang}", {"reason": "误跑", "confirm": "yes"}
        ),
        f"运行 {first} 仍在校验中",
        f"Run {first} is still validating",
        409,
    )
    assert office.post(f"/office/runs/{second}/docs").status == 303
    assert portal.app.state.portal.docs_jobs.wait(second, 60) == "failed"
    both(
        office,
        lambda lang: office.get(f"/office/runs/{second}?lang={lang}"),
        "记录类型“ledger”已没有规则，无法生成 Data Docs。",
        "There are no rules for record type ledger any more",
        200,
    )


def test_run_now_against_an_unreachable_airflow_says_so_in_the_viewers_language(bank: Bank) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    trigger = Trigger(rest_runner(AirflowApi(nowhere, "dqgov", "pw", timeout=5)), lambda: ["dq_merchant"])
    with serve(make_app(bank, trigger=trigger)) as url:
        office = Client(url)
        office.login("D001")
        assert office.post("/office/runs/now", {"day": "2026-11-19"}).status == 303
        assert trigger.wait(30).status == "failed"
        both(
            office,
            lambda lang: office.get(f"/office/runs?lang={lang}"),
            f"dq_merchant : 无法连接 Airflow（{nowhere}），请确认其 API 服务已启动。",
            f"dq_merchant : cannot reach Airflow at {nowhere}: check that its API server is running.",
            200,
        )


def test_an_uncoded_error_says_its_kind_in_chinese_with_the_english_folded_away(portal: Portal) -> None:
    office = portal.client()
    office.login("D001")
    calendar = portal.bank.folder / "bank_calendar.yml"
    calendar.write_text("years: [\n", encoding="utf-8")  # a broken file: the calendar cannot be read
    chinese = office.get("/office/calendar?lang=zh")
    assert chinese.status == 409
    assert "工作日历文件有误或暂时无法读取，请联系数据管理部门。" in main_text(chinese.text)
    assert not english_sentences(chinese.text)
    folded = re.search(
        r'<details class="tech-detail"><summary>技术细节</summary>(.*?)</details>', chinese.text, re.S
    )
    assert folded is not None and "not valid YAML" in folded.group(1)
    english = office.get("/office/calendar?lang=en")
    assert (
        english.status == 409
        and "not valid YAML" in main_text(english.text)
        and "<details" not in english.text
    )


def test_each_kind_of_uncoded_error_has_its_own_chinese_sentence() -> None:
    def request(lang: str) -> Request:
        made = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})
        made.state.lang = lang
        return made

    expected = {
        NotFound: "未找到",
        NotAllowed: "无权",
        InvalidState: "当前状态下不能",
        InvalidInput: "不符合要求",
        SourceError: "源系统",
        StoreError: "数据库",
        DqgovError: "未能完成",
    }
    for kind, chinese in expected.items():
        error = kind("the thing <b>broke</b> badly")
        shown = error_message(request("zh"), error)
        assert chinese in shown.split("<details")[0] and "the thing" not in shown.split("<details")[0]
        assert "the thing &lt;b&gt;broke&lt;/b&gt; badly" in shown  # escaped, in the folded detail
        assert error_message(request("en"), error) == "the thing <b>broke</b> badly"  # escaped by the page
    coded = InvalidState("to-do 5 is closed", code="nothing_to_correct", todo=5)
    assert error_message(request("zh"), coded) == "待办 5 已关闭，无需再更正。"
