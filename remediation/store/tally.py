"""The dashboard's live counts kept up to date as to-dos change, so a head's page does not scan the to-dos.

Two tables, per campaign: `dq_todo_tally` (institution × assignee: the counters of `LiveCounts` except
overdue) and `dq_todo_due` (institution × assignee × due date: the active to-dos that count, for overdue,
which depends on the day asked). Triggers on `dq_todo` add each inserted row's contribution, subtract each
deleted one's and do both on an update, whatever writes the to-dos (reconcile, actions, appeals,
handover, SLA cards, the calendar, voiding, a bulk load). On PostgreSQL they are statement-level triggers
over the transition tables, so a reconcile that changes 100,000 to-dos upserts one grouped row per
(campaign, institution, assignee) it touched; SQLite runs them per row. A campaign's tally is built when
the campaign is created (`build_tally`, under a share lock on `dq_todo` so that no change slips between).

The counting rules are `count_terms`, the one definition `live_breakdown` also reads the to-dos with; a
test holds the two paths to identical numbers. A change to them needs a migration that calls `install`
and `build_tally` again (the migration that created them, 0014, does), and so does a SQLite migration that
copies `dq_todo` into a new table (Alembic's batch mode): dropping the old table drops its triggers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from remediation.store.models import ACTIVE_STATUSES, UNCOUNTED_STATUSES, Todo, TodoStatus
from remediation.store.workflow_models import Campaign, TodoDue, TodoTally

# the counters kept per (campaign, institution, assignee); `dated`: active and counted, with a due date
COUNTERS = ("baseline", "done", "active", "pending", "dated", "yellow", "red", "new", "fixed_total")
NO_KEY = ""  # stands for a NULL institution or assignee in the tally's key
EVENTS = ("insert", "update", "delete")


def count_terms(row: Any, baseline_date: Any) -> dict[str, ColumnElement[bool]]:
    """When a to-do adds one to each counter of a campaign with this baseline date (docs/decisions.md,
    "Snapshots and scores"): stock baseline, new segment; out-of-scope and void to-dos are left out by
    the caller. `row` is `Todo` or a table with its columns."""
    new_segment = sa.and_(row.record_created.is_not(None), row.record_created > baseline_date)
    in_baseline = sa.and_(sa.not_(new_segment), row.first_seen <= baseline_date)
    counted = sa.or_(new_segment, in_baseline)
    active = sa.and_(counted, row.status.in_(ACTIVE_STATUSES))
    return {
        "baseline": in_baseline,
        "done": sa.and_(in_baseline, row.status.in_((TodoStatus.FIXED.value, TodoStatus.EXEMPTED.value))),
        "active": active,
        "pending": sa.and_(counted, row.status == TodoStatus.PENDING_VERIFICATION.value),
        "dated": sa.and_(active, row.due_date.is_not(None)),
        "yellow": sa.and_(active, row.card == "yellow"),
        "red": sa.and_(active, row.card == "red"),
        "new": sa.not_(in_baseline),
        "fixed_total": row.status == TodoStatus.FIXED.value,
    }


def _listed(dialect: str, listing: ColumnElement[str], value: ColumnElement[str]) -> ColumnElement[bool]:
    """`value` is one of the ';'-separated items of `listing`, or `listing` is empty (all)."""
    padded = sa.literal(";") + listing + sa.literal(";")
    item = sa.literal(";") + value + sa.literal(";")
    found = sa.func.instr(padded, item) if dialect == "sqlite" else sa.func.strpos(padded, item)
    return sa.or_(listing == "", found > 0)


def _contributions(dialect: str, rows: sa.FromClause, sign: int, campaign_id: Any = None) -> sa.Select[Any]:
    """Per to-do in `rows` and campaign it counts in: its key and `sign` for each counter that applies."""
    c = Campaign.__table__.c
    terms = count_terms(rows.c, c.baseline_date)
    stmt = (
        sa.select(
            c.id.label("campaign_id"),
            sa.func.coalesce(rows.c.inst_code, NO_KEY).label("inst_code"),
            sa.func.coalesce(rows.c.assignee_staff_id, NO_KEY).label("assignee_staff_id"),
            rows.c.due_date,
            *(sa.case((term, sign), else_=0).label(name) for name, term in terms.items()),
        )
        .select_from(rows.join(Campaign.__table__, sa.true()))
        .where(
            rows.c.status.not_in(UNCOUNTED_STATUSES),
            _listed(dialect, c.tables, rows.c.table_name),
            _listed(dialect, c.rules, rows.c.rule_id),
        )
    )
    return stmt.where(c.id == campaign_id) if campaign_id is not None else stmt


def _insert(dialect: str, table: sa.TableClause) -> Any:
    return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)


def upserts(dialect: str, changes: Sequence[tuple[sa.FromClause, int]], campaign_id: Any = None) -> list[Any]:
    """The two statements that add the contributions of `changes` (rows, +1 or -1) to the tally."""
    raw = sa.union_all(*(_contributions(dialect, rows, sign, campaign_id) for rows, sign in changes))
    each = raw.subquery("each_todo")
    key = [each.c.campaign_id, each.c.inst_code, each.c.assignee_staff_id]
    sums = [sa.func.sum(each.c[name]).label(name) for name in COUNTERS]
    tally = cast(sa.Table, TodoTally.__table__)
    totals = (
        sa.select(*key, *sums)
        .group_by(*key)
        .having(sa.or_(*(s != 0 for s in sums)))
        .order_by(*key)  # the same lock order in every transaction
    )
    into_tally = _insert(dialect, tally).from_select([k.name for k in key] + list(COUNTERS), totals)
    into_tally = into_tally.on_conflict_do_update(
        index_elements=[k.name for k in key],
        set_={name: tally.c[name] + into_tally.excluded[name] for name in COUNTERS},
    )
    due = cast(sa.Table, TodoDue.__table__)
    dated = sa.func.sum(each.c.dated).label("n")
    per_day = (
        sa.select(*key, each.c.due_date, dated)
        .where(each.c.due_date.is_not(None))
        .group_by(*key, each.c.due_date)
        .having(dated != 0)
        .order_by(*key, each.c.due_date)
    )
    into_due = _insert(dialect, due).from_select([k.name for k in key] + ["due_date", "n"], per_day)
    into_due = into_due.on_conflict_do_update(
        index_elements=[k.name for k in key] + ["due_date"], set_={"n": due.c.n + into_due.excluded.n}
    )
    return [into_tally, into_due]


def _sql(dialect: str, statement: Any) -> str:
    engine_dialect: sa.Dialect = sqlite.dialect() if dialect == "sqlite" else postgresql.dialect()  # type: ignore[no-untyped-call]
    return str(statement.compile(dialect=engine_dialect, compile_kwargs={"literal_binds": True}))


# the to-do's columns the counts read: the only ones the triggers name (a later migration may add others)
READ_COLUMNS = (
    "rule_id",
    "table_name",
    "status",
    "inst_code",
    "assignee_staff_id",
    "first_seen",
    "due_date",
    "card",
    "record_created",
)


def _transition(name: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, Todo.__table__.c[c].type) for c in READ_COLUMNS))


def _sqlite_row(which: str) -> sa.Subquery:
    """NEW or OLD of a row trigger as a one-row table with the columns the counts read."""
    columns = [sa.literal_column(f"{which}.{c}", Todo.__table__.c[c].type).label(c) for c in READ_COLUMNS]
    return sa.select(*columns).subquery(f"{which.lower()}_row")


def trigger_ddl(dialect: str) -> list[str]:
    """The statements that create the triggers keeping the tally (for `install`)."""
    ddl: list[str] = []
    for event in EVENTS:
        name = f"dq_todo_tally_{event}"
        if dialect == "sqlite":
            rows: list[tuple[sa.FromClause, int]] = [
                (_sqlite_row(w), s) for w, s in (("OLD", -1), ("NEW", 1)) if _uses(event, w)
            ]
            body = ";\n".join(_sql(dialect, s) for s in upserts(dialect, rows))
            when = f" WHEN {_sqlite_changed()}" if event == "update" else ""
            ddl.append(
                f"CREATE TRIGGER {name} AFTER {event.upper()} ON dq_todo FOR EACH ROW{when} BEGIN\n{body};\nEND"
            )
            continue
        changes: list[tuple[sa.FromClause, int]] = [
            (_transition(f"{w.lower()}_rows"), s) for w, s in (("OLD", -1), ("NEW", 1)) if _uses(event, w)
        ]
        if event == "update":
            changes = _changed_only(*(rows for rows, _ in changes))
        body = ";\n".join(_sql(dialect, s) for s in upserts(dialect, changes))
        referencing = " ".join(f"{w} TABLE AS {w.lower()}_rows" for w in ("OLD", "NEW") if _uses(event, w))
        ddl.append(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n{body};\n"
            "RETURN NULL;\nEND\n$$"
        )
        ddl.append(
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON dq_todo REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    return ddl


def _changed_only(old: sa.FromClause, new: sa.FromClause) -> list[tuple[sa.FromClause, int]]:
    """An update's rows that count differently: each side less the other (multisets of the columns the
    counts read). A row whose read columns did not change adds and subtracts the same, so it is left out
    before the counting: reconcile moves `last_seen` of every kept to-do each day (at 1M records ~170,000
    rows a table), and the trigger counted each twice to add nothing."""
    before, after = sa.select(old), sa.select(new)
    return [
        (sa.except_all(before, after).subquery("old_changed"), -1),
        (sa.except_all(after, before).subquery("new_changed"), 1),
    ]


def _sqlite_changed() -> str:
    """The WHEN of SQLite's row trigger on update: a column the counts read changed."""
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in READ_COLUMNS)


def _uses(event: str, which: str) -> bool:
    return (which == "OLD" and event != "insert") or (which == "NEW" and event != "delete")


def install(conn: sa.Connection) -> None:
    """(Re)create the triggers on `dq_todo` for this connection's database."""
    uninstall(conn)
    for statement in trigger_ddl(conn.dialect.name):
        conn.execute(sa.text(statement))


def uninstall(conn: sa.Connection) -> None:
    for event in EVENTS:
        name = f"dq_todo_tally_{event}"
        if conn.dialect.name == "sqlite":
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
        else:
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name} ON dq_todo"))
            conn.execute(sa.text(f"DROP FUNCTION IF EXISTS {name}()"))


def build_tally(conn: sa.Connection, campaign_id: int | None = None) -> None:
    """Count one campaign's to-dos (None: every campaign's) into the tally from scratch."""
    if conn.dialect.name == "postgresql":  # no to-do changes between this count and the triggers' next one
        conn.execute(sa.text("LOCK TABLE dq_todo IN SHARE MODE"))
    for table in (TodoTally, TodoDue):
        stmt = sa.delete(table)
        conn.execute(stmt.where(table.campaign_id == campaign_id) if campaign_id is not None else stmt)
    todos = Todo.__table__
    for statement in upserts(conn.dialect.name, [(todos, 1)], campaign_id):
        conn.execute(statement)


LIVE_COUNTERS = (*(n for n in COUNTERS if n != "dated"), "overdue")
BY_INSTITUTION, BY_ASSIGNEE = "inst", "assignee"


def _one_of(dialect: str, column: Any, codes: frozenset[str]) -> ColumnElement[bool]:
    """`column IN codes`: on PostgreSQL as one array parameter (`= ANY`), which costs nothing to bind
    however many codes (a whole bank's 500 institutions as 500 parameters took milliseconds)."""
    found: ColumnElement[bool]
    if dialect == "postgresql":
        found = column == sa.any_(sa.bindparam(None, sorted(codes), type_=postgresql.ARRAY(sa.String)))
    else:
        found = column.in_(sorted(codes))
    return found


def _live(dialect: str, campaign_id: int, institutions: frozenset[str] | None, today: dt.date) -> sa.CTE:
    """The tally's rows of a campaign (one per institution and assignee), overdue as of `today` worked out
    from the active to-dos per due date."""
    t, d = TodoTally, TodoDue
    not_due = (
        # an integer, as overdue (the tally's dated less it) then is too: PostgreSQL sums integers as bigints
        # but bigints as numerics (slow)
        sa.select(d.inst_code, d.assignee_staff_id, sa.cast(sa.func.sum(d.n), sa.Integer).label("n"))
        .where(d.campaign_id == campaign_id, d.due_date >= today)
        .group_by(d.inst_code, d.assignee_staff_id)
    )
    kept = [t.campaign_id == campaign_id, t.baseline + t.new > 0]
    if institutions is not None:
        not_due = not_due.where(_one_of(dialect, d.inst_code, institutions))
        kept = [*kept, _one_of(dialect, t.inst_code, institutions)]
    due = not_due.subquery("not_due")
    same_pair = sa.and_(due.c.inst_code == t.inst_code, due.c.assignee_staff_id == t.assignee_staff_id)
    return (
        sa.select(
            t.inst_code,
            t.assignee_staff_id,
            *(getattr(t, n) for n in COUNTERS if n != "dated"),
            (t.dated - sa.func.coalesce(due.c.n, 0)).label("overdue"),
        )
        .outerjoin(due, same_pair)
        .where(*kept)
        .cte("live")
    )


def _per(live: sa.CTE, kind: str, key: str) -> sa.Select[Any]:
    sums = [sa.func.sum(live.c[n]).label(n) for n in LIVE_COUNTERS]
    return sa.select(sa.literal(kind).label("kind"), live.c[key].label("key"), *sums).group_by(live.c[key])


def tallied_totals(
    conn: sa.Connection, campaign_id: int, institutions: frozenset[str] | None, today: dt.date
) -> dict[str, list[tuple[str | None, dict[str, int]]]]:
    """A campaign's tally summed per institution and per assignee (`BY_INSTITUTION`, `BY_ASSIGNEE`: key,
    the counters of `LIVE_COUNTERS`), for some institutions or all, in one statement: the database sums
    the tally's rows (one per institution and person) and works out overdue as of `today`, so the page
    gets one row per institution and per person instead of every pair and their due dates."""
    live = _live(conn.dialect.name, campaign_id, institutions, today)
    stmt = sa.union_all(_per(live, BY_INSTITUTION, "inst_code"), _per(live, BY_ASSIGNEE, "assignee_staff_id"))
    result: dict[str, list[tuple[str | None, dict[str, int]]]] = {BY_INSTITUTION: [], BY_ASSIGNEE: []}
    for kind, key, *values in conn.execute(stmt):
        result[kind].append((key or None, dict(zip(LIVE_COUNTERS, map(int, values), strict=True))))
    return result


@dataclass(frozen=True)
class RankedTotals:
    """Per institution, the counters; the people ranked (`rank`: 1, 1, 3 …), only the best and the worst
    `shown` / 2 of a longer ranking, and how many people the ranking has."""

    by_inst: list[tuple[str | None, dict[str, int]]]
    people: list[tuple[str, dict[str, int], int]]
    ranked: int


def ranked_totals(
    conn: sa.Connection, campaign_id: int, institutions: frozenset[str] | None, today: dt.date, shown: int
) -> RankedTotals:
    """`tallied_totals` per institution, with the account managers ranked by the database as
    `remediation.reporting.dashboard.rank` ranks them (completion rate, then fewest overdue, then fewest
    active; equals share a rank, listed by staff id) and cut as `best_and_worst` cuts them: the page gets
    the ~100 people it shows instead of every person's counts. A test holds the two rankings equal."""
    live = _live(conn.dialect.name, campaign_id, institutions, today)
    people = (
        _per(live, BY_ASSIGNEE, "assignee_staff_id").where(live.c.assignee_staff_id != NO_KEY).cte("people")
    )
    done, baseline = sa.cast(people.c.done, sa.Float), people.c.baseline
    rate = sa.case((baseline > 0, done / sa.cast(baseline, sa.Float)), else_=sa.literal(1.0, sa.Float))
    merit = [rate.desc(), people.c.overdue.asc(), people.c.active.asc()]
    by_id = sa.collate(people.c.key, "C") if conn.dialect.name == "postgresql" else people.c.key
    ranked = sa.select(
        people.c.key,
        *(people.c[n] for n in LIVE_COUNTERS),
        sa.func.rank().over(order_by=merit).label("rank"),
        sa.func.row_number().over(order_by=[*merit, by_id]).label("pos"),
        sa.func.count().over().label("n"),
    ).subquery("ranked")
    half = shown // 2
    wanted = sa.or_(ranked.c.n <= shown, ranked.c.pos <= half, ranked.c.pos > ranked.c.n - half)
    nothing = sa.cast(sa.null(), sa.BigInteger)
    stmt = sa.union_all(
        _per(live, BY_INSTITUTION, "inst_code").add_columns(nothing, nothing, nothing),
        sa.select(
            sa.literal(BY_ASSIGNEE),
            ranked.c.key,
            *(ranked.c[n] for n in LIVE_COUNTERS),
            ranked.c.rank,
            ranked.c.pos,
            ranked.c.n,
        ).where(wanted),
    )
    by_inst, found, total = [], [], 0
    for kind, key, *values in conn.execute(stmt):
        counts = dict(zip(LIVE_COUNTERS, map(int, values[: len(LIVE_COUNTERS)]), strict=True))
        if kind == BY_INSTITUTION:
            by_inst.append((key or None, counts))
            continue
        rank, position, total = (int(v) for v in values[len(LIVE_COUNTERS) :])
        found.append((position, key, counts, rank))
    found.sort(key=lambda row: row[0])
    return RankedTotals(by_inst, [(key, counts, rank) for _, key, counts, rank in found], total)
