"""The rule suite of a record type, for remediation's callers: a type no rule file checks is a user's error."""

from __future__ import annotations

from collections.abc import Sequence

from expectations.rulebook import Suite, UnknownTable, suite_for
from remediation.errors import NotFound


def rules_of(table: str, suites: Sequence[Suite] | None = None) -> Suite:
    """The suite of record type `table` (from `suites`, default: the rule files); NotFound names the known
    record types when no rule file checks it."""
    try:
        return suite_for(table, suites)
    except UnknownTable as exc:
        raise NotFound(str(exc), code="unknown_table", table=table) from None
