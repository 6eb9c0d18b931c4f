"""The dashboard and the summary table reuse their figures only while the store's data stands.

`remediation/reporting/freshness.py`: a change committed in this process is seen by the next page at once; one
committed by another process reaches the portal by PostgreSQL's NOTIFY, milliseconds later; a portal that
lost its listening connection computes every page until it listens again; SQLite caches nothing.
Each page is compared with the page the same portal computes with the cache switched off.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.deps import PortalConfig
from remediation.reporting.snapshots import take_snapshot
from tests.dbenv import Databases
from tests.factories import CHECK_DATE
from tests.portal.conftest import Bank, Client, make_app, pg_bank, serve

TOKENS = re.compile(r'(name="csrf_token" value=|name="csrf" content=)"[^"]*"')
PAGES = ("/dashboard", "/summary")


def _page(client: Client, path: str) -> str:
    answer = client.get(path)
    assert answer.status == 200, (path, answer.status, answer.text[:500])
    return TOKENS.sub(r"\1''", answer.text)


@contextmanager
def _portal(bank: Bank) -> Iterator[tuple[Client, PortalConfig]]:
    app = make_app(bank)
    with serve(app) as url:
        client = Client(url)
        assert client.login("D001").status == 303
        yield client, app.state.portal


@dataclass
class Served:
    bank: Bank
    client: Client
    cfg: PortalConfig


@pytest.fixture
def served(pg_databases: Databases, tmp_path: Path) -> Iterator[Served]:
    """The checked bank on PostgreSQL, its portal served, the data office logged in."""
    bank = pg_bank(pg_databases, tmp_path)
    with _portal(bank) as (client, cfg):
        yield Served(bank, client, cfg)


def _uncached(client: Client, path: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The page computed afresh by the same portal (the cache switched off for one request)."""
    with monkeypatch.context() as patch:
        patch.setenv("DQGOV_REPORT_CACHE_SECONDS", "0")
        return _page(client, path)


# an open to-do of the bank fixed, and a number of the latest snapshot's totals changed, as a check run or a
# snapshot in another process would (the statements the tests run there)
CLOSE_ONE = (
    "UPDATE dq_todo SET status = 'fixed' WHERE id = (SELECT min(id) FROM dq_todo WHERE status = 'open')",
    "UPDATE dq_snapshot_total SET fixed = fixed + 1, open = open - 1 WHERE (campaign_id, snapshot_date, "
    "inst_code, segment, severity) = (SELECT campaign_id, snapshot_date, inst_code, segment, severity FROM "
    "dq_snapshot_total WHERE open > 0 ORDER BY snapshot_date DESC, inst_code, severity LIMIT 1)",
)


def _change_elsewhere(url: str, statements: tuple[str, ...] = CLOSE_ONE) -> None:
    script = (
        "import sys, sqlalchemy as sa\n"
        "engine = sa.create_engine(sys.argv[1])\n"
        "with engine.begin() as conn:\n"
        "    for statement in sys.argv[2:]:\n"
        "        conn.execute(sa.text(statement))\n"
    )
    subprocess.run([sys.executable, "-c", script, url, *statements], check=True, timeout=60)


def _store_url(bank: Bank) -> str:
    return bank.store.url.render_as_string(hide_password=False)


def _next_page_changes(client: Client, path: str, before: str, seconds: float = 5.0) -> str:
    """The page, asked until it differs from `before` (a notice takes milliseconds to arrive)."""
    deadline = time.monotonic() + seconds
    page = _page(client, path)
    while page == before and time.monotonic() < deadline:
        time.sleep(0.05)
        page = _page(client, path)
    return page


def _assert_pages_show_the_change(
    client: Client, before: dict[str, str], monkeypatch: pytest.MonkeyPatch, wait: float = 0.0
) -> None:
    """Each page differs from `before` (at once, or within `wait` seconds) and is the page computed afresh."""
    for path in PAGES:
        after = _next_page_changes(client, path, before[path], wait) if wait else _page(client, path)
        assert after != before[path], f"{path} still shows the figures from before the change"
        assert after == _uncached(client, path, monkeypatch), f"{path} is not the page computed afresh"


def test_a_change_from_another_process_reaches_the_cached_pages(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank, client, cfg = served.bank, served.client, served.cfg
    before = {path: _page(client, path) for path in PAGES}
    misses = cfg.reports().misses
    for path in PAGES:
        assert _page(client, path) == before[path]
    assert cfg.reports().misses == misses, "the second request of a page was computed again"
    for path in PAGES:
        assert _uncached(client, path, monkeypatch) == before[path], "the cached page is not the computed one"

    _change_elsewhere(_store_url(bank))
    _assert_pages_show_the_change(client, before, monkeypatch, wait=5.0)


def test_a_change_committed_in_the_same_process_shows_on_the_very_next_page(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank, client, cfg = served.bank, served.client, served.cfg
    before = {path: _page(client, path) for path in PAGES}
    other = sa.create_engine(_store_url(bank))  # not the portal's engine: a check run in this process
    try:
        todos, staff = (cfg.reports().generation((table,)) for table in ("dq_todo", "dq_staff"))
        with other.begin() as conn:  # a write to a table no page reads moves nothing
            conn.execute(sa.text("UPDATE dq_session SET expires_at = expires_at"))
        assert cfg.reports().generation(("dq_todo",)) == todos
        with other.begin() as conn:
            for statement in CLOSE_ONE:
                conn.execute(sa.text(statement))
            assert cfg.reports().generation(("dq_todo",)) == todos, "moved before the commit"
        assert cfg.reports().generation(("dq_todo",)) != todos, "the commit in this process moved nothing"
        assert cfg.reports().generation(("dq_staff",)) == staff, "a table nobody wrote moved"
    finally:
        other.dispose()
    _assert_pages_show_the_change(client, before, monkeypatch)  # no waiting: the commit moved it


def test_a_portal_that_lost_its_listener_computes_every_page_until_it_listens_again(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank, client, cfg = served.bank, served.client, served.cfg
    before = {path: _page(client, path) for path in PAGES}
    with bank.store.connect() as conn:
        killed = (
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query = 'LISTEN dqgov_reporting'"
                )
            )
            .scalars()
            .all()
        )
    assert killed == [True], "no listening connection to drop"
    deadline = time.monotonic() + 5
    while cfg.reports().generation() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    _change_elsewhere(_store_url(bank))  # while nobody listens, or just as the listener comes back
    # at once: computed, or kept under the generation of the listener's reconnection
    _assert_pages_show_the_change(client, before, monkeypatch)
    deadline = time.monotonic() + 10  # listening again after the retry delay: pages are cached again
    while cfg.reports().generation() is None and time.monotonic() < deadline:
        time.sleep(0.1)
        _page(client, "/dashboard")
    _page(client, "/dashboard")
    misses = cfg.reports().misses
    _page(client, "/dashboard")
    assert cfg.reports().misses == misses, "pages are not kept again once the listener is back"


def test_nothing_is_cached_on_sqlite(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    with _portal(bank) as (client, cfg):
        before = {path: _page(client, path) for path in PAGES}
        with bank.store.begin() as conn:
            for statement in CLOSE_ONE:
                conn.execute(sa.text(statement))
        assert cfg.reports().generation() is None
        for path in PAGES:
            after = _page(client, path)
            assert after != before[path]
        assert cfg.reports().hits == 0


def test_a_fixed_to_do_recomputes_the_dashboards_but_not_a_stored_days_summary_table(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank, client, cfg = served.bank, served.client, served.cfg
    take_snapshot(bank.store, CHECK_DATE)  # the summary table shows this stored day
    before = {path: _page(client, path) for path in PAGES}
    _change_elsewhere(_store_url(bank), CLOSE_ONE[:1])  # a to-do fixed, the snapshot as it was
    after = _next_page_changes(client, "/dashboard", before["/dashboard"])
    assert after != before["/dashboard"] and after == _uncached(client, "/dashboard", monkeypatch)
    misses = cfg.reports().misses
    assert _page(client, "/summary") == before["/summary"]
    assert cfg.reports().misses == misses, "the stored day's summary table was computed again"
    assert _uncached(client, "/summary", monkeypatch) == before["/summary"]
