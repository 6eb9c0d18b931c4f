"""The store upgrades itself, its migrations match the models, and bad store URLs are named."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from remediation.errors import StoreError
from remediation.store.engines import create_engine, open_store, upgrade
from remediation.store.models import Base


def test_migrations_create_exactly_the_models(databases: Any) -> None:
    engine = open_store(databases.new("store"))
    upgrade(engine)  # a second upgrade is a no-op
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_a_postgresql_engine_keeps_the_pool_the_setting_asks_for(
    databases: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connections come back to a pool of DQGOV_DB_POOL_SIZE and stay open (SQLAlchemy's 5 made twenty portal
    users open and close a PostgreSQL server process for most pages); SQLite keeps SQLAlchemy's own pool."""
    url = databases.new("store")
    monkeypatch.setenv("DQGOV_DB_POOL_SIZE", "7")
    engine = create_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            assert engine.pool.size() == 5
            return
        held = [engine.connect() for _ in range(7)]
        pids = {conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() for conn in held}
        for conn in held:
            conn.close()
        assert (engine.pool.size(), engine.pool.checkedin()) == (7, 7)  # all seven kept, none closed
        again = [engine.connect() for _ in range(7)]
        assert {conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() for conn in again} == pids
        for conn in again:
            conn.close()
    finally:
        engine.dispose()


def test_an_unreachable_store_is_named_without_its_password() -> None:
    with pytest.raises(StoreError) as raised:
        open_store("postgresql+psycopg://bank:secret@127.0.0.1:1/dqgov")
    message = str(raised.value)
    assert message.startswith(
        "cannot connect to store database postgresql+psycopg://bank:***@127.0.0.1:1/dqgov"
    )
    assert "secret" not in message


def test_store_tables_do_not_clash_with_source_tables() -> None:
    from expectations.contract import SOURCE_METADATA

    assert not set(Base.metadata.tables) & set(SOURCE_METADATA.tables)
    assert all(name.startswith("dq_") for name in Base.metadata.tables)


def test_the_embedded_default_is_a_sqlite_file_under_var(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DQGOV_STORE_URL", raising=False)
    monkeypatch.setenv("DQGOV_HOME", str(tmp_path))
    engine = open_store()
    assert engine.url.database == str(tmp_path / "var" / "dqgov.sqlite")
    with engine.connect() as conn:
        assert sa.inspect(conn).has_table("dq_todo")
