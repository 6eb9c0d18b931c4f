"""The value hash is keyed (HMAC key chain): no ID number comes back from the store, upgrades and key
rotations keep exemptions holding, and a process with another key stops instead of lapsing them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from expectations.reference import county_codes
from remediation.errors import DqgovError
from remediation.masking import value_hash
from remediation.store.engines import alembic_config, open_store, upgrade
from remediation.store.hashkey import KeyChain, load_chain
from remediation.store.hashstore import HASHED_TABLES
from remediation.store.models import Todo
from remediation.store.workflow_models import Exemption
from remediation.workflow.appeals import coordinate, file_appeal
from tests.dbenv import Databases, source_engine
from tests.factories import CHECK_DATE, build_source, merchant_row, update_record
from tests.workflowbank import BAD_PHONE, SUITES, Bank, build_bank, key

DQGOV = str(Path(sys.executable).with_name("dqgov"))
PHONE = "MER-C1-PHONE-FORMAT"
ID_RULE = "MER-P3-LEGAL-REP-ID-VALID"
BAD_ID = "360402198506121230"  # the check character should be 7
DAY = dt.timedelta(days=1)


@pytest.fixture
def own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A key file of this test's own (rotation changes it; other tests keep the session's)."""
    path = tmp_path / "secrets" / "hash.key"
    monkeypatch.setenv("DQGOV_HASH_KEY_FILE", str(path))
    yield path


def plain_digest(values: list[str | None]) -> str:
    """What the store held before keyed hashes: SHA-256 of the rule's values as JSON."""
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()


def stored_hashes(store: sa.Engine) -> dict[str, list[str]]:
    with store.connect() as conn:
        return {
            t: sorted(conn.scalars(sa.text(f"SELECT value_hash FROM {t} WHERE value_hash IS NOT NULL")))
            for t in HASHED_TABLES
        }


def exempt(bank: Bank, seq: int, rule_id: str = PHONE) -> int:
    """An appeal of the to-do, accepted by the head: the to-do is exempted for these values."""
    todo_id = bank.todo_id(seq, rule_id)
    appeal = file_appeal(bank.store, todo_id, "M101", "境外号码，规则不适用")
    coordinate(bank.store, appeal, "S101", "accept", "同意")
    assert bank.todo(seq, rule_id)["status"] == "exempted"
    return todo_id


def exemption_state(bank: Bank, todo_id: int) -> tuple[str, str]:
    with bank.store.connect() as conn:
        todo = conn.scalar(sa.select(Todo.status).where(Todo.id == todo_id))
        exemption = conn.scalar(sa.select(Exemption.status).where(Exemption.todo_id == todo_id))
    return str(todo), str(exemption)


def test_a_recovered_id_attack_finds_nothing_without_the_key(databases: Databases) -> None:
    source_url = databases.new("source")
    build_source(source_url, [merchant_row(1, legal_rep_id_no=BAD_ID)]).dispose()
    store = open_store(databases.new("store"))
    from remediation.checks.pipeline import run_suite

    run_suite(source_engine(source_url), store, SUITES["merchant"], CHECK_DATE)
    with store.connect() as conn:
        todo = conn.execute(sa.select(Todo).where(Todo.rule_id == ID_RULE)).one()
    assert todo.masked_value == "legal_rep_id_no=360***********1230; legal_rep_id_type=01"
    # the attacker's candidates: every county of 360…, every birth date of 1985, the shown last four
    counties = sorted(c for c in county_codes() if c.startswith("360"))
    days = [dt.date(1985, 1, 1) + dt.timedelta(d) for d in range(365)]
    candidates = [f"{c}{d:%Y%m%d}1230" for c in counties for d in days]
    assert BAD_ID in candidates and len(candidates) > 25_000
    assert [c for c in candidates if plain_digest([c, "01"]) == todo.value_hash] == []
    chain = load_chain()  # only the key holder finds it again
    found = [
        c
        for c in candidates
        if value_hash(
            ("legal_rep_id_no", "legal_rep_id_type"), {"legal_rep_id_no": c, "legal_rep_id_type": "01"}, chain
        )
        == todo.value_hash
    ]
    assert found == [BAD_ID]


def test_hashes_differ_under_another_key_and_repeat_under_the_same() -> None:
    values: Mapping[str, Any] = {"contact_phone": BAD_PHONE}
    one, other = KeyChain((b"1" * 32,), "a"), KeyChain((b"2" * 32,), "b")
    assert value_hash(("contact_phone",), values, one) == value_hash(("contact_phone",), values, one)
    assert value_hash(("contact_phone",), values, one) != value_hash(("contact_phone",), values, other)
    assert value_hash(("contact_phone",), values, one) != plain_digest([BAD_PHONE])
    longer = KeyChain((b"1" * 32, b"2" * 32), "c")
    assert value_hash(("contact_phone",), values, longer) not in {
        value_hash(("contact_phone",), values, c) for c in (one, other)
    }


def store_names_in_clear(
    bank: Bank, todo_id: int, micro: int, company: int
) -> dict[str, tuple[str, str, int]]:
    """Names as the code before masking by type stored them (raw SQL: the schema is an old one);
    {label: (table, column, row id)}."""
    with bank.store.begin() as conn:
        for todo, text in (
            (micro, "mer_reg_name=欧阳小明; mer_type=micro"),
            (company, "mer_reg_name=九江长江实业有限公司; mer_type=enterprise"),
        ):
            conn.execute(
                sa.text("UPDATE dq_todo SET masked_value = :t WHERE id = :i"), {"t": text, "i": todo}
            )
        correction = conn.execute(
            sa.text(
                "INSERT INTO dq_correction (todo_id, table_name, record_key, changes, status, staff_id, "
                "created_at) VALUES (:t, 'merchant', :k, :c, 'written', 'M101', :at) RETURNING id"
            ),
            {"t": todo_id, "k": key(2), "c": '{"settle_acct_name": "王小红"}', "at": dt.datetime.now(dt.UTC)},
        ).scalar_one()
        inbox = conn.execute(
            sa.text(
                "INSERT INTO dq_inbox (staff_id, subject, body, created_at) VALUES ('M101', 's', :b, :at) "
                "RETURNING id"
            ),
            {"b": "1. 商户 … · settle_acct_name=王小红", "at": dt.datetime.now(dt.UTC)},
        ).scalar_one()
    return {
        "micro": ("dq_todo", "masked_value", micro),
        "company": ("dq_todo", "masked_value", company),
        "correction": ("dq_correction", "changes", correction),
        "inbox": ("dq_inbox", "body", inbox),
    }


def read_names(bank: Bank, names: Mapping[str, tuple[str, str, int]]) -> dict[str, str]:
    with bank.store.connect() as conn:
        return {
            label: conn.scalar(sa.text(f"SELECT {column} FROM {table} WHERE id = :i"), {"i": row})
            for label, (table, column, row) in names.items()
        }


def test_the_upgrade_keeps_exemptions_holding_and_leaves_no_plain_digest(databases: Databases) -> None:
    bank = build_bank(databases)
    todo_id = exempt(bank, 2)
    # ids read with today's models, before the schema goes back to an older one they do not fit
    micro, company = bank.todo_id(3, "MER-E5-LICENCE-EXPIRED"), bank.todo_id(4, PHONE)
    # the store as the code before keyed hashes left it: schema before 0006, plain digests
    cfg = alembic_config(bank.store)
    before_0006 = ScriptDirectory.from_config(cfg).get_revision("0006").down_revision
    assert isinstance(before_0006, str)
    command.downgrade(cfg, before_0006)
    plain = plain_digest([BAD_PHONE])
    with bank.store.begin() as conn:
        for table in HASHED_TABLES:
            conn.execute(
                sa.text(f"UPDATE {table} SET value_hash = :h WHERE value_hash IS NOT NULL"), {"h": plain}
            )
    assert plain in stored_hashes(bank.store)["dq_exemption"]
    names = store_names_in_clear(bank, todo_id, micro, company)

    upgrade(bank.store)
    assert read_names(bank, names) == {
        "micro": "mer_reg_name=欧*; mer_type=micro",
        "company": "mer_reg_name=九江长江实业有限公司; mer_type=enterprise",  # not a person: in full
        "correction": '{"settle_acct_name": "王*"}',
        "inbox": "1. 商户 … · settle_acct_name=王*",
    }
    hashes = stored_hashes(bank.store)
    assert all(hashes[t] for t in ("dq_todo", "dq_exemption", "dq_appeal", "dq_finding"))
    assert not any(plain in found for found in hashes.values())
    bank.run(CHECK_DATE + DAY)  # a real check after the upgrade: the values did not change
    assert exemption_state(bank, todo_id) == ("exempted", "active")
    update_record(bank.source, "merchant", key(2), contact_phone="12345678902")
    bank.run(CHECK_DATE + 2 * DAY)  # and the exemption still lapses when they do
    assert exemption_state(bank, todo_id) == ("open", "lapsed")


def dqgov(*args: str, store_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DQGOV, *args],
        env={**os.environ, "DQGOV_STORE_URL": store_url, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_rotation_rewrites_every_hash_and_keeps_exemptions_holding(
    databases: Databases, own_key: Path
) -> None:
    bank = build_bank(databases)
    todo_id = exempt(bank, 2)
    before = stored_hashes(bank.store)
    url = bank.store.url.render_as_string(hide_password=False)
    done = dqgov("hashkey", "rotate", store_url=url)
    assert done.returncode == 0, done.stderr
    assert len(load_chain().keys) == 2 and stat.S_IMODE(own_key.stat().st_mode) == 0o600
    after = stored_hashes(bank.store)
    assert all(len(after[t]) == len(before[t]) for t in HASHED_TABLES)
    assert not set().union(*before.values()) & set().union(*after.values())  # every hash rewritten
    assert dqgov("hashkey", "show", store_url=url).returncode == 0
    bank.run(CHECK_DATE + DAY)  # hashes made with the longer chain match the rewritten ones
    assert exemption_state(bank, todo_id) == ("exempted", "active")
    assert bank.todo(2, PHONE)["value_hash"] in after["dq_exemption"]


def test_a_process_with_another_key_stops_in_one_line_instead_of_lapsing_exemptions(
    databases: Databases,
) -> None:
    bank = build_bank(databases)
    todo_id = exempt(bank, 2)
    url = bank.store.url.render_as_string(hide_password=False)
    done = dqgov(
        "check",
        "--source-url",
        bank.source_url,
        "--check-date",
        str(CHECK_DATE + DAY),
        store_url=url,
        DQGOV_HASH_KEY="ab" * 32,
    )
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("dqgov: error: the hash key of DQGOV_HASH_KEY") and "dqgov hashkey adopt" in line
    assert exemption_state(bank, todo_id) == ("exempted", "active")
    bad = dqgov("check", "--source-url", bank.source_url, store_url=url, DQGOV_HASH_KEY="short")
    assert bad.returncode == 2 and "DQGOV_HASH_KEY key 1" in bad.stderr


def test_two_processes_creating_the_key_at_once_share_one_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "home" / "var" / "secrets" / "hash.key"
    monkeypatch.setenv("DQGOV_HASH_KEY_FILE", str(path))
    code = "from remediation.store.hashkey import load_chain; print(load_chain(create=True).ids[0])"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(6)
    ]
    ids = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert len(ids) == 1 and all(len(i) == 16 for i in ids)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.chmod(0o644)
    with pytest.raises(DqgovError, match="chmod 600"):
        load_chain()
