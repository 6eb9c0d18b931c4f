"""The audit log is append-only and hash-chained: the database refuses changes, and `dqgov audit verify`
names the first broken link after an attacker with database rights (triggers dropped) changed, deleted
or inserted an entry. Appends from concurrent processes never fork the chain."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from subprocess import PIPE
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from remediation.store.engines import alembic_config, open_store
from remediation.store.workflow_models import AuditEntry
from remediation.workflow.audit import audit
from remediation.workflow.auditchain import entry_hash, verify_chain

DQGOV = str(Path(sys.executable).with_name("dqgov"))
REPO = Path(__file__).resolve().parents[3]


def dqgov(store_url: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DQGOV_STORE_URL": store_url, "DQGOV_HOME": str(home)}
    return subprocess.run([DQGOV, *args], env=env, capture_output=True, text=True, timeout=300)


def url_of(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def logged(engine: sa.Engine, n: int = 6) -> None:
    for i in range(1, n + 1):
        audit(engine, f"M10{i % 3}", "login", detail=f"第{i}次登录", client="10.0.0.7")


def drop_triggers(conn: sa.Connection) -> None:
    """What an attacker with rights on the database does first."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER dq_audit_no_change ON dq_audit")
        conn.exec_driver_sql("DROP TRIGGER dq_audit_no_truncate ON dq_audit")
    else:
        conn.exec_driver_sql("DROP TRIGGER dq_audit_no_update")
        conn.exec_driver_sql("DROP TRIGGER dq_audit_no_delete")


def refused(engine: sa.Engine, statement: str) -> str:
    with pytest.raises(sa.exc.DBAPIError) as raised, engine.begin() as conn:
        conn.exec_driver_sql(statement)
    return str(raised.value.orig)


def test_the_database_refuses_to_change_or_delete_entries(databases: Any) -> None:
    store = open_store(databases.new("store"))
    logged(store, 3)
    assert "append-only: UPDATE" in refused(
        store, "UPDATE dq_audit SET detail = 'nothing happened' WHERE id = 2"
    )
    assert "append-only: DELETE" in refused(store, "DELETE FROM dq_audit WHERE id = 2")
    assert "append-only: DELETE" in refused(store, "DELETE FROM dq_audit")
    if databases.backend == "postgresql":
        assert "append-only: TRUNCATE" in refused(store, "TRUNCATE dq_audit")
    with store.connect() as conn:
        details = conn.scalars(sa.select(AuditEntry.detail).order_by(AuditEntry.id)).all()
    assert details == ["第1次登录", "第2次登录", "第3次登录"]


def test_verify_says_intact_with_the_count_and_the_newest_hash(databases: Any, tmp_path: Path) -> None:
    store = open_store(databases.new("store"))
    done = dqgov(url_of(store), tmp_path, "audit", "verify")
    assert (done.returncode, done.stdout) == (0, "audit log intact: 0 entries\n"), done.stderr
    logged(store)
    done = dqgov(url_of(store), tmp_path, "audit", "verify")
    assert done.returncode == 0, done.stderr
    with store.connect() as conn:
        newest = conn.execute(
            sa.select(AuditEntry.id, AuditEntry.row_hash).order_by(AuditEntry.id.desc())
        ).first()
    assert newest is not None
    assert done.stdout == f"audit log intact: 6 entries\nnewest entry 6, hash {newest.row_hash}\n"


def _forge(conn: sa.Connection, entry_id: int, prev_hash: str, *, valid: bool) -> None:
    """An entry an attacker writes, with a made-up hash or with one computed the way the platform does."""
    at = conn.scalar(sa.select(AuditEntry.at).where(AuditEntry.id == entry_id - 1))
    fields: dict[str, Any] = {
        "at": at,
        "staff_id": "D001",
        "action": "export",
        "table_name": None,
        "record_key": None,
        "detail": "findings csv",
        "client": "10.0.0.9",
    }
    row_hash = entry_hash(entry_id, prev_hash=prev_hash, **fields) if valid else "f" * 64
    conn.execute(sa.insert(AuditEntry).values(id=entry_id, prev_hash=prev_hash, row_hash=row_hash, **fields))


def _insert_in_the_middle(conn: sa.Connection, *, valid: bool) -> None:
    """Shift entries 3.. up by one and put a forged entry 3 in the hole."""
    conn.exec_driver_sql("UPDATE dq_audit SET id = -id WHERE id >= 3")
    conn.exec_driver_sql("UPDATE dq_audit SET id = 1 - id WHERE id < 0")
    two = conn.scalar(sa.select(AuditEntry.row_hash).where(AuditEntry.id == 2))
    assert two is not None
    if valid:  # a correct link to entry 2 would clash with the shifted entry's unique prev_hash
        _drop_unique_prev_hash(conn)
    _forge(conn, 3, two if valid else "e" * 64, valid=valid)


def _drop_unique_prev_hash(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE dq_audit DROP CONSTRAINT uq_dq_audit_prev_hash")
        return
    # SQLite cannot drop a constraint: copy the table without any
    conn.exec_driver_sql("CREATE TABLE dq_audit_copy AS SELECT * FROM dq_audit")
    conn.exec_driver_sql("DROP TABLE dq_audit")
    conn.exec_driver_sql("ALTER TABLE dq_audit_copy RENAME TO dq_audit")


def _rehash(conn: sa.Connection, entry_id: int) -> None:
    """Change an entry and give it a correct hash for its new content."""
    conn.execute(sa.update(AuditEntry).where(AuditEntry.id == entry_id).values(detail="nothing happened"))
    row = conn.execute(sa.select(AuditEntry.__table__).where(AuditEntry.id == entry_id)).one()
    new = entry_hash(
        row.id,
        row.at,
        row.staff_id,
        row.action,
        row.table_name,
        row.record_key,
        row.detail,
        row.client,
        row.prev_hash,
    )
    conn.execute(sa.update(AuditEntry).where(AuditEntry.id == entry_id).values(row_hash=new))


TAMPERING = {
    "update": (
        lambda conn: conn.exec_driver_sql("UPDATE dq_audit SET detail = 'nothing happened' WHERE id = 3"),
        "audit log broken at entry 3: entry 3 was changed after it was written",
    ),
    "update-and-rehash": (
        lambda conn: _rehash(conn, 3),
        "audit log broken at entry 4: entry 4 does not link to entry 3 (prev_hash mismatch)",
    ),
    "delete": (
        lambda conn: conn.exec_driver_sql("DELETE FROM dq_audit WHERE id = 3"),
        "audit log broken at entry 3: entry 3 is missing (deleted): entry 4 links to a row that is not there",
    ),
    "delete-two": (
        lambda conn: conn.exec_driver_sql("DELETE FROM dq_audit WHERE id IN (2, 3)"),
        "audit log broken at entry 2: entries 2-3 are missing (deleted)",
    ),
    "delete-first": (
        lambda conn: conn.exec_driver_sql("DELETE FROM dq_audit WHERE id = 1"),
        "audit log broken at entry 1: entry 1 is missing (deleted)",
    ),
    "insert": (
        lambda conn: _insert_in_the_middle(conn, valid=False),
        "audit log broken at entry 3: entry 3 was inserted: entry 4 links to entry 2 before it",
    ),
    "insert-with-a-valid-hash": (
        lambda conn: _insert_in_the_middle(conn, valid=True),
        "audit log broken at entry 3: entry 3 was inserted: entry 4 links to entry 2 before it",
    ),
}


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_verify_names_the_first_broken_link(databases: Any, tmp_path: Path, tampering: str) -> None:
    store = open_store(databases.new("store"))
    logged(store)
    tamper, expected = TAMPERING[tampering]
    with store.begin() as conn:
        drop_triggers(conn)
        tamper(conn)
    done = dqgov(url_of(store), tmp_path, "audit", "verify")
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(expected), done.stdout
    assert done.stderr == ""


def test_the_portal_window_checks_only_the_newest_entries(databases: Any) -> None:
    store = open_store(databases.new("store"))
    logged(store)
    with store.begin() as conn:
        drop_triggers(conn)
        conn.exec_driver_sql("UPDATE dq_audit SET detail = 'nothing happened' WHERE id = 2")
    assert verify_chain(store, newest=4).intact  # entries 3-6, linked from entry 2's stored hash
    window = verify_chain(store, newest=5)
    assert (window.broken_at, window.problem, window.complete) == (2, "changed", False)
    assert verify_chain(store, newest=100).complete


def test_an_entry_joins_the_callers_transaction_and_a_rollback_leaves_no_trace(databases: Any) -> None:
    store = open_store(databases.new("store"))
    logged(store, 2)
    with store.connect() as conn:
        conn.begin()
        audit(conn, "D001", "export", detail="rolled back")
        conn.rollback()
    audit(store, "D001", "export", detail="kept")
    with store.connect() as conn:
        rows = conn.execute(sa.select(AuditEntry.id, AuditEntry.detail).order_by(AuditEntry.id)).all()
    assert [tuple(r) for r in rows] == [(1, "第1次登录"), (2, "第2次登录"), (3, "kept")]
    assert verify_chain(store).intact


WRITER = textwrap.dedent(
    """
    import sys
    from remediation.workflow.audit import audit
    from remediation.store.engines import open_store
    store = open_store(sys.argv[1])
    for i in range(int(sys.argv[3])):
        audit(store, sys.argv[2], "login", detail=f"{sys.argv[2]} {i}", client="10.0.0.1")
    """
)


def test_concurrent_writers_never_fork_the_chain(databases: Any) -> None:
    store = open_store(databases.new("store"))
    audit(store, "D001", "login")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, url_of(store), f"W{n}", "40"], env=env, stderr=PIPE)
        for n in range(4)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err.decode()
    with store.connect() as conn:
        ids = conn.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)).all()
    assert ids == list(range(1, 162))
    report = verify_chain(store)
    assert (report.intact, report.entries) == (True, 161), report.reason


def test_the_migration_chains_the_entries_already_there(databases: Any) -> None:
    url = databases.new("store")
    engine = sa.create_engine(url)
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0003")
    legacy = sa.table(
        "dq_audit",
        *(sa.column(c) for c in ("id", "staff_id", "action", "detail", "client")),
        sa.column("at", sa.DateTime(timezone=True)),
    )
    at = dt.datetime(2026, 11, 20, 1, 30, 0, 123456, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(legacy),
            [
                {
                    "id": 1,
                    "at": at,
                    "staff_id": "M101",
                    "action": "login",
                    "detail": None,
                    "client": "10.0.0.7",
                },
                {
                    "id": 2,
                    "at": at,
                    "staff_id": None,
                    "action": "login_failed",
                    "detail": "unknown login 'x'",
                    "client": None,
                },
                {
                    "id": 5,
                    "at": at,
                    "staff_id": "M101",
                    "action": "unmasked_view",
                    "detail": "to-do 7: 张三",
                    "client": "10.0.0.7",
                },
            ],
        )
    engine.dispose()
    store = open_store(url)
    assert verify_chain(store).entries == 3 and verify_chain(store).intact
    audit(store, "M101", "logout")
    report = verify_chain(store)
    assert (report.intact, report.entries, report.newest and report.newest.id) == (True, 4, 6)
    assert "append-only" in refused(store, "DELETE FROM dq_audit WHERE id = 5")
