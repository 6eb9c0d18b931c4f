"""Opening the bank's source database and verifying it follows the data contract before anything is written.

The contract (`expectations.contract`) names the tables, their columns and each column's kind of type.
A source that lacks a table or column, or whose column holds another kind of value (a phone number stored
as BIGINT, a date stored as text), would make the checks fail half-way, or worse, judge wrongly; it is
refused with one line naming the table, the column, the expected and the found type.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import sqltypes

from expectations.contract import ORG_TABLES, RECORD_TABLES
from remediation.errors import SourceError
from remediation.store.engines import create_engine, ping, safe_url

# contract type → (what we call it, the reflected types that hold such values)
TypeClasses = tuple[type[Any], ...]
_KINDS: tuple[tuple[type[Any], str, TypeClasses], ...] = (
    (sa.Boolean, "boolean", (sa.Boolean, sa.Integer)),  # some databases keep booleans as 0/1
    (sa.DateTime, "timestamp", (sa.DateTime, sa.Date)),
    (sa.Date, "date", (sa.Date,)),  # Oracle's DATE reflects as a DateTime subclass: see _fits
    (sa.Numeric, "number", (sa.Numeric, sa.Integer, sa.Float)),
    (sa.String, "text", (sa.String,)),
)


def _expected(contract_type: sa.types.TypeEngine[Any]) -> tuple[str, TypeClasses]:
    for base, name, accepted in _KINDS:
        if isinstance(contract_type, base):
            return name, accepted
    raise AssertionError(f"no kind for contract type {contract_type!r}")


def _fits(found: sa.types.TypeEngine[Any], name: str, accepted: TypeClasses) -> bool:
    if isinstance(found, sqltypes.NullType):  # SQLite without a declared type: any value may be there
        return True
    if name == "date" and type(found).__name__ == "DATE":  # Oracle DATE (with a time part) holds dates
        return True
    return isinstance(found, accepted) and not (name == "text" and isinstance(found, sa.Enum | sa.Interval))


def verify_contract(engine: sa.Engine, tables: Iterable[str] | None = None) -> None:
    """Raise SourceError naming the first table, column or type that does not follow the contract."""
    wanted = {
        **ORG_TABLES,
        **{t: RECORD_TABLES[t] for t in (tables if tables is not None else RECORD_TABLES)},
    }
    try:
        inspector = sa.inspect(engine)
        present = {name.lower(): name for name in inspector.get_table_names()}
        for name, table in wanted.items():
            if name not in present:
                raise SourceError(
                    f"source {safe_url(engine.url)} has no table {name!r} that the data contract requires",
                    code="source_no_table",
                    table=name,
                )
            columns = {c["name"].lower(): c for c in inspector.get_columns(present[name])}
            missing = [c.name for c in table.c if c.name not in columns]
            if missing:
                raise SourceError(
                    f"source table {name!r} lacks column(s) {', '.join(missing)} of the contract",
                    code="source_no_columns",
                    table=name,
                    columns=", ".join(missing),
                )
            for column in table.c:
                expected, accepted = _expected(column.type)
                found = columns[column.name]["type"]
                if not _fits(found, expected, accepted):
                    raise SourceError(
                        f"source table {name!r} column {column.name!r}: expected {expected}, found {found} "
                        "(the data contract, expectations/contract.py); nothing was checked or changed",
                        code="source_column_type",
                        table=name,
                        column=column.name,
                        expected=str(expected),
                        found=str(found),
                    )
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise SourceError(
            f"cannot read the layout of source {safe_url(engine.url)}: {reason}", code="source_unreachable"
        ) from None


def open_source(url: str, tables: Iterable[str] | None = None) -> sa.Engine:
    """An engine on the source, after checking it has every table, column and type of the contract we need.

    `tables`: the record tables to verify (default all); the org tables are always verified.
    """
    engine = create_engine(url, "source")
    ping(engine, "source")
    verify_contract(engine, list(tables) if tables is not None else None)
    return engine
