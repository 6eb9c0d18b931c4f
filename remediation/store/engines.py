"""Opening the governance store (a new engine for each call; callers keep and pass it), upgraded to the latest
migration once per process and URL."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from remediation import settings
from remediation.errors import SourceError, StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK_KEY = 4_242_001  # PostgreSQL advisory lock: one upgrader at a time
_upgraded: set[str] = set()
_lock = threading.Lock()


def safe_url(url: str | sa.URL) -> str:
    """The URL as it may be shown or stored: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def create_engine(url: str, what: str = "store") -> sa.Engine:
    """An engine for `url`, with a clear error naming `what` when the URL is unusable.

    `what` is "store" or "source"; a source SQLite file must exist, a store's folder is created.
    """
    error = StoreError if what == "store" else SourceError
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise error(f"{what} URL {url!r} is not a SQLAlchemy URL (e.g. sqlite:///var/dqgov.sqlite)") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        if what == "store":
            folder.mkdir(parents=True, exist_ok=True)
        elif not Path(parsed.database).exists():
            raise error(f"{what} database file {parsed.database} does not exist")
    # a pool of DQGOV_DB_POOL_SIZE kept open: with SQLAlchemy's default of 5, twenty portal users at once
    # made the pool open and close a PostgreSQL connection (a server process) for most pages
    pooled = (
        {}
        if parsed.get_backend_name() == "sqlite"
        else {"pool_size": settings.positive_of("DQGOV_DB_POOL_SIZE")}
    )
    try:
        engine = sa.create_engine(parsed, pool_pre_ping=True, **pooled)
    except (NoSuchModuleError, ImportError) as exc:
        raise error(f"{what} URL {safe_url(parsed)}: no database driver for it ({exc})") from None
    if parsed.get_backend_name() == "sqlite" and what == "store":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def ping(engine: sa.Engine, what: str) -> None:
    error = StoreError if what == "store" else SourceError
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise error(f"cannot connect to {what} database {safe_url(engine.url)}: {reason}") from None


def alembic_config(engine: sa.Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: sa.Engine) -> None:
    """Bring the store's schema to the latest migration (idempotent, safe with concurrent callers)."""
    ping(engine, "store")
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreError(f"cannot upgrade store {safe_url(engine.url)}: {reason}") from None


def open_store(url: str | None = None) -> sa.Engine:
    """The store at `url` (default: DQGOV_STORE_URL), upgraded once per process.

    Also checks, once per process, that this process hashes values with the store's key chain
    (`remediation.hashstore.check_key`): a missing or different key stops here, in one line.
    """
    from remediation.store.hashstore import check_key

    url = url or settings.get("DQGOV_STORE_URL")
    engine = create_engine(url, "store")
    key = engine.url.render_as_string(hide_password=False)
    with _lock:
        if key not in _upgraded:
            upgrade(engine)
            check_key(engine)
            _upgraded.add(key)
    return engine
