"""Background builds of GX Data Docs, one thread per run, with their state for the runs page."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from remediation.errors import DqgovError
from remediation.reporting.datadocs import DataDocsError, build_data_docs


class DocsJobs:
    """At most one build per run at a time; `state(run_id)` is building | failed | None (idle/done), and
    `failure(run_id)` says why a build failed."""

    def __init__(self, store: sa.Engine, source_url: str, root: Path) -> None:
        self.store = store
        self.source_url = source_url
        self.root = root
        self._lock = threading.Lock()
        self._states: dict[int, str] = {}
        self._failures: dict[int, DqgovError] = {}
        self._threads: dict[int, threading.Thread] = {}

    def state(self, run_id: int) -> str | None:
        with self._lock:
            return self._states.get(run_id)

    def failure(self, run_id: int) -> DqgovError | None:
        with self._lock:
            return self._failures.get(run_id)

    def start(self, run_id: int) -> bool:
        with self._lock:
            if self._states.get(run_id) == "building":
                return False
            self._states[run_id] = "building"
            thread = threading.Thread(
                target=self._build, args=(run_id,), name=f"dqgov-docs-{run_id}", daemon=True
            )
            self._threads[run_id] = thread
            thread.start()
        return True

    def wait(self, run_id: int, timeout: float | None = None) -> str | None:
        thread = self._threads.get(run_id)
        if thread is not None:
            thread.join(timeout)
        return self.state(run_id)

    def _build(self, run_id: int) -> None:
        try:
            build_data_docs(self.store, self.source_url, run_id, self.root)
        except Exception as exc:  # GX's own errors are not the user's to read: kept as technical detail
            first = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            with self._lock:
                self._states[run_id] = "failed"
                self._failures[run_id] = exc if isinstance(exc, DqgovError) else DataDocsError(first)
            return
        with self._lock:
            self._states.pop(run_id, None)
            self._failures.pop(run_id, None)
