"""Peak memory and time of the to-do workbook round trip with one account manager holding 200,000 to-dos.

    .venv/bin/python bench/bench_workbook.py [--todos 200000] [--typed 1000] [--backend sqlite|postgresql]

The to-dos (and the merchants behind them) are inserted directly. Each step runs as the real `dqgov`
command in a child process, whose own peak RSS (`wait4`) and wall time are reported: the export, the
preview of the returned file, and `--apply`. The returned file is the exported one with `--typed` rows
given a value (every n-th row, half right and half wrong), rewritten in streaming mode as Excel would
save it. The baseline is `dqgov --help` (the interpreter and the imports). Results go to
docs/benchmarks.md by hand, with this command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DAY = dt.date(2026, 11, 20)
STAFF = "M101"
DQGOV = str(Path(sys.executable).with_name("dqgov"))
PG_ADMIN = os.environ.get("DQGOV_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def urls(backend: str, folder: Path) -> tuple[str, str, list[str]]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'source.sqlite'}", f"sqlite:///{folder / 'store.sqlite'}", []
    names = [f"dqgov_excel_bench_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("source", "store")]
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = sa.make_url(PG_ADMIN)
    src, store = (base.set(database=n).render_as_string(hide_password=False) for n in names)
    return src, store, names


def build(source_url: str, store_url: str, todos: int) -> None:
    from expectations.contract import merchant
    from expectations.rulebook import load_suites
    from remediation.checks.staging import sync_rules
    from remediation.store.engines import open_store
    from remediation.store.models import Todo
    from tests.factories import build_source, merchant_row

    rng = random.Random(11)
    bad_phone = "12345678901"
    source = build_source(source_url, [])
    with source.begin() as conn:
        for start in range(0, todos, 5000):
            conn.execute(
                sa.insert(merchant),
                [
                    merchant_row(0, mer_id=f"1023604{n:08d}", contact_phone=bad_phone)
                    for n in range(start, min(start + 5000, todos))
                ],
            )
    source.dispose()
    store = open_store(store_url)
    from remediation.checks.routing import sync_org  # the org mirror, as a run would leave it

    sync_org(sa.create_engine(source_url), store)
    suite = next(s for s in load_suites() if s.table == "merchant")
    sync_rules(store, suite)
    rule = suite.rule("MER-C1-PHONE-FORMAT")
    batch = []
    for n in range(todos):
        batch.append(
            {
                "rule_id": rule.id,
                "table_name": "merchant",
                "record_key": f"1023604{n:08d}",
                "status": "open",
                "clause": rule.clause_text,
                "columns": rule.columns_text,
                "severity": rule.severity,
                "inst_code": "110100",
                "mgr_staff_id": STAFF,
                "assignee_staff_id": STAFF,
                "routed_to_head": False,
                "masked_value": "contact_phone=123****8901",
                "first_seen": DAY,
                "last_seen": DAY,
                "reopen_count": 0,
                "opened_run_id": 1,
                "transition_run_id": 1,
                "due_date": DAY + dt.timedelta(days=rng.randint(-5, 20)),
                "card": "none",
            }
        )
        if len(batch) == 5000:
            with store.begin() as conn:
                conn.execute(sa.insert(Todo), batch)
            batch = []
    if batch:
        with store.begin() as conn:
            conn.execute(sa.insert(Todo), batch)
    store.dispose()


def typed_copy(issued: Path, out: Path, typed: int) -> None:
    """The issued workbook with `typed` rows given a value, saved in streaming mode."""
    from openpyxl import Workbook, load_workbook

    from remediation.workbooks.layout import INDEX, SHEETS, TODO_SHEET

    source = load_workbook(issued, read_only=True)
    book = Workbook(write_only=True)
    rows = source[TODO_SHEET].max_row or 1
    every = max((rows - 1) // max(typed, 1), 1)
    for name in SHEETS:
        sheet = book.create_sheet(name)
        if name == "签名":
            sheet.sheet_state = "hidden"
        for number, values in enumerate(source[name].iter_rows(values_only=True), start=1):
            row = list(values)
            if (
                name == TODO_SHEET
                and number > 1
                and (number - 2) % every == 0
                and (number - 2) // every < typed
            ):
                row[INDEX["value_1"]] = "13800138000" if number % 2 else "1380013800"
            sheet.append(row)
    source.close()
    book.save(out)


def measured(
    label: str, args: list[str], env: dict[str, str], results: list[tuple[str, float, float, str]]
) -> str:
    started = time.perf_counter()
    child = subprocess.Popen(
        [DQGOV, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    out = child.stdout.read() if child.stdout else ""
    err = child.stderr.read() if child.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label} failed: {err}")
    last = (out.strip().splitlines() or [""])[-1]
    results.append((label, seconds, usage.ru_maxrss / 1024, last[:120]))
    print(f"{label}: {seconds:.1f} s, {usage.ru_maxrss / 1024:.0f} MB  {last[:120]}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--todos", type=int, default=200_000)
    parser.add_argument("--typed", type=int, default=1000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    results: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="excel-bench-") as tmp:
        folder = Path(tmp)
        os.environ["DQGOV_HOME"] = str(folder)  # the key file and var/ of this run, not the checkout's
        source_url, store_url, names = urls(args.backend, folder)
        try:
            started = time.perf_counter()
            build(source_url, store_url, args.todos)
            print(f"built {args.todos} to-dos in {time.perf_counter() - started:.0f} s", flush=True)
            env = {
                **os.environ,
                "DQGOV_STORE_URL": store_url,
                "DQGOV_SOURCE_URL": source_url,
                "DQGOV_HOME": str(folder),
                "DQGOV_WORKBOOK_MAX_MB": "512",
            }
            issued, returned = folder / "todos.xlsx", folder / "returned.xlsx"
            measured("baseline: dqgov --help", ["--help"], env, results)
            measured("export", ["todos", "export", "--staff", STAFF, "--out", str(issued)], env, results)
            typed_copy(issued, returned, args.typed)
            common = ["corrections", "import", str(returned), "--staff", STAFF, "--check-date", str(DAY)]
            measured("import: preview", common, env, results)
            measured("import: --apply", [*common, "--apply"], env, results)
            measured("import again: nothing applied twice", [*common, "--apply"], env, results)
            size = issued.stat().st_size / 1024 / 1024
        finally:
            if names:
                admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    for name in names:
                        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(
        f"\n## To-do workbook round trip, {args.todos:,} to-dos of one account manager ({args.backend}, "
        f"{dt.date.today()})\n"
    )
    print(
        f"`.venv/bin/python bench/bench_workbook.py --todos {args.todos} --typed {args.typed} --backend "
        f"{args.backend}` — {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"the workbook is {size:.1f} MB.\n"
    )
    print("| step | wall s | peak RSS MB | output |\n|---|---:|---:|---|")
    for label, seconds, rss, last in results:
        print(f"| {label} | {seconds:.1f} | {rss:.0f} | {last.replace('|', '/')} |")


if __name__ == "__main__":
    main()
