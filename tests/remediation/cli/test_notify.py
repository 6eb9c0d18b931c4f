"""`dqgov remind` and `dqgov notify` as an operator runs them: real processes, a real SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.factories import CHECK_DATE, build_source, merchant_row
from tests.servers import SmtpSink

DQGOV = str(Path(sys.executable).with_name("dqgov"))


def dqgov(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DQGOV, *args],
        env={**os.environ, "DQGOV_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_remind_then_notify_sends_each_digest_once(databases: Any, tmp_path: Path) -> None:
    source_url, store_url = databases.new("source"), databases.new("store")
    build_source(source_url, [merchant_row(1, contact_phone="12345"), merchant_row(2, uscc=None)])
    checked = dqgov(
        "check",
        "--source-url",
        source_url,
        "--check-date",
        str(CHECK_DATE),
        home=tmp_path,
        DQGOV_STORE_URL=store_url,
    )
    assert checked.returncode == 0, checked.stderr
    smtp = SmtpSink()
    smtp.start()
    try:
        env = {"DQGOV_STORE_URL": store_url, **smtp.env()}
        remind = dqgov("remind", "--date", str(CHECK_DATE), home=tmp_path, **env)
        assert remind.returncode == 0, remind.stderr
        assert "digests 1 (escalations 0); queued: email 1, inbox 1 [channels: email, inbox]" in remind.stdout
        sent = dqgov("notify", home=tmp_path, **env)
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.startswith("sent 2 (email 1, inbox 1); retrying later 0; dead 0")
        again = [
            dqgov(*cmd, home=tmp_path, **env) for cmd in (("remind", "--date", str(CHECK_DATE)), ("notify",))
        ]
        assert "queued: none" in again[0].stdout and again[1].stdout.startswith("sent 0 (none)")
    finally:
        smtp.stop()
    assert smtp.recipients == ["m101@bank.example"]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ("remind", "--date", "2026-02-30"),
            {},
            "dqgov: error: --date '2026-02-30' is not a date in the form YYYY-MM-DD",
        ),
        (
            ("notify",),
            {"DQGOV_SMTP_HOST": "127.0.0.1", "DQGOV_SMTP_PORT": "smtp"},
            "dqgov: error: DQGOV_SMTP_PORT='smtp' is not a port number",
        ),
        (
            ("remind",),
            {"DQGOV_WECOM_WEBHOOK_URL": "qyapi/webhook"},
            "dqgov: error: DQGOV_WECOM_WEBHOOK_URL is not an http(s) URL",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...], env: dict[str, str], message: str, tmp_path: Path
) -> None:
    done = dqgov(*args, home=tmp_path, DQGOV_STORE_URL=f"sqlite:///{tmp_path / 'store.sqlite'}", **env)
    assert (done.returncode, done.stderr.strip()) == (2, message)
