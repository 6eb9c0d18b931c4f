"""Custom Great Expectations expectations for the rules: one expectation checks one rule, in SQL or on pandas.

`ExpectRecordsToPassDqgovRule` is a multicolumn map expectation. Its parameters name a rule (`rule_id`,
`rule_table`) and the check date (`check_date`, ISO); the rule itself comes from the rule book
(`expectations.rulebook.load_suites()`, cached) or from the suite `expectations_for` last registered for
that table, so a suite read from another folder works too.
Its metric, `dqgov.rule_passes`, is written for both engines GX runs here:

- SqlAlchemyExecutionEngine: the row passes unless `compiler.failing_condition` holds (scope G1, the rule's
  `when`, then the kind's `sql_fails`), so the data never leaves the database and the condition is the very
  one the key extractor streams;
- PandasExecutionEngine: the rows go through `compiler.python_failures` (the kind's `python_fails` on the
  in-scope rows its `when` selects) after pandas' NaN/NaT/NA become None and Timestamps become dates.

Rows are never dropped for missing values (`ignore_row_if="never"`), so GX's `unexpected_count` is exactly
the number of failing records. The `active_staff` kind reads the source's staff table in SQL; on pandas
there is no staff table, so `expectations_for` registers the context's active staff ids in this process
and the expectations name that list by its digest (`active_staff_digest`).

Every check kind gets a subclass named for it (`ExpectColumnValuesToBeValidUscc` for `uscc`, …) so Data Docs
read well; kinds without a name in `EXPECTATION_NAMES` get `ExpectRecordsToPass<Kind>Check`.

On GX's SQL engine a multicolumn map metric's `unexpected_count` would be one query per expectation (GX
bundles only single-column map metrics into one aggregate query), plus a `count(*)` per expectation.
`RulePasses` registers both the way GX does for single-column metrics, so a whole suite is counted by one
`SELECT sum(CASE …), …` over the batch. With `derived=True` that batch is `compiler.gx_batch_query`, where
the values rules share are computed once per row, as in the key extractor. The sample of failing rows,
asked for empty (`runner`), sends no statement: a whole suite is three statements, whatever its size.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

import pandas as pd
import sqlalchemy as sa
from great_expectations.compatibility import pydantic
from great_expectations.core.metric_function_types import (
    MetricFunctionTypes,
    MetricPartialFunctionTypes,
    SummarizationMetricNameSuffixes,
)
from great_expectations.exceptions import ExpectationNotFoundError
from great_expectations.execution_engine import (
    ExecutionEngine,
    PandasExecutionEngine,
    SqlAlchemyExecutionEngine,
)
from great_expectations.execution_engine.sqlalchemy_execution_engine import (
    _wrap_raw_sql_as_subquery as _gx_wrap_raw_sql,
)
from great_expectations.expectations.expectation import MulticolumnMapExpectation
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
from great_expectations.expectations.metrics.map_metric_provider import MulticolumnMapMetricProvider
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (
    multicolumn_condition_partial,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_map_condition_auxilliary_methods import (
    _sqlalchemy_multicolumn_map_condition_values as _gx_unexpected_values,
)
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider
from great_expectations.expectations.metrics.table_metrics.table_column_types import (
    _get_sqlalchemy_column_metadata as _gx_column_metadata,
)
from great_expectations.expectations.registry import get_expectation_impl, register_metric
from great_expectations.util import camel_to_snake
from great_expectations.validator.metric_configuration import MetricConfiguration
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause, ColumnElement

from expectations.compiler import failing_condition, python_failures, source_columns
from expectations.contract import RECORD_TABLES
from expectations.derived import DerivedValues, deriving
from expectations.kinds import KINDS, CheckContext
from expectations.rulebook import Rule, Suite, load_suites

METRIC = "dqgov.rule_passes"
_KEPT_STAFF_LISTS = 8

_registered: dict[str, Suite] = {}
_staff_lists: OrderedDict[str, frozenset[str]] = OrderedDict()


@functools.cache
def _rulebook() -> Mapping[str, Suite]:
    return {suite.table: suite for suite in load_suites()}


def register_suite(suite: Suite) -> None:
    """Make the expectations find this suite's rules (one not loaded from the rule book, say, in a test)."""
    _registered[suite.table] = suite


def lookup_rule(table: str, rule_id: str) -> tuple[Suite, Rule]:
    """The suite and rule an expectation names: a registered suite first, then the rule book."""
    for suites in (_registered, _rulebook()):
        suite = suites.get(table)
        if suite is not None and any(rule.id == rule_id for rule in suite.rules):
            return suite, suite.rule(rule_id)
    raise KeyError(f"no rule {rule_id} for table {table} in the rule book")


def register_active_staff(staff_ids: Iterable[str]) -> str:
    """Hold a list of active staff ids for the pandas metric; returns the digest expectations name it by."""
    ids = frozenset(staff_ids)
    digest = hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]
    _staff_lists[digest] = ids
    _staff_lists.move_to_end(digest)
    while len(_staff_lists) > _KEPT_STAFF_LISTS:
        _staff_lists.popitem(last=False)
    return digest


def check_context(check_date: str, active_staff_digest: str | None = None) -> CheckContext:
    """The CheckContext an expectation's parameters describe."""
    staff = None
    if active_staff_digest is not None:
        staff = _staff_lists.get(active_staff_digest)
        if staff is None:
            raise KeyError(f"no active staff list {active_staff_digest} was registered in this process")
    return CheckContext(check_date=dt.date.fromisoformat(check_date), active_staff=staff)


def rule_columns(suite: Suite, rule: Rule, ctx: CheckContext) -> list[str]:
    """The record's columns the rule reads: the key, then every column its failing condition refers to.

    Read off the compiled condition, so a new kind needs no list of its own; columns the rule names
    (its `columns`, `when` and column parameters) are added in case only its Python side reads them.
    GX hands the pandas metric only these columns, and wants at least two: the key is always one.
    """
    cols = source_columns(suite.table)
    referenced = {
        element.name
        for element in visitors.iterate(failing_condition(suite, rule, ctx))
        # unqualified columns are the batch's; a subquery's columns belong to its own table
        if isinstance(element, ColumnClause) and element.table is None
    }
    named = {*rule.columns, *rule.when, *(v for v in rule.params.values() if isinstance(v, str))}
    wanted = (referenced | named) & set(cols)
    ordered = [suite.key, *rule.columns, *(name for name in cols if name in wanted)]
    return list(dict.fromkeys(ordered))


def _python_value(value: Any, is_date: bool) -> Any:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    elif hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalars
    if is_date and isinstance(value, dt.datetime):
        return value.date()
    return value


def frame_records(frame: pd.DataFrame, table: str) -> list[dict[str, Any]]:
    """The frame's rows as the Python checks expect them: None for missing, dates for DATE columns."""
    contract = RECORD_TABLES[table].c
    is_date = {name: name in contract and isinstance(contract[name].type, sa.Date) for name in frame.columns}
    return [
        {name: _python_value(value, is_date[name]) for name, value in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


_FILTERED_ROW_COUNT = f"{METRIC}.{SummarizationMetricNameSuffixes.FILTERED_ROW_COUNT.value}"
_UNEXPECTED_VALUES = f"{METRIC}.{SummarizationMetricNameSuffixes.UNEXPECTED_VALUES.value}"


def _unexpected_count_aggregate_fn(
    cls: Any,
    execution_engine: Any,
    metric_domain_kwargs: dict[str, Any],
    metric_value_kwargs: dict[str, Any],
    metrics: dict[str, Any],
    **kwargs: Any,
) -> tuple[Any, Any, Any]:
    """GX's own aggregate, `sum(CASE …)`, but 0 and not NULL over an empty batch: an empty table has no
    failing row, and a NULL count would read as GX disagreeing with the extractor."""
    condition, compute_domain_kwargs, accessor_domain_kwargs = metrics["unexpected_condition"]
    count = sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)
    return count, compute_domain_kwargs, accessor_domain_kwargs


def _batch_row_count(cls: Any, metrics: dict[str, Any], **kwargs: Any) -> int:
    return int(metrics["table.row_count"])


def _unexpected_values(
    cls: Any,
    execution_engine: Any,
    metric_domain_kwargs: dict[str, Any],
    metric_value_kwargs: dict[str, Any],
    metrics: dict[str, Any],
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """GX's sample of failing rows, but no statement when the sample asked for is empty: GX would still
    send a `SELECT … LIMIT 0` per rule, each planned over the whole batch query."""
    result_format = metric_value_kwargs["result_format"]
    if result_format["result_format"] != "COMPLETE" and result_format["partial_unexpected_count"] == 0:
        return []
    return list(
        _gx_unexpected_values(
            cls, execution_engine, metric_domain_kwargs, metric_value_kwargs, metrics, **kwargs
        )
    )


class RulePasses(MulticolumnMapMetricProvider):
    """Per row: does the record pass the rule (out of scope and `when`-excluded rows always pass)."""

    condition_metric_name = METRIC
    condition_value_keys = ("rule_id", "rule_table", "check_date", "active_staff_digest", "derived")

    @classmethod
    def _register_metric_functions(cls) -> None:
        """GX counts a multicolumn map metric's failures with a query of its own per expectation; register
        the count as an aggregate instead, as GX does for single-column metrics, so its SQL engine bundles
        the counts of every rule of a table into one `SELECT sum(CASE …), …` (one scan, not one per rule)."""
        super()._register_metric_functions()  # type: ignore[no-untyped-call]
        count = f"{METRIC}.{SummarizationMetricNameSuffixes.UNEXPECTED_COUNT.value}"
        keys = cls.condition_value_keys
        # Rows are never ignored (`ignore_row_if="never"`), so the rows a rule judges are the batch's
        # rows: its filtered row count is GX's bundled `table.row_count`, not a `count(*)` per rule.
        # Its sample of failing rows is asked for empty (`runner`): no statement either.
        for name, provider, fn_type, value_keys in (
            (
                f"{count}.{MetricPartialFunctionTypes.AGGREGATE_FN.metric_suffix}",
                _unexpected_count_aggregate_fn,
                MetricPartialFunctionTypes.AGGREGATE_FN,
                keys,
            ),
            (count, None, MetricFunctionTypes.VALUE, keys),
            (_FILTERED_ROW_COUNT, _batch_row_count, MetricFunctionTypes.VALUE, keys),
            (_UNEXPECTED_VALUES, _unexpected_values, MetricFunctionTypes.VALUE, (*keys, "result_format")),
        ):
            register_metric(
                metric_name=name,
                metric_domain_keys=cls.condition_domain_keys,
                metric_value_keys=value_keys,
                execution_engine=SqlAlchemyExecutionEngine,
                metric_class=cls,
                metric_provider=provider,
                metric_fn_type=fn_type,
            )

    @classmethod
    def _get_evaluation_dependencies(
        cls,
        metric: MetricConfiguration,
        configuration: ExpectationConfiguration | None = None,
        execution_engine: ExecutionEngine[Any] | None = None,
        runtime_configuration: dict[str, Any] | None = None,
    ) -> dict[str, MetricConfiguration]:
        if metric.metric_name == _FILTERED_ROW_COUNT and isinstance(
            execution_engine, SqlAlchemyExecutionEngine
        ):
            table_domain = {
                k: v
                for k, v in metric.metric_domain_kwargs.items()
                if k not in ("column_list", "ignore_row_if")
            }
            return {"table.row_count": MetricConfiguration("table.row_count", table_domain)}
        return dict(
            super()._get_evaluation_dependencies(
                metric, configuration, execution_engine, runtime_configuration
            )
        )

    @multicolumn_condition_partial(engine=PandasExecutionEngine)
    def _pandas(
        cls,
        column_list: pd.DataFrame,
        rule_id: str,
        rule_table: str,
        check_date: str,
        active_staff_digest: str | None = None,
        **kwargs: Any,
    ) -> pd.Series:
        suite, rule = lookup_rule(rule_table, rule_id)
        ctx = check_context(check_date, active_staff_digest)
        rows = frame_records(column_list, rule_table)
        failed = python_failures(dataclasses.replace(suite, rules=(rule,)), rows, ctx)
        return pd.Series([not f for f in failed], index=column_list.index, dtype=bool)

    @multicolumn_condition_partial(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        column_list: list[ColumnElement[Any]],
        rule_id: str,
        rule_table: str,
        check_date: str,
        active_staff_digest: str | None = None,
        derived: bool = False,
        **kwargs: Any,
    ) -> ColumnElement[bool]:
        suite, rule = lookup_rule(rule_table, rule_id)
        # The condition's columns are unqualified, like GX's own `column_list`, so they bind to the
        # batch's selectable (a table or a subquery). A `derived` batch (`compiler.gx_batch_query`) also
        # holds the values rules share, computed once per row: the condition refers to them by name.
        ctx = check_context(check_date)
        if not derived:
            return sa.not_(failing_condition(suite, rule, ctx))
        with deriving(DerivedValues(source_columns(suite.table))):
            return sa.not_(failing_condition(suite, rule, ctx))


class QueryBatchColumnTypes(TableMetricProvider):
    """`table.column_types` on SQL batches, without running a query batch whole; a query batch wrapped once.

    GX learns a query asset's columns by executing the query itself and reading the result's keys
    (`great_expectations.expectations.metrics.util.get_sqlalchemy_column_metadata`): with a client-side
    cursor the driver computes and holds every row (2.4 GB for `compiler.gx_batch_query` at 1M
    merchants). This asks for no rows (`LIMIT 0`) instead; table batches go to GX's own provider.

    GX also wraps a query batch's text as a subquery anew for every metric domain it reads
    (`SqlAlchemyExecutionEngine.get_domain_records`, about 110 per suite), and each wrapping parses the whole
    text for bind parameters: an incremental run's batch names its ~30,000 keys (570 KB of SQL, 30 ms a
    parse). This metric is the first every expectation needs; it leaves the batch holding the subquery GX
    would have made, with GX's own function, so the text is parsed once per validation.
    """

    metric_name = "table.column_types"
    value_keys = ("include_nested",)

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict[str, Any],
        metric_value_kwargs: dict[str, Any],
        metrics: dict[str, Any],
        runtime_configuration: dict[str, Any],
    ) -> list[dict[str, Any]]:
        batch_id = str(
            metric_domain_kwargs.get("batch_id") or execution_engine.batch_manager.active_batch_data_id
        )
        batch_data: Any = execution_engine.batch_manager.batch_data_cache.get(batch_id)
        selectable = getattr(batch_data, "selectable", None)
        if isinstance(selectable, sa.TextClause):
            selectable = _gx_wrap_raw_sql(selectable)
            batch_data._selectable = selectable
        elif not (isinstance(selectable, sa.Subquery) and isinstance(selectable.element, sa.TextualSelect)):
            return list(_gx_column_metadata(execution_engine, batch_data))
        probe = sa.select(sa.text("*")).select_from(selectable).limit(0)
        names = execution_engine.execute_query(probe).keys()
        return [{"name": name} for name in names]


class ExpectRecordsToPassDqgovRule(MulticolumnMapExpectation):
    """Expect every in-scope record of the batch to pass one rule of the dqgov rule book."""

    rule_id: str
    # Not `table`: GX takes a `table` domain kwarg as the name of the table to read
    # (SqlAlchemyExecutionEngine.get_domain_records).
    rule_table: str
    check_date: str
    # The staff list itself would be copied each of the thousands of times GX reads the configuration
    # (`Expectation.configuration` is a pydantic `.dict()`), and would show in Data Docs: name it instead.
    active_staff_digest: str | None = None
    # The batch is `compiler.gx_batch_query`'s, with the shared values computed once per row.
    derived: bool = False
    # GX's default, "all_values_are_missing", would drop rows before the check sees them.
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "never"

    check_kind: ClassVar[str | None] = None
    map_metric = METRIC
    # GX reads a metric's value kwargs from the expectation's success keys.
    success_keys = ("mostly", "rule_id", "rule_table", "check_date", "active_staff_digest", "derived")
    args_keys = ("column_list", "rule_id", "rule_table", "check_date")
    library_metadata: ClassVar[dict[str, str | list[str] | bool]] = {
        "maturity": "experimental",
        "tags": ["dqgov"],
        "contributors": [],
    }

    @pydantic.validator("ignore_row_if")
    def _never_ignore_rows(cls, value: str) -> str:
        if value != "never":
            raise ValueError(
                "dqgov rules judge records with missing values too: ignore_row_if must be 'never'"
            )
        return value

    @pydantic.validator("check_date")
    def _iso_date(cls, value: str) -> str:
        dt.date.fromisoformat(value)
        return value

    # GX 1.24 reads `self.configuration` (a pydantic `.dict()` and a new ExpectationConfiguration) once per
    # key in these three, about 110 times per expectation and validation: a third of a suite's fixed cost.
    # The same values, with the configuration built once per call.
    def _get_domain_kwargs(self) -> dict[str, str | None]:
        kwargs = self.configuration.kwargs
        return {key: kwargs.get(key, self._get_default_value(key)) for key in self.domain_keys}

    def _get_success_kwargs(self) -> dict[str, Any]:
        kwargs = self.configuration.kwargs
        success = {key: kwargs.get(key, self._get_default_value(key)) for key in self.success_keys}
        success.update({key: kwargs.get(key, self._get_default_value(key)) for key in self.domain_keys})
        return success

    def _get_success_kwarg(self, key: str, default: Any = None) -> Any:
        kwargs = self.configuration.kwargs
        if key in kwargs:
            return kwargs[key]
        field = self.__fields__.get(key)
        if field is not None:
            return field.default if not field.required else default
        return default


EXPECTATION_NAMES: Mapping[str, str] = {
    "required": "ExpectColumnValuesToBePresent",
    "in_set": "ExpectColumnValuesToBeInCodeList",
    "uscc": "ExpectColumnValuesToBeValidUscc",
    "phone": "ExpectColumnValuesToBeValidPhoneNumber",
    "not_expired": "ExpectColumnValuesToBeUnexpiredOnCheckDate",
    "id_number": "ExpectColumnValuesToBeValidIdNumberForIdType",
    "mcc_known": "ExpectColumnValuesToBeIso18245Mcc",
    "equals_part": "ExpectColumnValuesToEqualPartOfColumn",
    "active_staff": "ExpectColumnValuesToBeActiveStaff",
    "uscc_prefix": "ExpectUsccPrefixToMatchEntityType",
    "county_code": "ExpectColumnValuesToBeCurrentCountyCode",
    "settle_acct_no": "ExpectColumnValuesToBeValidSettlementAccount",
    "text_quality": "ExpectColumnValuesToBeCleanText",
    "province_address": "ExpectColumnValuesToStartWithProvince",
    "equals_column": "ExpectColumnValuesToEqualOtherColumn",
    "unique_among_in_scope": "ExpectColumnValuesToBeUniqueAmongOpenRecords",
    "all_or_none": "ExpectColumnsToBeFilledAllOrNone",
    "allowed_for_type": "ExpectColumnValuesToBeAllowedForType",
    "min_length": "ExpectColumnValuesToHaveMinimumLength",
    "person_name": "ExpectColumnValuesToBeValidPersonName",
    "date_range": "ExpectColumnValuesToBeWithinDateRange",
    "positive": "ExpectColumnValuesToBePositive",
}


def _class_name(kind: str) -> str:
    return EXPECTATION_NAMES.get(kind) or "ExpectRecordsToPass{}Check".format(
        "".join(part.capitalize() for part in kind.split("_"))
    )


def _build_classes() -> dict[str, type[ExpectRecordsToPassDqgovRule]]:
    classes: dict[str, type[ExpectRecordsToPassDqgovRule]] = {}
    taken: dict[str, str] = {camel_to_snake(ExpectRecordsToPassDqgovRule.__name__): "(base)"}
    for kind in KINDS:
        name = _class_name(kind)
        snake = camel_to_snake(name)
        if snake in taken:
            raise ValueError(f"check kinds {taken[snake]} and {kind} map to one GX expectation {snake}")
        try:
            existing: type | None = get_expectation_impl(snake)
        except ExpectationNotFoundError:
            existing = None
        if existing is not None and existing.__module__ != __name__:
            raise ValueError(f"GX already has an expectation {snake}: rename the class for kind {kind}")
        taken[snake] = kind
        classes[kind] = type(
            name,
            (ExpectRecordsToPassDqgovRule,),
            {
                "__module__": __name__,
                "__qualname__": name,
                "__doc__": f"Expect every in-scope record to pass the `{kind}` check: {KINDS[kind].description}.",
                "check_kind": kind,
            },
        )
    return classes


EXPECTATION_CLASSES: Mapping[str, type[ExpectRecordsToPassDqgovRule]] = _build_classes()
globals().update({cls.__name__: cls for cls in EXPECTATION_CLASSES.values()})


def expectation_for(
    suite: Suite, rule: Rule, ctx: CheckContext, active_staff_digest: str | None = None, derived: bool = False
) -> ExpectRecordsToPassDqgovRule:
    """The expectation for one rule of a suite (`expectations_for` also registers what it refers to)."""
    cls = EXPECTATION_CLASSES.get(rule.kind, ExpectRecordsToPassDqgovRule)
    return cls(
        column_list=rule_columns(suite, rule, ctx),
        rule_id=rule.id,
        rule_table=suite.table,
        check_date=ctx.check_date.isoformat(),
        active_staff_digest=active_staff_digest,
        derived=derived,
        description=f"{rule.id} [{rule.clause_text}] {rule.description}",
        meta={"rule_id": rule.id, "clauses": list(rule.clauses), "severity": rule.severity},
    )


def expectations_for(
    suite: Suite, ctx: CheckContext, *, with_active_staff: bool = False, derived: bool = False
) -> list[ExpectRecordsToPassDqgovRule]:
    """One expectation per rule of the suite, for this check date.

    `with_active_staff=True` (pandas batches: no staff table to read) hands the metric `ctx.active_staff`.
    `derived=True`: the SQL batch is `compiler.gx_batch_query(suite, ctx)`, not the table itself.
    """
    register_suite(suite)
    digest = None
    if with_active_staff and ctx.active_staff is not None:
        digest = register_active_staff(ctx.active_staff)
    return [expectation_for(suite, rule, ctx, digest, derived) for rule in suite.rules]
