"""Run a suite against a source database: Great Expectations validates, the extractor streams every failing key.

GX runs each rule as an `UnexpectedRowsExpectation` on its SQL engine (the data stays in the database)
and reports how many rows fail. GX keeps at most 200 of them, so the failing keys themselves come from
one streamed scan of the table (`compiler.extraction_query`). The counts of the two must agree; a rule
where they do not (the source changed in between, or GX raised) is reported and its to-dos are not
closed on this run.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from expectations.compiler import FLAG_PREFIX, extraction_query, gx_unexpected_rows_query
from expectations.kinds import CheckContext
from expectations.rulebook import Rule, Suite

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
    record_key: str
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


def validate_with_gx(source_url: str, suite: Suite, ctx: CheckContext) -> GxValidation:
    """Validate the suite's table with Great Expectations; one UnexpectedRowsExpectation per rule."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    started = time.perf_counter()
    import great_expectations as gx
    from great_expectations import expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    dialect = sa.create_engine(source_url).dialect
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = context.data_sources.add_sql(name="source", connection_string=source_url)
    asset = datasource.add_table_asset(name=suite.table, table_name=suite.table)
    batch = asset.add_batch_definition_whole_table(name=f"{suite.table}_whole_table")
    gx_suite = gx.ExpectationSuite(name=f"dqgov_{suite.table}")
    for rule in suite.rules:
        gx_suite.add_expectation(
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=gx_unexpected_rows_query(suite, rule, ctx, dialect),
                description=f"{rule.id} [{rule.clause_text}] {rule.description}",
                meta={"rule_id": rule.id, "clauses": list(rule.clauses)},
            )
        )
    gx_suite = context.suites.add(gx_suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"dqgov_{suite.table}_validation", data=batch, suite=gx_suite)
    )
    result = definition.run(result_format="SUMMARY")
    outcomes: dict[str, RuleOutcome] = {}
    for res in result.results:
        assert res.expectation_config is not None
        rule_id = res.expectation_config.meta["rule_id"]
        info = res.exception_info or {}
        if info.get("raised_exception"):
            message = str(info.get("exception_message") or "GX raised an exception").splitlines()[0]
            outcomes[rule_id] = RuleOutcome(rule_id, error=message[:500])
        else:
            outcomes[rule_id] = RuleOutcome(rule_id, unexpected=int(res.result["observed_value"]))
    return GxValidation(
        success=bool(result.success),
        outcomes=outcomes,
        seconds=time.perf_counter() - started,
        gx_version=gx.__version__,
    )


def failing_records(
    engine: sa.Engine, suite: Suite, ctx: CheckContext, batch_size: int = 2000
) -> Iterator[FailingRecord]:
    """Stream every in-scope record that fails at least one rule, with the rules it fails."""
    stmt = extraction_query(suite, ctx)
    n_rules = len(suite.rules)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(stmt)
        for row in result:
            mapping = row._mapping
            flags = [mapping[f"{FLAG_PREFIX}{i}"] for i in range(n_rules)]
            failed = tuple(rule for rule, flag in zip(suite.rules, flags, strict=True) if flag)
            values = {k: v for k, v in mapping.items() if not k.startswith(FLAG_PREFIX)}
            yield FailingRecord(
                record_key=str(mapping[suite.key]),
                inst_code=mapping["inst_code"],
                mgr_staff_id=mapping["mgr_staff_id"],
                values=values,
                rules=failed,
            )


def count_records(engine: sa.Engine, suite: Suite) -> tuple[int, int]:
    """(records in the table, records in scope)."""
    table = sa.table(suite.table, sa.column("status"))
    out = table.c.status.in_(list(suite.out_of_scope_statuses))
    stmt = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((out, 1), else_=0)), 0))
    with engine.connect() as conn:
        total, closed = conn.execute(stmt.select_from(table)).one()
    return int(total), int(total) - int(closed)
