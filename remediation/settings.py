"""Settings, declared once: name, default, help and how the text is read. The README's settings table is
tested against this (names and defaults).

`get` gives a setting's text (with `$DQGOV_HOME` filled in); `integer`, `number` and `flag` give it read by
its own parser, once per value, and a value that does not parse is a `SettingError` naming the setting.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from remediation.errors import DqgovError

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")


class SettingError(DqgovError):
    """A setting whose value cannot be used; the message names it."""


def text(raw: str) -> str:
    return raw


def integer(raw: str) -> int:
    return int(raw.strip())


def positive(raw: str) -> int:
    value = int(raw.strip())
    if value < 1:
        raise ValueError(f"{value} is not a positive whole number")
    return value


def port(raw: str) -> int:
    value = int(raw.strip())
    if not 0 < value < 65536:
        raise ValueError(f"{value} is outside 1–65535")
    return value


def number(raw: str) -> float:
    return float(raw.strip())


def flag(raw: str) -> bool:
    """The one reading of a yes/no setting: 1/true/yes/on or 0/false/no/off (or empty), any case."""
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ValueError(f"{raw!r} is not true or false")


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekdays(raw: str) -> frozenset[int]:
    """Days of the week (Monday = 0) named as `mon,thu`, or `daily` (every day), or `never`."""
    value = raw.strip().lower()
    if value == "daily":
        return frozenset(range(7))
    if value == "never":
        return frozenset()
    days = [d.strip() for d in value.split(",")]
    unknown = [d for d in days if d not in WEEKDAYS]
    if unknown:
        raise ValueError(f"{', '.join(unknown)} is not a day of the week")
    return frozenset(WEEKDAYS.index(d) for d in days)


_MEANING: dict[Callable[[str], Any], str] = {
    integer: "a whole number",
    positive: "a positive whole number",
    port: "a port number",
    number: "a number",
    flag: "true or false",
    weekdays: "days of the week (mon … sun, comma-separated), daily or never",
}


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    parse: Callable[[str], Any] = text


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
    Setting("DQGOV_PORTAL_PORT", "8000", "Port the portal listens on (127.0.0.1).", port),
    Setting(
        "DQGOV_RUN_LEASE_MINUTES",
        "30",
        "A check run not heard from for this long (no heartbeat while validating, or validated and not "
        "reconciled) is swept to *abandoned*.",
        number,
    ),
    Setting(
        "DQGOV_FULL_SWEEP",
        "sun",
        "Days of the week (by the run's logical date) on which the check DAGs evaluate every record; on the "
        "other days they evaluate only records that may have changed (`mon,thu`, `daily`: always full, "
        "`never`: full only when needed).",
        weekdays,
    ),
    Setting(
        "DQGOV_CHANGE_MARGIN_MINUTES",
        "60",
        "An incremental run takes records whose `updated_at` is at most this many minutes before the last "
        "run's newest `updated_at` (clock skew, long source transactions).",
        integer,
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
        "DQGOV_RETRY_DELAY_SECONDS",
        "300",
        "Wait before Airflow retries a failed check task (2 retries).",
        integer,
    ),
    Setting(
        "DQGOV_PORTAL_URL",
        "http://127.0.0.1:8000",
        "Address of the portal as people reach it; digests link to it.",
    ),
    Setting("DQGOV_SMTP_HOST", "", "SMTP server for e-mail digests; empty: no e-mail is queued or sent."),
    Setting("DQGOV_SMTP_PORT", "25", "Port of the SMTP server.", port),
    Setting("DQGOV_SMTP_FROM", "dqgov@localhost", "Sender address of e-mail digests."),
    Setting("DQGOV_SMTP_USER", "", "SMTP login user; empty: no login."),
    Setting("DQGOV_SMTP_PASSWORD", "", "SMTP login password."),
    Setting(
        "DQGOV_SMTP_STARTTLS", "false", "true: upgrade the SMTP connection with STARTTLS before login.", flag
    ),
    Setting(
        "DQGOV_WECOM_WEBHOOK_URL",
        "",
        "WeCom (企业微信) group-bot webhook for the data office's run alerts only (never digests: a group "
        "chat is read by many); empty: no group-bot message.",
    ),
    Setting(
        "DQGOV_WECOM_API_URL",
        "https://qyapi.weixin.qq.com",
        "WeCom API for application messages (a private deployment has its own address).",
    ),
    Setting(
        "DQGOV_WECOM_CORP_ID", "", "WeCom corp id (企业ID) for application messages; empty: none are sent."
    ),
    Setting("DQGOV_WECOM_AGENT_ID", "", "WeCom application's agent id (AgentId), a number.", integer),
    Setting("DQGOV_WECOM_SECRET", "", "WeCom application's secret (Secret) for `gettoken`."),
    Setting(
        "DQGOV_OA_TODO_URL",
        "",
        "The OA system's unified to-do (统一待办) endpoint: one OA to-do per person, kept current (POST JSON); "
        "empty: off.",
    ),
    Setting(
        "DQGOV_OA_TODO_AUTH_HEADER",
        "",
        "One header sent with every OA to-do call, as `Name: value` (e.g. `Authorization: Bearer …`).",
    ),
    Setting(
        "DQGOV_OA_TODO_TEMPLATE",
        "",
        "JSON file: the body of an OA to-do call with `{placeholders}` (docs/oa-todo.md); empty: the built-in one.",
    ),
    # the portal
    Setting(
        "DQGOV_WRITEBACK",
        "update",
        "How an accepted correction reaches the source: `update` (UPDATE the source row: the demo) or "
        "`outbox` (INSERT into `dq_correction_request` in the source database, which the bank's system consumes).",
    ),
    Setting(
        "DQGOV_WORKBOOK_MAX_MB",
        "64",
        "A returned to-do workbook larger than this many megabytes is refused before it is opened.",
        number,
    ),
    Setting(
        "DQGOV_WORKBOOK_MAX_UNZIPPED_MB",
        "1024",
        "A returned workbook whose parts unpack to more than this many megabytes (or one part more than 200 "
        "times its packed size) is refused as a zip bomb.",
        number,
    ),
    Setting(
        "DQGOV_EVIDENCE_MAX_MB",
        "10",
        "An appeal's evidence file (PDF, JPG, PNG) larger than this many megabytes is refused.",
        number,
    ),
    Setting("DQGOV_SESSION_HOURS", "8", "A portal login lasts this many hours.", number),
    Setting(
        "DQGOV_DB_POOL_SIZE",
        "15",
        "Connections each process keeps open to a PostgreSQL store or source for reuse (10 more are opened at"
        " a peak and closed after it).",
        positive,
    ),
    Setting(
        "DQGOV_REPORT_CACHE_SECONDS",
        "60",
        "The portal reuses a dashboard's or summary table's figures until the store's data changes (PostgreSQL"
        " notifies it), and never longer than this many seconds; 0: computed on every request.",
        number,
    ),
    Setting(
        "DQGOV_COOKIE_SECURE", "false", "true: the session cookie is sent over HTTPS only (behind TLS).", flag
    ),
    Setting(
        "DQGOV_AIRFLOW_API_URL",
        "",
        "Airflow API server (e.g. http://airflow:8080) for the portal's 'run now'; empty: run the DAGs embedded.",
    ),
    Setting(
        "DQGOV_AIRFLOW_USER",
        "dqgov",
        "Airflow user (admin) that `dqgov airflow up` configures and the portal's 'run now' logs in as.",
    ),
    Setting(
        "DQGOV_AIRFLOW_PASSWORD",
        "",
        "Password of DQGOV_AIRFLOW_USER; empty: one generated once in $DQGOV_HOME/var/secrets/airflow.password.",
    ),
    # the production tier's Airflow (`dqgov airflow up`)
    Setting(
        "DQGOV_AIRFLOW_DB_URL",
        "",
        "Airflow's metadata database (PostgreSQL URL) for `dqgov airflow up`; created if missing.",
    ),
    Setting("DQGOV_AIRFLOW_API_PORT", "8080", "Port of Airflow's API server and UI (127.0.0.1).", port),
    Setting("DQGOV_AIRFLOW_LOG_PORT", "8793", "Port of Airflow's task log server (127.0.0.1).", port),
    Setting(
        "DQGOV_CHECK_PARTITIONS",
        "1",
        "Key ranges the check DAG splits a table into, extracted by mapped tasks (1–64); conf `partitions`.",
        integer,
    ),
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
    """The setting's text: the environment's value, else its default (with `$DQGOV_HOME` filled in)."""
    value = os.environ.get(name)
    if value:
        return value
    default = _BY_NAME[name].default
    return default.replace("$DQGOV_HOME", str(home())) if "$DQGOV_HOME" in default else default


_parsed: dict[tuple[str, str], Any] = {}


def parse_as(name: str, raw: str) -> Any:
    """`raw` read by setting `name`'s parser (once per value); SettingError names the setting."""
    if (name, raw) not in _parsed:
        parse = _BY_NAME[name].parse
        try:
            _parsed[(name, raw)] = parse(raw)
        except ValueError:
            raise SettingError(f"{name}={raw!r} is not {_MEANING[parse]}") from None
    return _parsed[(name, raw)]


def _value(name: str, parse: Callable[[str], Any]) -> Any:
    if _BY_NAME[name].parse is not parse:
        raise TypeError(f"{name} is not read as {_MEANING.get(parse, parse.__name__)}")
    return parse_as(name, get(name))


def integer_of(name: str) -> int:
    return int(_value(name, integer))


def positive_of(name: str) -> int:
    return int(_value(name, positive))


def port_of(name: str) -> int:
    return int(_value(name, port))


def number_of(name: str) -> float:
    return float(_value(name, number))


def flag_of(name: str) -> bool:
    return bool(_value(name, flag))


def weekdays_of(name: str) -> frozenset[int]:
    return frozenset(_value(name, weekdays))
