"""Every page of a small demo bank, in Chinese and in English: no English words in the Chinese pages, no
catalogue keys or raw column ids in either (a missing key shows as itself, `portal.i18n.translate`).

The bank is the demo generator's (every kind of defect), checked by the pipeline, with the workflow's
trails on it: corrections, claims, appeals at each stage, an exemption, a scoped campaign, a snapshot.
The crawler follows every link of each demo login's pages (GET only, downloads and Data Docs aside).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Iterator
from urllib.parse import quote, urljoin, urlsplit

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from expectations.rulebook import load_suites
from remediation.checks.pipeline import run_suite
from remediation.demobank import DemoBankSpec, generate_demo_bank
from remediation.orchestration.dag_defaults import SNAPSHOT_DAG
from remediation.orchestration.runnow import checks_then_snapshot
from remediation.reporting.snapshots import take_snapshot
from remediation.store.engines import open_store
from remediation.store.models import Todo
from remediation.store.workflow_models import InboxMessage
from remediation.workflow.accounts import ensure_demo_users
from remediation.workflow.audit import audit
from remediation.workflow.campaigns import create_campaign
from remediation.workflow.evidence import attach
from tests.factories import CHECK_DATE
from tests.portal.conftest import PASSWORD, Bank, Client, make_app, serve

pytestmark = pytest.mark.slow  # one demo bank (~20 s to build and check) serves every test here
MAX_PAGES = 80  # per login and language: every kind of page, not every to-do
# Latin text allowed in the Chinese pages: names of products and formats, and the language switch
ALLOWED_LATIN = {
    "English",
    "Excel",
    "xlsx",
    "CSV",
    "GX",
    "Data",
    "Docs",
    "Airflow",
    "YYYY",
    "MM",
    "DD",
    "chinese",
    "chinese-calendar",
    "dqgov",
    "audit",
    "verify",
    "Luhn",
    "PDF",  # the evidence files' formats, names (营业执照.pdf) and sizes
    "pdf",
    "JPG",
    "PNG",
    "MB",
    "KB",
}
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")
KEYLIKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)*\.[a-z0-9]+(?:_[a-z0-9]+)*\b")
COLUMN_ID = re.compile(r"\b[a-z]+_[a-z_]+\b")
SKIP = re.compile(r"<(script|style|code|textarea)\b.*?</\1>|<span class=\"v\">[^<]*</span>", re.S)
TAGS = re.compile(r"<[^>]+>")
HREF = re.compile(r'href="([^"#]*)')


def visible_text(page: str) -> str:
    body = page.split("<body", 1)[-1]
    return html.unescape(TAGS.sub(" ", SKIP.sub(" ", body)))


CODE_IN_BRACKETS = re.compile(r"（[A-Za-z_ ,、-]+）")  # 正常（active）: the stored code after its name


def problems(text: str, lang: str) -> list[str]:
    found = [f"key {m}" for m in KEYLIKE.findall(text)]
    found += [f"column id {m}" for m in COLUMN_ID.findall(text)]
    if lang == "zh":
        for word in WORD.findall(CODE_IN_BRACKETS.sub("", text)):
            if word not in ALLOWED_LATIN and not word.isupper():  # rule ids, record keys, codes
                found.append(f"English {word!r}")
    return found


def _workflow_trails(store: sa.Engine, client_for: dict[str, Login]) -> None:
    """What staff do in a week, through the portal itself: each trail then shows on the pages."""
    manager, head, office = (
        client_for["account_manager"],
        client_for["sub_branch_head"],
        client_for["data_office"],
    )
    with store.connect() as conn:
        mine = conn.execute(
            sa.select(Todo.id, Todo.rule_id)
            .where(Todo.assignee_staff_id == manager.staff_id)
            .order_by(Todo.id)
        ).all()
    ids = [t.id for t in mine]
    assert len(ids) >= 5, mine
    fix = next((t.id for t in mine if "USCC" in t.rule_id), ids[-1])
    manager.get(f"/todos/{fix}")
    manager.post(f"/todos/{fix}/correct", {"field_uscc": "91360100MA35X"})  # refused
    manager.post(f"/todos/{fix}/correct", {"field_uscc": "91360100MA35L7XQ3B"})
    others = [i for i in ids if i != fix]
    manager.post(f"/todos/{others[0]}/claim", {"note": "已在核心系统改正"})
    for todo_id in others[1:5]:
        manager.post(
            f"/todos/{todo_id}/appeal", {"reason": "该商户为个体工商户，规则不适用", "evidence": "营业执照"}
        )
    appeals = head.appeal_ids()
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
    for appeal_id in appeals:  # evidence files (the portal's upload is tested in test_evidence.py)
        evidence_id = attach(store, appeal_id, manager.staff_id, "营业执照.pdf", pdf)
        detail = f"evidence {evidence_id} (营业执照.pdf, {len(pdf)} bytes) on appeal {appeal_id}"
        audit(store, manager.staff_id, "evidence_uploaded", detail=detail)
    assert head.get(f"/evidence/{evidence_id}").status == 200  # audited as a download
    head.post(f"/appeals/{appeals[0]}/decide", {"decision": "accept", "note": "同意"})
    head.post(f"/appeals/{appeals[1]}/decide", {"decision": "reject", "note": "证照不符"})
    head.post(f"/appeals/{appeals[1]}/decide", {"decision": "reject"})  # no note: refused
    head.post(f"/appeals/{appeals[2]}/decide", {"decision": "pass_up"})
    manager.post(f"/todos/{others[2]}/appeals/{appeals[1]}/escalate")
    office_appeals = office.appeal_ids()
    office.post(f"/appeals/{office_appeals[0]}/decide", {"decision": "reject", "note": "维持原判"})
    office.post("/office/campaigns", {"name": "x", "baseline": "bad", "deadline": "", "target": "150"})


class Login(Client):
    def __init__(self, base: str, staff_id: str) -> None:
        super().__init__(base)
        self.staff_id = staff_id

    def appeal_ids(self) -> list[int]:
        return [int(i) for i in re.findall(r'action="/appeals/(\d+)/decide"', self.get("/appeals").text)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sa.Engine, dict[str, Login]]]:
    folder = tmp_path_factory.mktemp("demo")
    source_url = f"sqlite:///{folder / 'source.sqlite'}"
    generate_demo_bank(
        sa.create_engine(source_url),
        DemoBankSpec(merchants=400, customers=100, seed=11, defect_rate=0.4, check_date=CHECK_DATE),
    )
    store = open_store(f"sqlite:///{folder / 'store.sqlite'}")
    source = sa.create_engine(source_url)
    for suite in load_suites():
        run_suite(source, store, suite, CHECK_DATE - dt.timedelta(days=1))
    logins = ensure_demo_users(store, PASSWORD)
    create_campaign(
        store,
        "南昌分行手机号专项",
        CHECK_DATE - dt.timedelta(days=30),
        CHECK_DATE + dt.timedelta(days=60),
        0.9,
        tables=["merchant"],
        institutions=[logins[1].inst_code],
        created_by=logins[-1].staff_id,
    )
    for suite in load_suites():
        run_suite(source, store, suite, CHECK_DATE)
    take_snapshot(store, CHECK_DATE - dt.timedelta(days=1))
    app = make_app(Bank(source_url, store, folder))
    with serve(app) as url:
        clients: dict[str, Login] = {}
        for person in logins:
            client = Login(url, person.staff_id)
            client.login(person.staff_id)
            clients[person.position] = client
        _workflow_trails(store, clients)
        yield store, clients


def crawl(client: Client, lang: str) -> Iterator[tuple[str, int, str]]:
    client.get(f"/todos?lang={lang}")
    seen: set[str] = set()
    queue = ["/", "/todos", "/inbox", "/todos/999999", "/todos/abc", "/todos?sort=bogus"]
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        answer = client.get(path)
        if answer.status in (301, 302, 303, 307):
            queue.insert(0, urlsplit(answer.headers.get("location", "/")).path)
            continue
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        yield path, answer.status, answer.text
        for link in HREF.findall(answer.text):
            target = urlsplit(urljoin(client.base + path, html.unescape(link)))
            if target.netloc != urlsplit(client.base).netloc or target.path.startswith(
                ("/static", "/logout")
            ):
                continue
            if "/docs/" in target.path or target.path.endswith((".xlsx", ".csv")) or "lang=" in target.query:
                continue
            found = target.path + (f"?{target.query}" if target.query else "")
            # one to-do page per rule is enough: the rest differ in values only
            if (
                re.fullmatch(r"/todos/\d+", target.path)
                and sum(1 for s in seen if re.fullmatch(r"/todos/\d+", s)) > 25
            ):
                continue
            queue.append(found)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_of_the_demo_is_in_the_viewers_language(
    demo: tuple[sa.Engine, dict[str, Login]], lang: str
) -> None:
    _, clients = demo
    failures: dict[str, str] = {}  # problem -> the first page showing it
    pages = 0
    for position, client in clients.items():
        for path, status, page in crawl(client, lang):
            pages += 1
            assert status < 500, f"{position} {path}: {status}"
            assert f'lang="{"zh-CN" if lang == "zh" else "en"}"' in page, path
            for problem in problems(visible_text(page), lang):
                failures.setdefault(problem, f"{position} {path}")
    assert pages > 60
    assert not failures, "\n".join(f"{p}  ({where})" for p, where in sorted(failures.items()))


def test_refused_forms_come_back_as_typed_with_every_problem_in_chinese(
    demo: tuple[sa.Engine, dict[str, Login]],
) -> None:
    _, clients = demo
    head, office = clients["sub_branch_head"], clients["data_office"]
    head.get("/appeals?lang=zh")
    appeal = head.appeal_ids()[0]
    refused = head.post(f"/appeals/{appeal}/decide", {"decision": "reject", "note": "  "})
    assert refused.status == 422
    assert "驳回申诉须填写意见" in refused.text
    assert re.search(r'value="reject" checked', refused.text)  # the form is kept
    assert problems(visible_text(refused.text), "zh") == []

    office.get("/office/campaigns?lang=zh")
    form = {
        "name": "",
        "baseline": "2026-13-01",
        "deadline": "",
        "target": "1.5x",
        "rules": "NO-SUCH-RULE",
        "institutions": "999999",
    }
    refused = office.post("/office/campaigns", form)
    assert refused.status == 422
    said = visible_text(refused.text)
    for expected in (
        "名称：必填",
        "基准日：请选择日期",
        "截止日：请选择日期",
        "目标完成率（%）",
        "NO-SUCH-RULE",
        "999999",
    ):
        assert expected in said, expected
    assert problems(said, "zh") == []
    assert 'value="NO-SUCH-RULE"' in refused.text  # what was typed stays
    late = office.post(
        "/office/campaigns",
        {
            **form,
            "name": "年末",
            "baseline": "2026-12-01",
            "deadline": "2026-11-01",
            "target": "150",
            "rules": "",
            "institutions": "",
        },
    )
    assert "截止日：不能早于基准日" in late.text and "填写的是“150”" in late.text


def test_a_bad_url_parameter_gets_the_portals_own_page(demo: tuple[sa.Engine, dict[str, Login]]) -> None:
    _, clients = demo
    manager = clients["account_manager"]
    for lang, heading in (("zh", "未找到"), ("en", "Not found")):
        manager.get(f"/todos?lang={lang}")
        missing = manager.get("/todos/2000000")
        assert missing.status == 404 and heading in missing.text
        assert manager.get("/todos/abc").status == 400
        bad = manager.get("/todos?sort=bogus")
        assert bad.status == 400 and "text/html" in bad.headers["content-type"]
        assert ("参数 排序 不正确" if lang == "zh" else "Parameter sort is not valid") in bad.text


def test_people_and_institutions_are_named_in_the_trails_the_audit_log_and_the_summary(
    demo: tuple[sa.Engine, dict[str, Login]],
) -> None:
    _, clients = demo
    manager, office = clients["account_manager"], clients["data_office"]
    office.get("/office/audit?lang=zh")
    mine = office.get(f"/office/audit?who={manager.staff_id}&from={CHECK_DATE - dt.timedelta(days=400)}")
    rows = re.findall(r"<tr><td>\d+</td>.*?</tr>", mine.text)
    assert rows and all(f"（{manager.staff_id}）" in r for r in rows)  # name, id second
    assert "申诉" in mine.text and "查看未脱敏值" in mine.text
    future = office.get(
        f"/office/audit?from={CHECK_DATE + dt.timedelta(days=1)}&to={CHECK_DATE + dt.timedelta(days=2)}"
    )
    assert future.status in (200, 400) and not re.findall(r"<tr><td>\d+</td>", future.text)
    exported = office.get(f"/office/audit.csv?who={manager.staff_id}&action=appeal_filed")
    assert exported.status == 200 and "attachment" in exported.headers["content-disposition"]
    lines = exported.body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("序号,时间,操作人,工号,动作") and len(lines) == 1 + 4
    assert all("提交申诉" in line and manager.staff_id in line for line in lines[1:])
    assert "导出" in office.get("/office/audit?action=export").text

    head = clients["sub_branch_head"]
    head.get("/summary?lang=en")
    summary = head.get("/summary")
    assert "Parent" in summary.text and "Institution" in summary.text
    assert not re.search(r"<th[^>]*>\s*(inst_name|completion_rate|level)\s*</th>", summary.text)


def test_a_campaign_of_some_institutions_shows_only_them(demo: tuple[sa.Engine, dict[str, Login]]) -> None:
    _, clients = demo
    office, head = clients["data_office"], clients["sub_branch_head"]
    office.get("/office/campaigns?lang=zh")
    page = office.get("/office/campaigns")
    campaign = re.search(r'href="/dashboard\?campaign=(\d+)">南昌分行手机号专项', page.text)
    assert campaign is not None
    own = head.get("/dashboard").text
    home = re.findall(r'<span aria-current="page">([^<]+)</span>', own)[-1]  # the head's sub-branch
    summary = office.get(f"/summary?campaign={campaign[1]}&date={CHECK_DATE - dt.timedelta(days=1)}")
    names = re.findall(r'<th scope="row"><a href="/dashboard\?inst=[^"]+">([^<]+)</a>', summary.text)
    assert names[-1] == home and len(names) <= 3  # the sub-branch, and the branch and head office above it
    dashboard = office.get(f"/dashboard?campaign={campaign[1]}")
    ranking = dashboard.text.split('id="children"', 1)[1].split("</table>", 1)[0]
    ranked = re.findall(r'<a href="/dashboard\?inst=[^"&]+&amp;campaign=\d+">([^<]+)</a>', ranking)
    assert len(ranked) == 1  # only the branch above the campaign's sub-branch


def test_the_live_dashboard_says_where_it_differs_from_the_t1_summary(
    demo: tuple[sa.Engine, dict[str, Login]],
) -> None:
    _, clients = demo
    head = clients["sub_branch_head"]
    head.get("/dashboard?lang=zh")
    page = head.get("/dashboard")
    day = (CHECK_DATE - dt.timedelta(days=1)).isoformat()
    assert 'id="t1-differs"' in page.text  # an appeal was accepted since the snapshot
    assert f"{day} 日终快照" in page.text and f'href="/summary?date={day}' in page.text
    assert checks_then_snapshot()[-1] == SNAPSHOT_DAG  # "run now" refreshes the day's snapshot too


def test_the_record_page_says_what_the_record_is_and_the_rule_menu_lists_only_rules_with_to_dos(
    demo: tuple[sa.Engine, dict[str, Login]],
) -> None:
    _, clients = demo
    manager = clients["account_manager"]
    manager.get("/todos?lang=zh")
    listing = manager.get("/todos?status=all")
    todo_id = re.findall(r'href="/todos/(\d+)"', listing.text)[0]
    page = manager.get(f"/todos/{todo_id}")
    context = page.text.split('id="record-context"', 1)[1].split("</section>", 1)[0]
    assert "注册地址" in context or "经营地址" in context
    assert "商户类型" in context or "主体类型" in context
    menu = listing.text.split('id="f-rule"', 1)[1].split("</select>", 1)[0]
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', menu)
    shown = set(re.findall(r'<span class="rule-id">([^<]+)</span>', listing.text))
    assert {rule for rule, _ in options} == shown  # the manager's rules, all of them, nothing else
    labels = [text for _, text in options]
    assert len(labels) == len(set(labels)) and all(" · " in text for text in labels)


def test_inbox_lines_link_to_their_to_dos(demo: tuple[sa.Engine, dict[str, Login]]) -> None:
    store, clients = demo
    manager = clients["account_manager"]
    with store.connect() as conn:
        todo = conn.execute(
            sa.select(Todo.id, Todo.record_key, Todo.rule_id).where(
                Todo.assignee_staff_id == manager.staff_id
            )
        ).first()
    assert todo is not None
    body = f"[临期] 收单商户 {todo.record_key} · {todo.rule_id} 描述 · 到期 2026-11-27 · uscc=9136****X\n请及时处理。"
    with store.begin() as conn:
        conn.execute(
            sa.insert(InboxMessage).values(
                staff_id=manager.staff_id, subject="待办提醒", body=body, created_at=dt.datetime.now(dt.UTC)
            )
        )
    page = manager.get("/inbox")
    assert f'<a href="/todos/{todo.id}">[临期] 收单商户 {todo.record_key}' in page.text
    assert (
        "请及时处理。" in page.text
        and "统一社会信用代码：9136****X" in page.text
        and "uscc=" not in page.text
    )


def test_a_format_defect_shows_where_it_is_without_the_number(
    demo: tuple[sa.Engine, dict[str, Login]],
) -> None:
    store, clients = demo
    office = clients["data_office"]
    with store.connect() as conn:
        phones = conn.execute(
            sa.select(Todo.id, Todo.masked_value).where(Todo.rule_id.like("%PHONE-FORMAT"))
        ).all()
    lettered = [(i, v) for i, v in phones if re.search(r"contact_phone=\d+[A-Za-z]", v or "")]
    assert lettered, phones
    todo_id, stored = lettered[0]
    value = stored.split("contact_phone=", 1)[1].split(";", 1)[0]
    assert "*" in value  # still masked
    office.get("/todos?lang=zh")
    page = office.get(f"/todos/{todo_id}")
    letter = re.search(r"\d([A-Za-z])", value)
    assert letter is not None
    assert f"是“{letter[1]}”，应为数字" in page.text


def test_help_and_the_print_view(demo: tuple[sa.Engine, dict[str, Login]]) -> None:
    _, clients = demo
    manager = clients["account_manager"]
    manager.get("/todos?lang=zh")
    page = manager.get("/todos")
    assert 'id="print-link"' in page.text and 'href="/help"' in page.text
    help_page = manager.get("/help")
    assert help_page.status == 200 and "一项待办的一生" in help_page.text and "红牌" in help_page.text
    assert "高 5 天" in help_page.text  # the policy's own figures
    printed = manager.get("/todos?status=all&view=print")
    rows = re.findall(r"<tr>\s*<td>\d+</td>", printed.text)
    listed = re.search(r"共 (\d+) 条", printed.text)
    assert listed is not None and len(rows) == min(int(listed[1]), 200)
    assert manager.get("/todos?view=bogus").status == 400


def test_search_by_part_of_a_name(demo: tuple[sa.Engine, dict[str, Login]]) -> None:
    store, clients = demo
    manager = clients["account_manager"]
    with store.connect() as conn:
        todo = conn.execute(
            sa.select(Todo.id, Todo.record_key)
            .where(Todo.assignee_staff_id == manager.staff_id, Todo.table_name == "merchant")
            .order_by(Todo.id)
        ).first()
    assert todo is not None
    manager.get("/todos?lang=zh")
    page = manager.get(f"/todos/{todo.id}").text.split('id="record-context"', 1)[1]
    trading = re.search(r"<dt>经营名称</dt><dd><span class=\"v\">([^<]+)</span>", page)
    assert trading is not None and len(trading[1]) >= 3
    part = trading[1][1:3]
    found = manager.get(f"/todos?status=all&name={quote(part)}")
    assert todo.record_key in found.text
    assert "共 0 条" in manager.get(f"/todos?status=all&name={quote('不存在的名称')}").text


def test_coded_fields_are_chosen_from_the_standards_codes(demo: tuple[sa.Engine, dict[str, Login]]) -> None:
    store, clients = demo
    with store.connect() as conn:
        found = conn.execute(
            sa.select(Todo.id, Todo.assignee_staff_id).where(
                Todo.rule_id.in_(["MER-P3-LEGAL-REP-ID-VALID", "MER-M1-MCC-KNOWN"]), Todo.status == "open"
            )
        ).all()
    by_login = {c.staff_id: c for c in clients.values()}
    mine = [(i, by_login[a]) for i, a in found if a in by_login]
    assert mine, found
    todo_id, owner = mine[0]
    owner.get("/todos?lang=zh")
    form = owner.get(f"/todos/{todo_id}").text
    if 'name="field_legal_rep_id_type"' in form:
        menu = form.split('<select id="field-legal_rep_id_type"', 1)[1].split("</select>", 1)[0]
        assert "01 居民身份证" in menu and "06 护照" in menu
    else:
        assert 'list="codes-mcc"' in form and '<option value="5411">' in form


def test_the_summary_workbook_is_titled_in_the_viewers_language(
    demo: tuple[sa.Engine, dict[str, Login]],
) -> None:
    _, clients = demo
    head = clients["sub_branch_head"]
    head.get("/summary?lang=zh")
    workbook = head.get(f"/summary.xlsx?date={CHECK_DATE - dt.timedelta(days=1)}")
    sheet = load_workbook(io.BytesIO(workbook.body)).active
    assert sheet is not None
    title = str(sheet["A1"].value)
    assert "默认专项治理" in title and "default campaign" not in title
