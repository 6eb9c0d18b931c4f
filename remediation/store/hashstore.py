"""The store's side of the value-hash key: which key chain its hashes were made with, and rewriting them.

`dq_hash_key` lists the ids of the chain's keys (`hashkey.key_id`), oldest first. Every process that
opens the store checks that it hashes with that chain (`check_key`), so a worker with a missing or
different key stops with one line instead of lapsing every exemption; `rotate` adds a key and rewrites
every stored hash `h` into `HMAC(Knew, h)` in one transaction, so exemptions keep holding.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from remediation.clock import now
from remediation.store.engines import safe_url
from remediation.store.hashkey import HashKeyError, KeyChain, append_key, file_lock, fold, load_chain
from remediation.store.tablelock import lock_table
from remediation.workflow.audit import audit

# every column that holds a value hash (a finding's, a to-do's and its before-images', an appeal's, an
# exemption's)
HASHED_TABLES = ("dq_finding", "dq_todo", "dq_todo_before", "dq_appeal", "dq_exemption")
IN_FLIGHT = ("validating", "validated")  # check runs that may still stage findings
_LOCK_KEY = 4_242_003  # PostgreSQL advisory lock: one key change at a time (4_242_002 is the audit chain's)
_BATCH = 5000
_HEX64 = re.compile(r"[0-9a-f]{64}")

hash_key_table = sa.table(
    "dq_hash_key", sa.column("position", sa.Integer), sa.column("key_id", sa.String), sa.column("added_at")
)


def registered_ids(conn: sa.Connection) -> tuple[str, ...]:
    """The ids of the keys the store's hashes are under, oldest first (empty: none recorded yet)."""
    rows = conn.execute(sa.select(hash_key_table.c.key_id).order_by(hash_key_table.c.position))
    return tuple(rows.scalars())


def register(conn: sa.Connection, ids: Sequence[str]) -> None:
    """Record `ids` as the store's key chain, keeping the rows of the keys it already had."""
    have = registered_ids(conn)
    if tuple(ids[: len(have)]) != have:
        conn.execute(sa.delete(hash_key_table))
        have = ()
    at = now()
    rows = [{"position": n, "key_id": k, "added_at": at} for n, k in enumerate(ids) if n >= len(have)]
    if rows:
        conn.execute(sa.insert(hash_key_table), rows)


def _lock(conn: sa.Connection) -> None:
    """Hold the key chain for this transaction (PostgreSQL: an advisory lock; SQLite: the write lock)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    else:
        conn.execute(sa.update(hash_key_table).values(position=hash_key_table.c.position))


def rewrite_hashes(conn: sa.Connection, keys: Sequence[bytes]) -> int:
    """Fold every stored value hash through `keys` (`h` → HMAC(Kn, … HMAC(K1, h))); returns how many.

    Set-based: the distinct hashes of the four tables are mapped once into a temporary table, then each
    table is updated from it. A value that is not a 64-digit hex hash is left alone (it matches nothing).
    """
    if not keys:
        return 0
    tables = [sa.table(name, sa.column("value_hash", sa.String)) for name in HASHED_TABLES]
    every = sa.union(*(sa.select(t.c.value_hash).where(t.c.value_hash.is_not(None)) for t in tables))
    mapping = sa.Table(
        "dq_hash_rewrite",
        sa.MetaData(),
        sa.Column("old_hash", sa.String(64), primary_key=True),
        sa.Column("new_hash", sa.String(64), nullable=False),
        prefixes=["TEMPORARY"],
    )
    mapping.create(conn)  # an error rolls it back with everything else
    count = 0
    for batch in conn.execute(every, execution_options={"yield_per": _BATCH}).scalars().partitions():
        rows = [
            {"old_hash": h, "new_hash": fold(keys, bytes.fromhex(h)).hex()}
            for h in batch
            if _HEX64.fullmatch(h)
        ]
        if rows:
            conn.execute(sa.insert(mapping), rows)
        count += len(rows)
    for t in tables:
        new = sa.select(mapping.c.new_hash).where(mapping.c.old_hash == t.c.value_hash).scalar_subquery()
        conn.execute(
            sa.update(t).where(t.c.value_hash.in_(sa.select(mapping.c.old_hash))).values(value_hash=new)
        )
    conn.execute(sa.text("DROP TABLE dq_hash_rewrite"))  # `mapping.drop` would say DROP TEMPORARY
    return count


def _ids(ids: Sequence[str]) -> str:
    return ", ".join(ids) or "none"


def check_key(store: sa.Engine) -> KeyChain:
    """The chain this process hashes with, after making sure it is the one of the store's hashes.

    A store that records no chain yet takes this process's (generating the key file if need be).
    """
    with store.begin() as conn:
        if not registered_ids(conn):
            _lock(conn)
            if not registered_ids(conn):
                chain = load_chain(create=True)
                register(conn, chain.ids)
                return chain
        registered = registered_ids(conn)
    try:
        chain = load_chain()
    except HashKeyError as exc:
        raise HashKeyError(
            f"{exc}; the store {safe_url(store.url)} hashes with key(s) {_ids(registered)}"
        ) from None
    if chain.ids == registered:
        return chain
    if chain.ids[: len(registered)] == registered:
        raise HashKeyError(
            f"the hash key chain of {chain.origin} has key(s) {_ids(chain.ids[len(registered) :])} that the "
            f"store's hashes are not under yet: run `dqgov hashkey rotate` to finish the rotation"
        )
    raise HashKeyError(
        f"the hash key of {chain.origin} (key(s) {_ids(chain.ids)}) is not the one the store "
        f"{safe_url(store.url)} made its value hashes with (key(s) {_ids(registered)}): every exemption would "
        f"lapse. Restore the key from its backup, or run `dqgov hashkey adopt` to accept that they lapse"
    )


@dataclass(frozen=True)
class KeyChange:
    before: tuple[str, ...]
    after: tuple[str, ...]
    rewritten: int
    origin: str


def _in_flight(conn: sa.Connection) -> list[int]:
    runs = sa.table("dq_check_run", sa.column("id", sa.Integer), sa.column("status", sa.String))
    return list(conn.scalars(sa.select(runs.c.id).where(runs.c.status.in_(IN_FLIGHT)).order_by(runs.c.id)))


def suite_tables_names() -> list[str]:
    from expectations.rulebook import suite_tables

    return sorted(table for table, _ in suite_tables())


def rotate(store: sa.Engine, force: bool = False) -> KeyChange:
    """Add a key to the chain and rewrite every stored hash through it, in one transaction.

    With the key file, a new key is appended to it first (so a crash before the commit leaves the file
    ahead of the store, and running `rotate` again finishes). With DQGOV_HASH_KEY, the operator adds the key
    to the setting first; `rotate` then applies the keys the store's hashes are not under yet.
    Refused while check runs are in flight (they may be staging hashes), unless `force`.
    """
    chain = load_chain()
    lock = contextlib.nullcontext() if chain.from_setting else file_lock(Path(chain.origin))
    with lock, store.begin() as conn:
        _lock(conn)
        for (
            table
        ) in suite_tables_names():  # no reconcile applies findings hashed under the old chain meanwhile
            lock_table(conn, table)
        running = _in_flight(conn)
        if running and not force:
            raise HashKeyError(
                f"check run(s) {', '.join(map(str, running))} are in flight and may be staging hashes: rotate "
                f"when no check is running (or pass --force for runs a killed process left behind)"
            )
        registered = registered_ids(conn)
        chain = load_chain()  # again, under the lock
        if chain.ids == registered:
            chain = append_key(chain)
        elif chain.ids[: len(registered)] != registered:
            raise HashKeyError(
                f"the hash key of {chain.origin} (key(s) {_ids(chain.ids)}) does not extend the store's "
                f"(key(s) {_ids(registered)}): restore the key from its backup before rotating"
            )
        rewritten = rewrite_hashes(conn, chain.keys[len(registered) :])
        register(conn, chain.ids)
        audit(
            conn,
            None,
            "hashkey_rotate",
            detail=f"value-hash key chain {_ids(registered)} -> {_ids(chain.ids)}: {rewritten} hashes rewritten",
        )
    return KeyChange(registered, chain.ids, rewritten, chain.origin)


def adopt(store: sa.Engine) -> KeyChange:
    """Make this process's key chain the store's, when the old key is lost for good.

    The stored hashes cannot be carried over: every exemption lapses at the next run of its table.
    """
    with store.begin() as conn:
        _lock(conn)
        registered = registered_ids(conn)
        chain = load_chain(create=True)
        register(conn, chain.ids)
        if chain.ids != registered:
            audit(
                conn,
                None,
                "hashkey_adopt",
                detail=f"value-hash key chain {_ids(registered)} replaced by {_ids(chain.ids)}: "
                f"exemptions lapse at the next run",
            )
    return KeyChange(registered, chain.ids, 0, chain.origin)
