"""The store the workflow tests share: a fresh one per test, with the demo organisation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from remediation.store.engines import open_store
from tests.dbenv import Databases
from tests.storedata import seed_org


@pytest.fixture
def store(databases: Databases) -> sa.Engine:
    engine = open_store(databases.new("store"))
    seed_org(engine)
    return engine
