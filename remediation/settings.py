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
    Setting(
        "DQGOV_RUN_LEASE_MINUTES",
        "30",
        "A check run not heard from for this long (no heartbeat while validating, or validated and not "
        "reconciled) is swept to *abandoned*.",
    ),
    Setting(
        "DQGOV_POLICY_FILE",
        "",
        "Remediation policy YAML (SLAs, cards, scoring); empty: the packaged policy.yml.",
    ),
    Setting(
        "DQGOV_CALENDAR_FILE",
        "$DQGOV_HOME/var/bank_calendar.yml",
        "The bank's working-day calendar (holidays, make-up working days) that extends chinese-calendar.",
    ),
    Setting(
        "DQGOV_RETRY_DELAY_SECONDS", "300", "Wait before Airflow retries a failed check task (2 retries)."
    ),
    Setting(
        "DQGOV_PORTAL_URL",
        "http://127.0.0.1:8000",
        "Address of the portal as people reach it; digests link to it.",
    ),
    Setting("DQGOV_SMTP_HOST", "", "SMTP server for e-mail digests; empty: no e-mail is queued or sent."),
    Setting("DQGOV_SMTP_PORT", "25", "Port of the SMTP server."),
    Setting("DQGOV_SMTP_FROM", "dqgov@localhost", "Sender address of e-mail digests."),
    Setting("DQGOV_SMTP_USER", "", "SMTP login user; empty: no login."),
    Setting("DQGOV_SMTP_PASSWORD", "", "SMTP login password."),
    Setting("DQGOV_SMTP_STARTTLS", "false", "true: upgrade the SMTP connection with STARTTLS before login."),
    Setting(
        "DQGOV_WECOM_WEBHOOK_URL",
        "",
        "WeCom (企业微信) group-bot webhook for digests; empty: no WeCom message is queued or sent.",
    ),
    # the portal
    Setting(
        "DQGOV_WRITEBACK",
        "update",
        "How an accepted correction reaches the source: `update` (UPDATE the source row: the demo) or "
        "`outbox` (INSERT into `dq_correction_request` in the source database, which the bank's system consumes).",
    ),
    Setting("DQGOV_SESSION_HOURS", "8", "A portal login lasts this many hours."),
    Setting("DQGOV_COOKIE_SECURE", "false", "true: the session cookie is sent over HTTPS only (behind TLS)."),
    Setting(
        "DQGOV_AIRFLOW_API_URL",
        "",
        "Airflow API server (e.g. http://airflow:8080) for the portal's 'run now'; empty: run the DAGs embedded.",
    ),
    Setting("DQGOV_AIRFLOW_API_TOKEN", "", "Bearer token for DQGOV_AIRFLOW_API_URL."),
    Setting(
        "DQGOV_METRICS_TOKEN",
        "",
        "Bearer token Prometheus sends to scrape /metrics; empty: only clients on 127.0.0.1 may scrape.",
    ),
    Setting(
        "DQGOV_DEMO_PASSWORD", "", "Password of the demo logins `dqgov demo` creates; empty: a random one."
    ),
    # secrets
    Setting(
        "DQGOV_HASH_KEY",
        "",
        "Key chain of the value hash (HMAC-SHA-256): keys in hex or base64, at least 32 bytes each, "
        "comma-separated, oldest first; empty: DQGOV_HASH_KEY_FILE.",
    ),
    Setting(
        "DQGOV_HASH_KEY_FILE",
        "$DQGOV_HOME/var/secrets/hash.key",
        "File holding the value-hash key chain when DQGOV_HASH_KEY is empty; generated on first use (0600).",
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
