"""Settings, declared once: name, default and help. The README's settings table is tested against this."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DQGOV_HOME", ".", "Folder that holds `var/` (the embedded store, demo source, Airflow home)."),
    Setting(
        "DQGOV_STORE_URL",
        "sqlite:///$DQGOV_HOME/var/dqgov.sqlite",
        "Governance store (SQLAlchemy URL): SQLite embedded, PostgreSQL in production.",
    ),
    Setting(
        "DQGOV_SOURCE_URL",
        "sqlite:///$DQGOV_HOME/var/demo_source.sqlite",
        "Source database the DAGs check (read-only; any SQLAlchemy URL following the contract).",
    ),
    Setting("DQGOV_PORTAL_PORT", "8000", "Port the portal listens on (127.0.0.1)."),
    Setting("DQGOV_POLICY_FILE", "", "Remediation policy YAML (SLAs, cards, scoring); empty: the packaged policy.yml."),
    Setting(
        "DQGOV_RETRY_DELAY_SECONDS", "300", "Wait before Airflow retries a failed check task (2 retries)."
    ),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def home() -> Path:
    return Path(os.environ.get("DQGOV_HOME") or ".").resolve()


def get(name: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    return _BY_NAME[name].default.replace("$DQGOV_HOME", str(home()))
