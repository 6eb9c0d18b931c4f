"""No 500s: every route, every path, query and form parameter, every role, bad values of every kind; the
answer is never a server error, and an error is an HTML page in the viewer's language."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.dependencies.utils import get_flat_dependant
from fastapi.routing import APIRoute

from remediation.store.models import CheckRun, Todo
from remediation.store.workflow_models import Appeal
from tests.portal.conftest import Bank, Client, Response, make_app, serve

BAD_VALUES = (
    "\x00",
    "abc\x00def",
    "\x1b[31m",
    "2147483648",
    "99999999999999999999",
    "-1",
    "0",
    "9999-12-31",
    "0001-01-01",
    "not-a-date",
    "bogus",
    "../../../../etc/passwd",
    "x" * 300,
    "长" * 1500,
)
ROLES = ("D001", "S101", "M101", None)  # the data office, a sub-branch head, an account manager, nobody
LANGUAGE_MARKS = {"zh": ('lang="zh-CN"', "数据质量治理平台"), "en": ('lang="en"', "Data-quality governance")}
# valid values for the form fields not probed (a login that fails: no real account is locked)
FORM_DEFAULTS = {
    "staff_id": "X999",
    "password": "not-the-password",
    "next": "/",
    "note": "",
    "reason": "记录无误",
    "evidence": "",
    "decision": "reject",
    "day": "",
    "confirm": "",
    "token": "0" * 32,  # a workbook upload's token that names no upload
    "name": "todos.xlsx",
    "todo_id": "1",
    "to_staff": "M102",
    "back": "status=active",
}


@dataclass(frozen=True)
class Probe:
    method: str
    path: str  # with valid values in every path parameter but the probed one
    query: dict[str, str]
    form: dict[str, str]
    what: str


def _valid_path_values(bank: Bank) -> dict[str, str]:
    with bank.store.connect() as conn:
        todo_id = conn.scalar(sa.select(sa.func.min(Todo.id)))
        run_id = conn.scalar(sa.select(sa.func.min(CheckRun.id)))
        appeal_id = conn.scalar(sa.select(sa.func.min(Appeal.id))) or 1
    return {
        "todo_id": str(todo_id),
        "run_id": str(run_id),
        "appeal_id": str(appeal_id),
        "evidence_id": "1",
        "path": "index.html",
        "action": "withdraw",
    }


def _fill(route: APIRoute, names: list[str], valid: dict[str, str], bad: dict[str, str]) -> str:
    values = {name: urllib.parse.quote(bad.get(name, valid[name]), safe="") for name in names}
    return route.path_format.format(**values)


def probes(app: FastAPI, bank: Bank) -> Iterator[Probe]:
    """For every route: each path, query and declared form parameter with each bad value, the others valid;
    and one unknown parameter carrying NUL."""
    valid = _valid_path_values(bank)
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        flat = get_flat_dependant(route.dependant)
        names = [p.name for p in flat.path_params]
        path = _fill(route, names, valid, {})
        for method in sorted(route.methods - {"HEAD"}):
            form = {p.name: FORM_DEFAULTS[p.name] for p in flat.body_params}
            if method == "POST":
                yield Probe(method, path, {}, {**form, "junk": "\x00"}, f"{method} {route.path} junk")
            else:
                yield Probe(method, path, {"junk": "\x00"}, {}, f"{method} {route.path} junk")
            for value in BAD_VALUES:
                shown = f"{method} {route.path} %s={value[:20]!r}"
                for name in names:
                    yield Probe(method, _fill(route, names, valid, {name: value}), {}, form, shown % name)
                for param in flat.query_params:
                    yield Probe(method, path, {param.name: value}, {}, shown % ("?" + param.name))
                for param in flat.body_params:
                    yield Probe(method, path, {}, {**form, param.name: value}, shown % ("form " + param.name))


def send(client: Client, probe: Probe, lang: str) -> Response:
    query = urllib.parse.urlencode({**probe.query, "lang": lang})
    target = f"{probe.path}?{query}"
    if probe.method == "GET":
        return client.get(target)
    return client.post(target, probe.form)


@pytest.mark.slow
def test_no_bad_parameter_on_any_route_is_a_server_error(any_bank: Bank) -> None:
    app = make_app(any_bank)
    # logging out last: a probe that got through would end the session the others need
    all_probes = sorted(probes(app, any_bank), key=lambda p: p.path == "/logout")
    assert len({p.path.split("/")[1] for p in all_probes}) >= 6  # the enumeration found the routes
    failures: list[str] = []
    with serve(app) as url:
        for role in ROLES:
            client = Client(url)
            if role is not None:
                assert client.login(role).status == 303
            for i, probe in enumerate(all_probes):
                lang = ("zh", "en")[i % 2]
                answer = send(client, probe, lang)
                if answer.status >= 500:
                    failures.append(f"{role} {probe.what}: {answer.status}")
                elif answer.status >= 400:
                    page_lang, error_mark = LANGUAGE_MARKS[lang]
                    if "text/html" not in answer.headers.get("content-type", ""):
                        failures.append(f"{role} {probe.what}: {answer.status} is not a page")
                    elif page_lang not in answer.text or error_mark not in answer.text:
                        failures.append(f"{role} {probe.what}: {answer.status} page not in {lang}")
                    elif "Traceback" in answer.text:
                        failures.append(f"{role} {probe.what}: a trace")
    failures.sort(key=lambda f: ": 5" not in f)  # server errors first
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:40])


EXAMPLES = [  # the issue's, and their kin: (path, the parameter the page names in Chinese, in English)
    ("/todos?key=%00", "记录编号", "record key"),
    ("/todos/2147483648", "待办编号", "to-do number"),
    ("/todos/abc", "待办编号", "to-do number"),
    ("/office/runs/99999999999999999999", "运行编号", "run number"),
    ("/summary?date=9999-12-31", "日期", "date"),
    ("/summary?date=2026-13-01", "日期", "date"),
    ("/todos?sort=bogus", "排序", "sort"),
]


def test_the_issues_examples_answer_a_400_page_naming_the_parameter(any_bank: Bank) -> None:
    with serve(make_app(any_bank)) as url:
        client = Client(url)
        client.login("D001")
        for path, zh_field, en_field in EXAMPLES:
            zh = client.get(path)
            assert zh.status == 400 and "请求有误" in zh.text and zh_field in zh.text, (path, zh.text[-600:])
            en = client.get(path + ("&" if "?" in path else "?") + "lang=en")
            assert en.status == 400 and "Bad request" in en.text and en_field in en.text, path
            client.get("/todos?lang=zh")


def test_an_unexpected_error_is_a_500_page_in_the_viewers_language_without_a_trace(bank: Bank) -> None:
    app = make_app(bank)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail /etc/dqgov")

    with serve(app) as url:
        client = Client(url)
        client.login("D001")
        zh = client.get("/boom")
        assert zh.status == 500 and "系统出错" in zh.text and "secret detail" not in zh.text
        assert "text/html" in zh.headers["content-type"]
        en = client.get("/boom?lang=en")
        assert en.status == 500 and "Something went wrong" in en.text and "Traceback" not in en.text


def test_a_method_not_allowed_is_a_page_too(bank: Bank) -> None:
    with serve(make_app(bank)) as url:
        answer = Client(url).post("/healthz", {}, csrf=False)
    assert answer.status == 405 and "text/html" in answer.headers["content-type"]
    assert "数据质量治理平台" in answer.text
