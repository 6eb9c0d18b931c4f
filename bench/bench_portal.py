"""Server time of the portal's main pages with 100,000 to-dos in the store.

    .venv/bin/python bench/bench_portal.py [--todos 100000] [--requests 40] [--backend sqlite|postgresql]

A bank of 1 head office, 5 branches, 50 sub-branches and 500 account managers; the to-dos are inserted
directly (statuses, cards, due dates and segments mixed as in a campaign under way), with their `opened`
events and a week of daily snapshots. The portal runs on a real uvicorn server in this process; each
page is requested many times over a keep-alive connection, and the server's own time (`Server-Timing`,
from the request reaching the app to the response leaving it) is reported as median and p95, next to a
trivial endpoint (`/healthz`) measured the same way as the baseline. Results are appended to
docs/benchmarks.md with this command line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import math
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import sqlalchemy as sa
from benchdb import fresh_urls

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DAY = dt.date(2026, 11, 20)
BASELINE_DAY = DAY - dt.timedelta(days=30)
PASSWORD = "bench-password-1"


def build(source_url: str, store: sa.Engine, todos: int) -> dict[str, str]:
    """The bank, its to-dos and snapshots; returns the logins to measure with (role → staff id)."""
    from expectations.contract import SOURCE_METADATA, institution, merchant, staff
    from expectations.rulebook import load_suites
    from remediation.checks.routing import compute_fallbacks
    from remediation.checks.staging import sync_rules
    from remediation.reporting.snapshots import take_snapshot
    from remediation.store.models import Institution, Staff, Todo, TodoEvent
    from remediation.workflow.accounts import set_password
    from remediation.workflow.campaigns import ensure_default_campaign
    from tests.factories import merchant_row

    rng = random.Random(7)
    insts = [{"inst_code": "100000", "inst_name": "基准银行总行", "inst_level": "head", "parent_code": None}]
    people = [("D001", "周数据", "100000", "data_office")]
    managers: list[tuple[str, str]] = []
    for b in range(1, 6):
        branch = f"1{b}0000"
        insts.append(
            {"inst_code": branch, "inst_name": f"第{b}分行", "inst_level": "branch", "parent_code": "100000"}
        )
        people.append((f"B{b:03d}", f"分行{b}", branch, "branch_head"))
        for s in range(1, 11):
            sub = f"1{b}{s:02d}00"
            insts.append(
                {
                    "inst_code": sub,
                    "inst_name": f"第{b}分行第{s}支行",
                    "inst_level": "sub_branch",
                    "parent_code": branch,
                }
            )
            people.append((f"S{b}{s:02d}", f"支行{b}-{s}", sub, "sub_branch_head"))
            for m in range(1, 11):
                staff_id = f"M{b}{s:02d}{m:02d}"
                people.append((staff_id, f"经理{b}{s}{m}", sub, "account_manager"))
                managers.append((staff_id, sub))
    staff_rows = [
        {
            "staff_id": p,
            "staff_name": n,
            "inst_code": i,
            "position": pos,
            "active": True,
            "email": None,
            "wecom_userid": None,
        }
        for p, n, i, pos in people
    ]
    fallback, depth = compute_fallbacks(insts, staff_rows)
    source = sa.create_engine(source_url)
    SOURCE_METADATA.create_all(source)
    with source.begin() as conn:
        conn.execute(sa.insert(institution), insts)
        conn.execute(sa.insert(staff), staff_rows)
    with store.begin() as conn:
        conn.execute(
            sa.insert(Institution),
            [
                {**i, "fallback_staff_id": fallback[i["inst_code"]], "depth": depth[i["inst_code"]]}
                for i in insts
            ],
        )
        conn.execute(sa.insert(Staff), staff_rows)
    suite = next(s for s in load_suites() if s.table == "merchant")
    sync_rules(store, suite)
    ensure_default_campaign(store, BASELINE_DAY)
    rules = list(suite.rules)
    statuses = (
        ["open"] * 70
        + ["pending_verification"] * 5
        + ["fixed"] * 20
        + ["exempted"] * 3
        + ["out_of_scope"] * 2
    )
    batch: list[dict[str, object]] = []
    keys_of_first: list[str] = []
    for n in range(todos):
        staff_id, sub = managers[n % len(managers)]
        rule = rules[n % len(rules)]
        status = rng.choice(statuses)
        due = DAY + dt.timedelta(days=rng.randint(-20, 25))
        overdue = status in ("open", "pending_verification") and due < DAY
        key = f"1023604{n:08d}"
        if staff_id == managers[0][0] and len(keys_of_first) < 200:
            keys_of_first.append(key)
        batch.append(
            {
                "rule_id": rule.id,
                "table_name": "merchant",
                "record_key": key,
                "status": status,
                "clause": rule.clause_text,
                "columns": rule.columns_text,
                "severity": rule.severity,
                "inst_code": sub,
                "mgr_staff_id": staff_id,
                "assignee_staff_id": staff_id,
                "routed_to_head": False,
                "masked_value": f"{rule.columns[0]}=***",
                "first_seen": BASELINE_DAY if n % 10 else DAY,
                "last_seen": DAY,
                "closed_on": DAY if status in ("fixed", "exempted", "out_of_scope") else None,
                "reopen_count": 0,
                "opened_run_id": 1,
                "transition_run_id": 1,
                "due_date": due,
                "card": ("red" if due < DAY - dt.timedelta(days=10) else "yellow") if overdue else "none",
                "record_created": dt.date(2024, 1, 1) if n % 7 else DAY - dt.timedelta(days=3),
            }
        )
        if len(batch) == 5000:
            _flush(store, Todo, TodoEvent, batch)
    _flush(store, Todo, TodoEvent, batch)
    with source.begin() as conn:  # the records behind the first account manager's to-dos, for the record page
        conn.execute(
            sa.insert(merchant),
            [
                merchant_row(0, mer_id=k, mgr_staff_id=managers[0][0], inst_code=managers[0][1])
                for k in keys_of_first
            ],
        )
    source.dispose()
    for back in range(6, -1, -1):
        take_snapshot(store, DAY - dt.timedelta(days=back))
    first_manager = managers[0][0]
    logins = {
        "account manager": first_manager,
        "sub-branch head": "S101",
        "branch head": "B001",
        "data office": "D001",
    }
    for staff_id in logins.values():
        set_password(store, staff_id, PASSWORD)
    return logins


def _flush(store: sa.Engine, todo: type, event: type, batch: list[dict[str, object]]) -> None:
    if not batch:
        return
    with store.begin() as conn:
        ids = conn.execute(sa.insert(todo).returning(todo.id), batch).scalars().all()  # type: ignore[attr-defined]
        conn.execute(
            sa.insert(event),
            [
                {
                    "todo_id": i,
                    "run_id": 1,
                    "at": dt.datetime(2026, 10, 21, tzinfo=dt.UTC),
                    "actor": "system",
                    "event": "opened",
                    "from_status": None,
                    "to_status": "open",
                    "detail": None,
                }
                for i in ids
            ],
        )
    batch.clear()


class Session:
    """One keep-alive connection with the session cookie of a logged-in person."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):  # the server closed an idle keep-alive
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        timing = re.search(r"dur=([\d.]+)", response.getheader("Server-Timing") or "")
        return response.status, text, float(timing.group(1)) if timing else float("nan")

    def login(self, staff_id: str) -> None:
        _, page, _ = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        status, _, _ = self.request(
            "POST",
            "/login",
            {"staff_id": staff_id, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
        )
        assert status == 303, f"login of {staff_id} failed: {status}"


def measure(session: Session, path: str, n: int, expect: str = "") -> tuple[float, float, float]:
    """(median, p95, median wall) in milliseconds over `n` requests, after one warm-up."""
    status, text, _ = session.request("GET", path)
    notes = re.findall(r'class="note">([^<]*)', text)
    assert status == 200 and expect in text, f"{path}: {status} {notes}"
    server, wall = [], []
    for _ in range(n):
        started = time.perf_counter()
        _, _, ms = session.request("GET", path)
        wall.append((time.perf_counter() - started) * 1000)
        server.append(ms)
    server.sort()
    return statistics.median(server), server[math.ceil(len(server) * 0.95) - 1], statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--todos", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; do not append to docs/benchmarks.md"
    )
    args = parser.parse_args()

    import uvicorn

    from portal.app import create_app
    from remediation.orchestration.runnow import Trigger
    from remediation.store.engines import open_store
    from remediation.store.models import Todo
    from tests.servers import free_port

    with tempfile.TemporaryDirectory() as tmp:
        source_url, store_url, drop = fresh_urls(args.backend, Path(tmp))
        try:
            store = open_store(store_url)
            started = time.perf_counter()
            logins = build(source_url, store, args.todos)
            print(f"built {args.todos} to-dos in {time.perf_counter() - started:.1f}s", file=sys.stderr)
            with store.connect() as conn:
                own = conn.scalar(
                    sa.select(sa.func.min(Todo.id)).where(
                        Todo.assignee_staff_id == logins["account manager"],
                        Todo.status == "open",
                        Todo.columns.not_in(["status", "mgr_staff_id"]),  # not corrected in the portal
                    )
                )
            app = create_app(
                store,
                source_url,
                today=lambda: DAY,
                datadocs_root=Path(tmp) / "docs",
                trigger=Trigger(lambda dag, day: None),
            )
            port = free_port()
            server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.05)
            pages: list[tuple[str, ...]] = [
                ("baseline: /healthz", "data office", "/healthz"),
                ("my to-dos (account manager)", "account manager", "/todos"),
                ("my to-dos, page 3, all statuses", "account manager", "/todos?status=all&page=3"),
                (
                    "record page with the owner's edit form",
                    "account manager",
                    f"/todos/{own}",
                    'name="field_',
                ),
                ("dashboard (sub-branch head)", "sub-branch head", "/dashboard"),
                ("to-dos of the sub-branch", "sub-branch head", "/todos"),
                ("dashboard (branch head)", "branch head", "/dashboard"),
                ("dashboard (data office, whole bank)", "data office", "/dashboard"),
                ("to-dos, whole bank, page 1", "data office", "/todos"),
                (
                    "to-dos, whole bank, overdue + one rule",
                    "data office",
                    "/todos?due=overdue&rule=MER-C1-PHONE-FORMAT&sort=-due",
                ),
                ("to-dos, whole bank, page 1000", "data office", "/todos?status=all&page=1000"),
                ("institution summary table (snapshot)", "data office", "/summary"),
                ("appeals (arbitration)", "data office", "/appeals"),
                ("check runs", "data office", "/office/runs"),
            ]
            sessions: dict[str, Session] = {}
            for role, staff_id in logins.items():
                sessions[role] = Session(port)
                sessions[role].login(staff_id)
            rows = []
            for label, role, path, *expect in pages:
                median, p95, wall = measure(sessions[role], path, args.requests, *expect)
                rows.append((label, path, median, p95, wall))
                print(
                    f"{label:45} median {median:7.1f} ms  p95 {p95:7.1f} ms  (wall {wall:.1f} ms)",
                    file=sys.stderr,
                )
            server.should_exit = True
            thread.join(timeout=10)
        finally:
            drop()
    base = rows[0][2]
    command = "python bench/bench_portal.py " + " ".join(sys.argv[1:])
    lines = [
        "",
        f"## Portal pages, {args.todos:,} to-dos ({args.backend}, {dt.date.today().isoformat()})",
        "",
        f"`{command.strip()}` — {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}. Server time (`Server-Timing`) over {args.requests} requests "
        "per page after one warm-up, uvicorn in the same process; the baseline is `/healthz` measured the same way. "
        "Target: under 300 ms per page.",
        "",
        "| page | path | median ms | p95 ms | × baseline (median) |",
        "|---|---|---:|---:|---:|",
        *(
            f"| {label} | `{path}` | {median:.1f} | {p95:.1f} | {median / base:.0f} |"
            for label, path, median, p95, _ in rows
        ),
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if not args.no_write:
        target = ROOT / "docs" / "benchmarks.md"
        if not target.exists():
            target.write_text(
                "# Benchmarks\n\nMeasurements, newest last, each with the command that made it.\n"
            )
        with target.open("a", encoding="utf-8") as fh:
            fh.write(report)


if __name__ == "__main__":
    main()
