"""Run a suite against a source database: Great Expectations validates, the extractor streams every failing key.

GX runs each rule as a dqgov expectation (`expectations.gx.expectations`) on its SQL engine, so the data
stays in the database, and reports how many records fail: one aggregate query counts every rule of the
suite over `compiler.gx_batch_query` (the table with the values rules share computed once per row). GX would keep at most 200 of them, so the
failing keys themselves come from one streamed scan of the table (`compiler.extraction_query`). The
counts of the two must agree; a rule where they do not (the source changed in between, or GX raised)
is reported and its to-dos are not closed on this run.

The same expectations run on a pandas DataFrame (`validate_dataframe_with_gx`), for records that come
as a file, and give the same counts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from expectations.compiler import FLAG_PREFIX, extraction_query, gx_batch_query
from expectations.kinds import CheckContext
from expectations.rulebook import Rule, Suite

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.data_context import AbstractDataContext

log = logging.getLogger(__name__)


@dataclass
class RuleOutcome:
    rule_id: str
    unexpected: int | None = None  # GX's count of failing rows
    extracted: int = 0  # keys the extractor streamed
    error: str | None = None

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        if self.unexpected != self.extracted:
            return "mismatch"
        return "ok"


@dataclass(frozen=True)
class FailingRecord:
    record_key: str | None  # None: a defective source row without a key
    inst_code: str | None
    mgr_staff_id: str | None
    values: Mapping[str, Any]
    rules: tuple[Rule, ...]


@dataclass
class GxValidation:
    success: bool
    outcomes: dict[str, RuleOutcome] = field(default_factory=dict)
    seconds: float = 0.0
    gx_version: str = ""


def validate_with_gx(
    source: sa.Engine, suite: Suite, ctx: CheckContext, where: Sequence[ColumnElement[bool]] = ()
) -> GxValidation:
    """Validate the suite's table in its database with Great Expectations, one dqgov expectation per rule.

    Each rule's condition runs in the database (GX's SQL engine, which opens its own engine on the same URL);
    `outcomes[rule_id].unexpected` is the number of in-scope records that fail the rule, or `error` says why
    GX could not tell. With `where`, GX validates only the rows matching it (an incremental run's records).
    """
    started = time.perf_counter()
    context = _gx_context()
    url = source.url.render_as_string(hide_password=False)
    # GX's engine is its own: PostgreSQL's JIT would compile the long aggregate for longer than it runs.
    options = {"connect_args": {"options": "-c jit=off"}} if source.dialect.name == "postgresql" else {}
    datasource = context.data_sources.add_sql(name="source", connection_string=url, kwargs=options)  # type: ignore[call-arg]
    query = gx_batch_query(suite, ctx, where).compile(source, compile_kwargs={"literal_binds": True})
    asset = datasource.add_query_asset(name=suite.table, query=str(query))
    batch = asset.add_batch_definition_whole_table(name=f"{suite.table}_whole_table")
    try:
        return _validate(context, batch, suite, ctx, started, with_active_staff=False, derived=True)
    finally:
        datasource.get_engine().dispose()


def validate_dataframe_with_gx(frame: pd.DataFrame, suite: Suite, ctx: CheckContext) -> GxValidation:
    """Validate records held in a pandas DataFrame (a file, say) with the same expectations, in Python.

    The frame has the source table's columns. `ctx.active_staff` must be set for the staff rules (G3):
    there is no staff table to look them up in.
    """
    started = time.perf_counter()
    context = _gx_context()
    asset = context.data_sources.add_pandas(name="frame").add_dataframe_asset(name=suite.table)
    batch = asset.add_batch_definition_whole_dataframe(name=f"{suite.table}_whole_frame")
    return _validate(
        context, batch, suite, ctx, started, with_active_staff=True, batch_parameters={"dataframe": frame}
    )


def _gx_context() -> AbstractDataContext:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _validate(
    context: AbstractDataContext,
    batch: BatchDefinition[Any],
    suite: Suite,
    ctx: CheckContext,
    started: float,
    with_active_staff: bool,
    batch_parameters: dict[str, Any] | None = None,
    derived: bool = False,
) -> GxValidation:
    import great_expectations as gx

    from expectations.gx.expectations import expectations_for

    # Passed whole: `ExpectationSuite.add_expectation` compares each new expectation with all before it.
    expectations = expectations_for(suite, ctx, with_active_staff=with_active_staff, derived=derived)
    gx_suite = context.suites.add(gx.ExpectationSuite(name=f"dqgov_{suite.table}", expectations=expectations))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"dqgov_{suite.table}_validation", data=batch, suite=gx_suite)
    )
    # GX's sample of failing rows would carry unmasked ID and account numbers, and the keys come from
    # the extractor anyway: ask for counts only.
    result = definition.run(
        batch_parameters=batch_parameters,
        result_format={"result_format": "BASIC", "partial_unexpected_count": 0},
    )
    outcomes: dict[str, RuleOutcome] = {}
    for res in result.results:
        assert res.expectation_config is not None
        rule_id = res.expectation_config.meta["rule_id"]
        error = _gx_error(res.exception_info or {})
        if error is not None:
            outcomes[rule_id] = RuleOutcome(rule_id, error=error)
        elif res.result.get("unexpected_count") is None:
            outcomes[rule_id] = RuleOutcome(rule_id, error="GX reported no unexpected_count")
        else:
            outcomes[rule_id] = RuleOutcome(rule_id, unexpected=int(res.result["unexpected_count"]))
    return GxValidation(
        success=bool(result.success),
        outcomes=outcomes,
        seconds=time.perf_counter() - started,
        gx_version=gx.__version__,
    )


def _gx_error(info: Mapping[str, Any]) -> str | None:
    # GX reports an expectation's own exception flat, but a failed metric nested under the metric's id
    # (great_expectations/validator/validator.py, `graph_validate`).
    for entry in (info, *(v for v in info.values() if isinstance(v, Mapping))):
        if entry.get("raised_exception"):
            message = str(entry.get("exception_message") or "GX raised an exception").splitlines()
            return (message[0] if message else "GX raised an exception")[:500]
    return None


def failing_records(
    engine: sa.Engine,
    suite: Suite,
    ctx: CheckContext,
    batch_size: int = 2000,
    record_key: str | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> Iterator[FailingRecord]:
    """Stream every in-scope record that fails at least one rule, with the rules it fails.

    With `record_key`, only that record (a targeted re-check); `where` restricts the records read (see
    `compiler.extraction_query`).
    """
    stmt = extraction_query(suite, ctx, record_key, where)
    n_rules = len(suite.rules)
    with engine.connect() as conn:
        rows = (
            _streamed_pg(conn, stmt, batch_size)
            if conn.dialect.name == "postgresql"
            else _streamed(conn, stmt, batch_size)
        )
        # Closed before the connection: a stream left suspended holds psycopg's connection lock, and the
        # connection's rollback at close would wait for it for ever (a caller that stops early, or fails).
        with contextlib.closing(rows):
            for mapping in rows:
                flags = [mapping[f"{FLAG_PREFIX}{i}"] for i in range(n_rules)]
                failed = tuple(rule for rule, flag in zip(suite.rules, flags, strict=True) if flag)
                values = {k: v for k, v in mapping.items() if not k.startswith(FLAG_PREFIX)}
                yield FailingRecord(
                    record_key=None if mapping[suite.key] is None else str(mapping[suite.key]),
                    inst_code=mapping["inst_code"],
                    mgr_staff_id=mapping["mgr_staff_id"],
                    values=values,
                    rules=failed,
                )


def _streamed(
    conn: sa.Connection, stmt: sa.Select[Any], batch_size: int
) -> Generator[Mapping[Any, Any], None, None]:
    for row in conn.execution_options(stream_results=True, yield_per=batch_size).execute(stmt):
        yield row._mapping


def _streamed_pg(
    conn: sa.Connection, stmt: sa.Select[Any], batch_size: int
) -> Generator[Mapping[Any, Any], None, None]:
    """The rows of `stmt` as the server sends them (in chunks of `batch_size` from libpq 17 on, row by row
    before), not through a server-side cursor: PostgreSQL runs no parallel workers for a cursor's query
    (DECLARE … FETCH), and the extraction's layers are made to be evaluated by them (`expectations.derived`)."""
    # The compiled statement is long; PostgreSQL's JIT spends more compiling it than it saves (at 30k
    # merchants: 1.7 s with JIT, 1.2 s without). For this transaction only.
    conn.exec_driver_sql("SET LOCAL jit = off")
    compiled = stmt.compile(conn, compile_kwargs={"render_postcompile": True})
    driver = conn.connection.driver_connection
    assert driver is not None
    chunk = batch_size if psycopg.pq.version() >= 170000 else 1
    with driver.cursor() as cur:
        names: list[str] | None = None
        for values in cur.stream(compiled.string, compiled.params, size=chunk):
            if names is None:
                names = [d.name for d in cur.description or ()]
            yield dict(zip(names, values, strict=True))


def count_records(engine: sa.Engine, suite: Suite) -> tuple[int, int]:
    """(records in the table, records in scope)."""
    table = sa.table(suite.table, sa.column("status"))
    out = sa.not_(suite.scope.sql(table.c.status))
    stmt = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((out, 1), else_=0)), 0))
    with engine.connect() as conn:
        total, closed = conn.execute(stmt.select_from(table)).one()
    return int(total), int(total) - int(closed)
