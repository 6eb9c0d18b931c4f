"""The portal's overview page (a placeholder until the portal issue), served by a real uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from expectations.rulebook import load_suites
from portal.app import create_app, get_store
from remediation.pipeline import run_suite
from remediation.store import open_store
from tests.factories import CHECK_DATE, build_source, merchant_row


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def portal(databases: Any) -> Iterator[str]:
    source_url = databases.new("source")
    build_source(
        source_url, [merchant_row(1, contact_phone=""), merchant_row(2, inst_code="110200", uscc=None)]
    )
    store = open_store(databases.new("store"))
    merchant = next(s for s in load_suites() if s.table == "merchant")
    run_suite(source_url, store, merchant, CHECK_DATE)
    app = create_app()
    app.dependency_overrides[get_store] = lambda: store
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_overview_lists_open_todos_per_institution_in_chinese_and_english(portal: str) -> None:
    status, zh = get(portal + "/")
    assert status == 200
    assert "数据质量治理平台" in zh and "赣江银行浔阳支行" in zh and "赣江银行濂溪支行" in zh
    status, en = get(portal + "/?lang=en")
    assert "Open data-quality to-dos per institution" in en and "中文" in en


def test_unknown_language_is_refused(portal: str) -> None:
    assert get(portal + "/?lang=fr")[0] == 422
