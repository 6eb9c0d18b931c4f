"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL, and tiny source banks.

PostgreSQL is the machine's server (DQGOV_TEST_PG_URL, default postgres@127.0.0.1:5432 with trust auth);
each test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dbenv import BACKENDS, Databases

os.environ["GX_ANALYTICS_ENABLED"] = "false"
# every test starts with an empty bank calendar (a file nobody writes), whatever var/ holds; a test that
# needs one passes its own file (or sets DQGOV_CALENDAR_FILE for the processes it starts)
os.environ["DQGOV_CALENDAR_FILE"] = str(
    Path(tempfile.mkdtemp(prefix="dqgov-tests-")) / "no_bank_calendar.yml"
)
# one value-hash key for the session, outside the worktree (child processes inherit it)
_KEY_FOLDER = tempfile.mkdtemp(prefix="dqgov-test-key-")
atexit.register(shutil.rmtree, _KEY_FOLDER, True)
os.environ["DQGOV_HASH_KEY_FILE"] = os.path.join(_KEY_FOLDER, "secrets", "hash.key")
os.environ.pop("DQGOV_HASH_KEY", None)


@pytest.fixture(params=BACKENDS)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    dbs = Databases(request.param, tmp_path)
    yield dbs
    dbs.drop_all()


@pytest.fixture
def sqlite_databases(tmp_path: Path) -> Iterator[Databases]:
    yield Databases("sqlite", tmp_path)


@pytest.fixture
def pg_databases(tmp_path: Path) -> Iterator[Databases]:
    """PostgreSQL only: for what SQLite does not have (NOTIFY), the SQLite side tested on its own."""
    dbs = Databases("postgresql", tmp_path)
    yield dbs
    dbs.drop_all()
