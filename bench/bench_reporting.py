"""Reporting at scale: the whole-bank dashboard and the summary table under 20 concurrent logged-in users.

    .venv/bin/python bench/bench_reporting.py postgresql+psycopg://postgres@127.0.0.1:5432/dqgov_report_5m \
        [--users 20] [--requests 2000] [--seconds 60] [--runs 3] [--port 18500]

The store is one filled by `bench/load_reporting.py`. The portal runs as in production, `dqgov serve`
(uvicorn, one process, the settings from the environment) in a child process on `--port`; this process
drives it over loopback: `--users` logged-in people (half the data office, half the heads of the five
provincial branches), each on its own keep-alive connection, asking one page after another (with no pause,
or `--think` seconds on average between pages, as people reading them),
in turn the dashboard (`/dashboard`: the whole bank, or the province) and the summary table (`/summary`: the
latest snapshot, all 500 institutions, or the province's). A run stops after `--requests` requests or
`--seconds` seconds, whichever comes first. With `--fixes N`, a thread of this process fixes N open to-dos a
second during each run (each its own transaction, through the tally's triggers and the portal's notices),
and sets them open again after the run. Latency is measured by the client (request sent to body read);
each page's p50/p95/p99 is given per run and as the median of the runs, with the portal process's own CPU
time per request (user + system, from /proc: what the page costs, whatever else the machine is doing).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from benchdb import pg_settings

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"
PAGES = (("dashboard", "/dashboard"), ("summary table", "/summary"))
ROLES = (("data office", ("D0001",)), ("provincial branch head", ("B1", "B2", "B3", "B4", "B5")))


def start_portal(url: str, port: int, home: Path, code: Path) -> subprocess.Popen[bytes]:
    """`dqgov serve` of the code in `code` (this checkout, or an older one unpacked for comparison)."""
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "DQGOV_STORE_URL": url,
        "DQGOV_SOURCE_URL": url,
        "DQGOV_PORTAL_PORT": str(port),
        "DQGOV_HOME": str(home),
        "GX_ANALYTICS_ENABLED": "false",
    }
    command = [sys.executable, "-m", "remediation.cli.main", "serve"]
    process = subprocess.Popen(command, env=env, cwd=code)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"the portal exited with {process.returncode}")
        time.sleep(0.3)
    process.kill()
    raise SystemExit("the portal did not answer /healthz within 120 s")


async def fetch(client: httpx.AsyncClient, method: str, path: str, **kw: Any) -> httpx.Response:
    """The request, sent again once when the server had just closed the idle keep-alive connection."""
    try:
        return await client.request(method, path, **kw)
    except httpx.RemoteProtocolError:
        return await client.request(method, path, **kw)


async def login(client: httpx.AsyncClient, staff_id: str) -> None:
    page = await fetch(client, "GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None, "no CSRF token on /login"
    answer = await fetch(
        client,
        "POST",
        "/login",
        data={"staff_id": staff_id, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
    )
    assert answer.status_code == 303, f"login of {staff_id} failed: {answer.status_code}"


async def warm_up(client: httpx.AsyncClient) -> None:
    """One request of each page per person, not counted."""
    for _, path in PAGES:
        with contextlib.suppress(httpx.TimeoutException):
            await fetch(client, "GET", path)


class Budget:
    """Requests left and the time limit shared by every user of a run."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.left = requests
        self.until = time.monotonic() + seconds

    def take(self) -> bool:
        if self.left <= 0 or time.monotonic() >= self.until:
            return False
        self.left -= 1
        return True


async def user(
    client: httpx.AsyncClient,
    role: str,
    first: int,
    budget: Budget,
    samples: dict[tuple[str, str], list[float]],
    think: float,
) -> int:
    errors = 0
    turn = first
    pause = random.Random(first)
    while budget.take():
        if think:  # reading the page before the next one: exponential, mean `think` seconds
            await asyncio.sleep(min(pause.expovariate(1 / think), 5 * think))
        page, path = PAGES[turn % len(PAGES)]
        turn += 1
        started = time.perf_counter()
        try:
            status = (await fetch(client, "GET", path)).status_code
        except (httpx.TimeoutException, httpx.RemoteProtocolError):
            status = 0
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            errors += 1
            samples[(role, page + " (not 200)")].append(elapsed)
        samples[(role, page)].append(elapsed)
    return errors


class Fixer:
    """`per_second` to-dos fixed while the users read, as account managers do during the day: open to-dos of
    the whole bank in turn set to fixed (each one a transaction of its own, so the tally's triggers and the
    portal's notices run as for a real fix); `undo` sets them open again, leaving the store as it was."""

    def __init__(self, url: str, per_second: float) -> None:
        self.engine = sa.create_engine(url)
        self.per_second = per_second
        self.done: list[int] = []
        self.stop = threading.Event()
        with self.engine.connect() as conn:
            self.ids = list(
                conn.scalars(
                    sa.text("SELECT id FROM dq_todo WHERE status = 'open' ORDER BY id DESC LIMIT 5000")
                )
            )
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        for todo in self.ids:
            if self.stop.wait(1 / self.per_second):
                return
            with self.engine.begin() as conn:
                conn.execute(sa.text("UPDATE dq_todo SET status = 'fixed' WHERE id = :id"), {"id": todo})
            self.done.append(todo)

    def undo(self) -> int:
        self.stop.set()
        self.thread.join()
        with self.engine.begin() as conn:
            for todo in self.done:
                conn.execute(sa.text("UPDATE dq_todo SET status = 'open' WHERE id = :id"), {"id": todo})
        self.engine.dispose()
        return len(self.done)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (those gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


async def one_run(
    port: int, users: int, requests: int, seconds: float, think: float, portal: int, fixer: Fixer | None
) -> tuple[dict[tuple[str, str], list[float]], int, float, float]:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits)
        for _ in range(users)
    ]
    roles = []
    for n, client in enumerate(clients):
        role, ids = ROLES[n % len(ROLES)]
        await login(client, ids[(n // len(ROLES)) % len(ids)])
        roles.append(role)
    await asyncio.gather(*(warm_up(client) for client in clients))
    samples: dict[tuple[str, str], list[float]] = defaultdict(list)
    budget = Budget(requests, seconds)
    cpu = cpu_seconds([portal])
    started = time.perf_counter()
    if fixer is not None:
        fixer.thread.start()
    errors = await asyncio.gather(
        *(user(c, r, n, budget, samples, think) for n, (c, r) in enumerate(zip(clients, roles, strict=True)))
    )
    wall = time.perf_counter() - started
    cpu = cpu_seconds([portal]) - cpu
    if fixer is not None:
        print(f"  to-dos fixed during the run: {fixer.undo()} (set open again)", file=sys.stderr)
    for client in clients:
        await client.aclose()
    return samples, sum(errors), wall, cpu


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * p) - 1)]


def settings_line(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        todos = conn.scalar(sa.text("SELECT reltuples::bigint FROM pg_class WHERE relname = 'dq_todo'"))
    engine.dispose()
    return f"{pg_settings(url, ['dq_todo'])}; dq_todo ≈ {todos:,} rows"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--port", type=int, default=18500)
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a person reads a page before the next (0: none)",
    )
    parser.add_argument(
        "--fixes",
        type=float,
        default=0.0,
        help="to-dos fixed per second while the users read (0: none): each one changes the live figures",
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=Path(os.environ.get("DQGOV_HOME", ".")).resolve(),
        help="DQGOV_HOME of the portal: where the loader left the store's hash key (default: as the loader's)",
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="serve the portal of this source tree (e.g. `git archive <commit> | tar -x -C DIR`)",
    )
    args = parser.parse_args()
    args.home.mkdir(parents=True, exist_ok=True)
    print(settings_line(args.url), file=sys.stderr)
    portal = start_portal(args.url, args.port, args.home, args.code.resolve())
    runs = []
    try:
        for n in range(args.runs):
            samples, errors, wall, cpu = asyncio.run(
                one_run(
                    args.port,
                    args.users,
                    args.requests,
                    args.seconds,
                    args.think,
                    portal.pid,
                    Fixer(args.url, args.fixes) if args.fixes else None,
                )
            )
            count = sum(len(v) for v in samples.values())
            print(
                f"run {n + 1}: {count} requests in {wall:.1f} s ({count / wall:.1f}/s), {errors} errors",
                file=sys.stderr,
            )
            for key, values in sorted(samples.items()):
                print(
                    f"  {key[0]:24} {key[1]:14} n={len(values):5} p50 {percentile(values, 0.5):7.1f} "
                    f"p95 {percentile(values, 0.95):7.1f} p99 {percentile(values, 0.99):7.1f} ms",
                    file=sys.stderr,
                )
            print(f"  CPU of the portal process per request: {cpu / count * 1000:.0f} ms", file=sys.stderr)
            runs.append((samples, errors, count / wall, cpu / count * 1000))
    finally:
        portal.terminate()
        portal.wait(timeout=30)
    keys = sorted({k for r in runs for k in r[0]})
    print(f"\n`{' '.join(['.venv/bin/python', 'bench/bench_reporting.py', *sys.argv[1:]])}`\n")
    print(settings_line(args.url) + "\n")
    print(
        f"CPU of the portal process (user + system) per request, median of {len(runs)} runs: "
        f"{statistics.median(r[3] for r in runs):.0f} ms.\n"
    )
    print(
        f"Throughput, median of {len(runs)} runs: {statistics.median(r[2] for r in runs):.1f} requests/s; "
        f"errors: {sum(r[1] for r in runs)}.\n"
    )
    print("| who | page | requests per run | p50 ms | p95 ms | p99 ms | p95 of each run |")
    print("|---|---|---:|---:|---:|---:|---|")
    for key in keys:
        per_run = [r[0][key] for r in runs if r[0].get(key)]
        p = {q: statistics.median(percentile(v, q) for v in per_run) for q in (0.5, 0.95, 0.99)}
        each = " / ".join(f"{percentile(v, 0.95):.0f}" for v in per_run)
        print(
            f"| {key[0]} | {key[1]} | {statistics.median(len(v) for v in per_run):.0f} | {p[0.5]:.1f} | "
            f"{p[0.95]:.1f} | {p[0.99]:.1f} | {each} |"
        )


if __name__ == "__main__":
    main()
