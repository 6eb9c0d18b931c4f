"""`dqgov appeal …`, `dqgov todo claim-fixed` and `dqgov recheck` as real processes: output, exit codes, errors,
and the audit entries every change made from the command line leaves."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from remediation.store.workflow_models import AuditEntry
from tests.factories import CHECK_DATE, update_record
from tests.workflowbank import GOOD_PHONE, build_bank, key

DQGOV = str(Path(sys.executable).with_name("dqgov"))


def test_appeal_and_recheck_commands(databases: Any, tmp_path: Path) -> None:
    bank = build_bank(databases)
    store_url = bank.store.url.render_as_string(hide_password=False)

    def dqgov(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DQGOV_STORE_URL": store_url, "DQGOV_HOME": str(tmp_path)}
        return subprocess.run([DQGOV, *args], env=env, capture_output=True, text=True, timeout=300)

    def ok(*args: str) -> str:
        done = dqgov(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def refused(*args: str) -> str:
        done = dqgov(*args)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith("dqgov: error: ") and done.stderr.count("\n") == 1, done.stderr
        return done.stderr

    todo_id = str(bank.todo_id(2, "MER-C1-PHONE-FORMAT"))
    assert ok("appeal", "file", todo_id, "--staff", "M101", "--reason", "境外号码") == (
        f"appeal 1 filed on to-do {todo_id}; it waits at coordination\n"
    )
    assert "is not a head of institution 110100" in refused(
        "appeal", "coordinate", "1", "--staff", "M102", "--decision", "accept"
    )
    assert "a rejection needs a note" in refused(
        "appeal", "coordinate", "1", "--staff", "S101", "--decision", "reject"
    )
    ok("appeal", "coordinate", "1", "--staff", "S101", "--decision", "pass_up", "--note", "请数据管理部认定")
    assert f"appeal 1  to-do {todo_id} (open)" in ok("appeal", "list", "--staff", "D001")
    ok("appeal", "arbitrate", "1", "--staff", "D001", "--decision", "accept", "--date", str(CHECK_DATE))
    assert ok("appeal", "list", "--staff", "D001") == "no appeals\n"
    history = ok("appeal", "list", "--todo", todo_id)
    assert (
        "accepted at arbitration" in history and "S101 pass_up at coordination: 请数据管理部认定" in history
    )
    assert f"active, {CHECK_DATE} – 2027-11-20" in history
    assert "exactly one of --staff ID or --todo ID" in refused("appeal", "list")

    claimed = str(bank.todo_id(3, "MER-C1-PHONE-FORMAT"))
    assert "pending verification" in ok("todo", "claim-fixed", claimed, "--staff", "M101")
    assert f"to-do {claimed} is already waiting" in refused("todo", "claim-fixed", claimed, "--staff", "M101")
    update_record(bank.source, "merchant", key(3), contact_phone=GOOD_PHONE)
    source = ["--source-url", bank.source_url, "--table", "merchant", "--check-date", str(CHECK_DATE)]
    out = ok("recheck", *source, "--key", key(3))
    assert "fails MER-E5-LICENCE-EXPIRED" in out and "fixed 1" in out
    assert f"to-do {claimed}  MER-C1-PHONE-FORMAT  fixed" in out
    assert "does not exist in the source" in refused("recheck", *source, "--key", "nope")


def test_every_change_made_from_the_command_line_is_audited_with_who_and_where(
    databases: Any, tmp_path: Path
) -> None:
    bank = build_bank(databases)
    env = {
        **os.environ,
        "DQGOV_STORE_URL": bank.store.url.render_as_string(hide_password=False),
        "DQGOV_HOME": str(tmp_path),
    }

    def ok(*args: str) -> None:
        done = subprocess.run([DQGOV, *args], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr

    todo_id = str(bank.todo_id(2, "MER-C1-PHONE-FORMAT"))
    ok("appeal", "file", todo_id, "--staff", "M101", "--reason", "境外号码")
    ok("appeal", "withdraw", "1", "--staff", "M101")
    ok("appeal", "file", todo_id, "--staff", "M101", "--reason", "境外号码，附证明")
    ok("appeal", "coordinate", "2", "--staff", "S101", "--decision", "reject", "--note", "不符合")
    ok("appeal", "escalate", "2", "--staff", "M101")
    ok("appeal", "arbitrate", "2", "--staff", "D001", "--decision", "reject", "--note", "维持")
    claimed = str(bank.todo_id(3, "MER-C1-PHONE-FORMAT"))
    ok("todo", "claim-fixed", claimed, "--staff", "M101")
    update_record(bank.source, "merchant", key(3), contact_phone=GOOD_PHONE)
    ok(
        "recheck",
        "--source-url",
        bank.source_url,
        "--table",
        "merchant",
        "--key",
        key(3),
        "--check-date",
        str(CHECK_DATE),
    )
    ok(
        "campaign",
        "create",
        "--name",
        "受益所有人专项",
        "--baseline",
        str(CHECK_DATE),
        "--deadline",
        "2027-06-30",
    )
    ok("user", "set-password", "M101", "--password", "a-long-password")

    with bank.store.connect() as conn:
        entries = conn.execute(
            sa.select(
                AuditEntry.staff_id, AuditEntry.action, AuditEntry.record_key, AuditEntry.client
            ).order_by(AuditEntry.id)
        ).all()
    assert [(e.staff_id, e.action) for e in entries] == [
        ("M101", "appeal_filed"),
        ("M101", "appeal_withdraw"),
        ("M101", "appeal_filed"),
        ("S101", "appeal_reject"),
        ("M101", "appeal_escalate"),
        ("D001", "appeal_reject"),
        ("M101", "claim_fixed"),
        (None, "recheck"),
        (None, "campaign_created"),
        ("M101", "password_set"),
    ]
    assert entries[0].record_key == key(2) and entries[7].record_key == key(3)
    assert {e.client for e in entries} == {f"cli:{getpass.getuser()}@{socket.gethostname()}"[:64]}
    done = subprocess.run([DQGOV, "audit", "verify"], env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.startswith("audit log intact: 10 entries\n"), done.stdout
