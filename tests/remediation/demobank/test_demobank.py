from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import iso18245
import pytest
import sqlalchemy as sa
from stdnum import numdb

from expectations.checks import ID_TYPES, is_valid_id, is_valid_phone, is_valid_uscc, luhn_ok
from expectations.contract import customer_org, institution, merchant, staff
from expectations.reference import PROVINCE_NAMES
from remediation import demobank
from remediation.demobank import DemoBankSpec, InjectedDefect, generate_demo_bank, injected_defect, pools
from remediation.demobank.defects import INJECTORS
from remediation.demobank.generate import Builder
from remediation.demobank.org import build_org
from tests.dbenv import BACKENDS, Databases

SPEC = DemoBankSpec(merchants=2000, customers=1000, seed=7)

Row = dict[str, Any]
Findings = dict[str, set[str]]  # clause -> failing columns


@dataclass
class Bank:
    engine: sa.Engine
    defects: list[InjectedDefect]

    def rows(self, table: sa.Table) -> list[Row]:
        order = next(iter(table.primary_key.columns))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(table).order_by(order))]


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    dbs = Databases(request.param, tmp_path_factory.mktemp("demobank"))
    eng = sa.create_engine(dbs.new("demobank"))
    yield eng
    eng.dispose()
    dbs.drop_all()


@pytest.fixture(scope="module")
def bank(engine: sa.Engine) -> Bank:
    return Bank(engine, generate_demo_bank(engine, SPEC))


# --- a reference checker for the whole data standard, in plain Python ---------------------------------

MCCS = frozenset(m.mcc for m in iso18245.get_all_mccs())
LOC = numdb.get("cn/loc")
PERSON_NAME = re.compile(r"[\u4e00-\u9fff·A-Za-z ]{2,30}")
# Full-width letters, digits and space (docs/decisions.md: full-width punctuation is Chinese typography).
FULL_WIDTH = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")
EARLIEST_ESTABLISHMENT = dt.date(1949, 10, 1)
E3_PREFIXES = {
    ("merchant", "enterprise"): ("91", "93"),
    ("merchant", "individual"): ("92",),
    ("customer_org", "enterprise"): ("91",),
    ("customer_org", "individual"): ("92",),
    ("customer_org", "cooperative"): ("93",),
    ("customer_org", "public_institution"): ("12",),
    ("customer_org", "social_org"): ("51", "52", "53"),
}


def is_current_county(code: str) -> bool:
    if code in ("441900", "442000", "460400", "620200"):  # prefecture cities without counties
        return True
    if not re.fullmatch(r"[0-9]{6}", code) or code.endswith("00"):
        return False
    info = LOC.info(code)
    county = info[-1][1].get("county") if len(info) == 2 else None
    if not county:
        return False
    latest = county.split(",")[-1]
    if latest.startswith("["):
        period, name = latest[1:].split("]")
        return period.endswith("-") and name != "市辖区"
    return latest != "市辖区"


def odd_character(ch: str) -> bool:
    """Control and invisible format characters (Unicode Cc, Cf) and emoji, as docs/decisions.md lists them."""
    emoji = 0x2600 <= ord(ch) <= 0x27BF or 0x1F000 <= ord(ch) <= 0x1FAFF or ch in "\u20e3\ufe0f"
    return unicodedata.category(ch) in ("Cc", "Cf") or emoji


def g2_bad(value: str) -> bool:
    return (
        value != value.strip()
        or value in pools.PLACEHOLDERS
        or (len(value) > 1 and len(set(value)) == 1)
        or bool(FULL_WIDTH.search(value))
        or any(map(odd_character, value))
    )


def address_ok(value: str | None) -> bool:
    return value is not None and len(value) >= 8 and value.startswith(PROVINCE_NAMES) and not g2_bad(value)


def person_name_ok(value: str | None) -> bool:
    return value is not None and bool(PERSON_NAME.fullmatch(value)) and not g2_bad(value)


def settle_account_ok(acct_type: str, account: str) -> bool:
    if not account.isdigit():
        return False
    if acct_type == "corporate":
        return 10 <= len(account) <= 25
    return 16 <= len(account) <= 19 and luhn_ok(account)


def check_record(table: str, row: Row, active_staff: set[str], today: dt.date) -> Findings:
    found: Findings = defaultdict(set)

    def fail(clause: str, column: str, bad: bool) -> None:
        if bad:
            found[clause].add(column)

    is_merchant = table == "merchant"
    kind = row["mer_type"] if is_merchant else row["entity_type"]
    needs_uscc = kind != "micro"
    bo_required = kind == "enterprise" if is_merchant else kind in ("enterprise", "cooperative")
    for column, value in row.items():
        fail("G2", column, isinstance(value, str) and g2_bad(value))
    fail("G3", "mgr_staff_id", row["mgr_staff_id"] not in active_staff)

    name_column = "mer_reg_name" if is_merchant else "cust_name"
    name = row[name_column]
    fail("E1", name_column, name is None or len(name) < 2 or g2_bad(name))
    uscc = row["uscc"]
    fail("E2", "uscc", (uscc is None and needs_uscc) or (uscc is not None and not is_valid_uscc(uscc)))
    if uscc is not None:
        if kind == "rural_collective":
            fail("E3", "uscc", not re.match(r"N[0-9]", uscc))
        else:
            fail("E3", "uscc", not uscc.startswith(E3_PREFIXES[(table, kind)]))
    end = row["licence_end"]
    fail("E5", "licence_end", (end is None and needs_uscc) or (end is not None and end < today))
    if not is_merchant:
        founded = row["establishment_date"]
        fail("E6", "establishment_date", founded is None or not EARLIEST_ESTABLISHMENT <= founded <= today)
        capital = row["reg_capital"]
        fail("E7", "reg_capital", kind in ("enterprise", "cooperative") and (capital is None or capital <= 0))
    address, scope = row["reg_address"], row["business_scope"]
    fail("E8", "reg_address", (needs_uscc or address is not None) and not address_ok(address))
    scope_ok = scope is not None and len(scope) >= 4 and not g2_bad(scope)
    fail("E9", "business_scope", (needs_uscc or scope is not None) and not scope_ok)

    fail("P1", "legal_rep_name", not person_name_ok(row["legal_rep_name"]))
    fail("P2", "legal_rep_id_type", row["legal_rep_id_type"] not in ID_TYPES)
    id_no = row["legal_rep_id_no"]
    id_type = row["legal_rep_id_type"]  # a number is judged against a known type only: else it is P2's
    fail(
        "P3",
        "legal_rep_id_no",
        id_no is None or (id_type in ID_TYPES and not is_valid_id(id_type, id_no, today)),
    )
    fail("P4", "legal_rep_id_end", row["legal_rep_id_end"] is None or row["legal_rep_id_end"] < today)
    bo_columns = ("bo_name", "bo_id_type", "bo_id_no", "bo_id_end")
    if bo_required or any(row[c] is not None for c in bo_columns):
        for column in bo_columns:
            fail("P5", column, row[column] is None)
        fail("P5", "bo_name", not person_name_ok(row["bo_name"]))
        if row["bo_id_type"] in ID_TYPES and row["bo_id_no"] is not None:
            fail("P5", "bo_id_no", not is_valid_id(row["bo_id_type"], row["bo_id_no"], today))
        fail("P5", "bo_id_end", row["bo_id_end"] is not None and row["bo_id_end"] < today)

    if is_merchant:
        mcc = row["mcc"]
        fail("M1", "mcc", mcc not in MCCS or mcc != row["mer_id"][7:11])
        fail("M2", "biz_address", not address_ok(row["biz_address"]))
        fail("M3", "biz_area_code", not is_current_county(row["biz_area_code"]))
        allowed = {
            "enterprise": ("corporate",),
            "individual": ("corporate", "personal"),
            "micro": ("personal",),
        }
        acct_type = row["settle_acct_type"]
        fail("M4", "settle_acct_type", acct_type not in allowed[kind])
        fail("M5", "settle_acct_no", not settle_account_ok(acct_type, row["settle_acct_no"]))
        holder = row["mer_reg_name"] if acct_type == "corporate" else row["legal_rep_name"]
        fail("M6", "settle_acct_name", row["settle_acct_name"] != holder)
    fail("C1", "contact_phone", row["contact_phone"] is None or not is_valid_phone(row["contact_phone"]))
    return found


def check_bank(bank: Bank) -> dict[tuple[str, str], Findings]:
    """Findings of every in-scope record, keyed by (table, record key)."""
    active = {r["staff_id"] for r in bank.rows(staff) if r["active"]}
    out: dict[tuple[str, str], Findings] = {}
    for table, key in ((merchant, "mer_id"), (customer_org, "cust_no")):
        rows = [r for r in bank.rows(table) if r["status"] != "closed"]
        for row in rows:
            out[(table.name, row[key])] = check_record(table.name, row, active, SPEC.check_date)
        if table is customer_org:
            counts = Counter(r["uscc"] for r in rows if r["uscc"] is not None)
            for row in rows:
                if counts[row["uscc"]] > 1:
                    out[(table.name, row[key])]["E4"].add("uscc")
    return out


# --- tests ----------------------------------------------------------------------------------------------


def test_public_surface() -> None:
    assert set(demobank.__all__) >= {"generate_demo_bank", "DemoBankSpec", "InjectedDefect"}
    assert demobank.__file__ is not None and "/remediation/demobank/" in demobank.__file__


def test_every_record_outside_the_ground_truth_is_valid_and_every_defect_fails(bank: Bank) -> None:
    findings = check_bank(bank)
    injected: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for d in bank.defects:
        injected[(d.table, d.record_key)][d.clause] = d.column
    assert set(injected) <= set(findings), "defects were injected into closed or unknown records"
    for key, record_findings in findings.items():
        expected = injected.get(key, {})
        assert set(record_findings) == set(expected), (key, dict(record_findings), expected)
        for clause, column in expected.items():
            assert column in record_findings[clause], (key, clause, column, record_findings[clause])


def test_defects_cover_the_skeleton_clauses_at_the_requested_rate(bank: Bank) -> None:
    clauses = Counter(d.clause for d in bank.defects)
    for clause in ("E2", "E5", "P3", "P4", "M1", "C1", "G3"):
        assert clauses[clause] >= 10, clauses
    in_scope = sum(1 for t in (merchant, customer_org) for r in bank.rows(t) if r["status"] != "closed")
    defective = len({(d.table, d.record_key) for d in bank.defects})
    assert 0.11 < defective / in_scope < 0.19


def test_ground_truth_is_stored_next_to_the_tables(bank: Bank) -> None:
    stored = {
        InjectedDefect(r["table_name"], r["record_key"], r["clause"], r["column_name"])
        for r in bank.rows(injected_defect)
    }
    assert stored == set(bank.defects)
    assert len(bank.defects) == len(stored)


def test_institution_tree_has_head_branches_and_sub_branches(bank: Bank) -> None:
    insts = bank.rows(institution)
    heads = [i for i in insts if i["inst_level"] == "head"]
    assert len(heads) == 1 and heads[0]["parent_code"] is None
    branches = [i for i in insts if i["inst_level"] == "branch"]
    assert len(branches) >= 3
    assert all(b["parent_code"] == heads[0]["inst_code"] for b in branches)
    children = Counter(i["parent_code"] for i in insts if i["inst_level"] == "sub_branch")
    assert all(children[b["inst_code"]] >= 3 for b in branches)
    assert sum(children.values()) == len(insts) - 1 - len(branches)
    assert all(i["inst_name"].endswith(("总行", "分行", "支行")) for i in insts)
    sub_branches = {i["inst_code"] for i in insts if i["inst_level"] == "sub_branch"}
    for table in (merchant, customer_org):
        assert {r["inst_code"] for r in bank.rows(table)} <= sub_branches


def test_staff_cover_every_role_and_leave_routing_gaps(bank: Bank) -> None:
    people = bank.rows(staff)
    insts = {i["inst_code"]: i for i in bank.rows(institution)}
    by_inst: dict[str, list[Row]] = defaultdict(list)
    for p in people:
        by_inst[p["inst_code"]].append(p)
    for code, inst in insts.items():
        positions = Counter(p["position"] for p in by_inst[code] if p["active"])
        if inst["inst_level"] == "branch":
            assert positions["branch_head"] == 1
        elif inst["inst_level"] == "head":
            assert positions["data_office"] >= 2
        else:
            assert positions["account_manager"] >= 3
            assert any(p["position"] == "sub_branch_head" for p in by_inst[code])
    headless = [
        c
        for c, i in insts.items()
        if i["inst_level"] == "sub_branch"
        and not any(p["position"] == "sub_branch_head" and p["active"] for p in by_inst[c])
    ]
    assert headless
    assert any(p["position"] == "account_manager" and not p["active"] for p in people)
    staff_of = {p["staff_id"]: p for p in people}
    for table in (merchant, customer_org):
        for row in bank.rows(table):
            manager = staff_of.get(row["mgr_staff_id"] or "")
            if manager is not None:
                assert manager["inst_code"] == row["inst_code"]
                assert manager["position"] == "account_manager"
    for p in people:
        suffix = p["staff_id"][-4:]
        assert p["email"] is None or re.fullmatch(rf"[a-z]+\.{suffix}@bank\.example", p["email"])
        assert p["wecom_userid"] is None or re.fullmatch(
            rf"[A-Z][a-z]+[A-Z][a-z]+{suffix}", p["wecom_userid"]
        )


def test_merchant_codes_follow_the_layout(bank: Bank) -> None:
    rows = bank.rows(merchant)
    assert all(re.fullmatch(r"[0-9]{15}", r["mer_id"]) for r in rows)
    mer_types = Counter(r["mer_type"] for r in rows)
    assert set(mer_types) == {"enterprise", "individual", "micro"}
    statuses = Counter(r["status"] for r in rows)
    assert 0.01 < statuses["closed"] / len(rows) < 0.06 and statuses["suspended"] > 0


def test_unusual_but_valid_values_are_present(bank: Bank) -> None:
    findings = check_bank(bank)
    clean = [
        r
        for t, key in ((merchant, "mer_id"), (customer_org, "cust_no"))
        for r in bank.rows(t)
        if r["status"] != "closed" and not findings[(t.name, r[key])]
    ]
    people = [(r["legal_rep_id_type"], r["legal_rep_id_no"], r["legal_rep_name"]) for r in clean] + [
        (r["bo_id_type"], r["bo_id_no"], r["bo_name"]) for r in clean if r["bo_name"]
    ]
    ends = [r[c] for r in clean for c in ("licence_end", "legal_rep_id_end", "bo_id_end")]
    merchants = [r for r in clean if "mer_id" in r]
    customers = [r for r in clean if "cust_no" in r]
    chains = Counter((r["uscc"], r["mer_reg_name"]) for r in merchants if r["uscc"])
    closed_usccs = {r["uscc"] for r in bank.rows(customer_org) if r["status"] == "closed"}
    samples = {
        "ID check digit X": [p for p in people if p[0] == "01" and p[1].endswith("X")],
        "residence permit": [
            p for p in people if p[0] == "04" and p[1][:6] in ("810000", "820000", "830000")
        ],
        "2023 PR card": [p for p in people if p[0] == "05" and len(p[1]) == 18 and p[1].startswith("9")],
        "2017 PR card": [p for p in people if p[0] == "05" and re.fullmatch(r"[A-Z]{3}[0-9]{12}", p[1])],
        "HK/Macao pass": [p for p in people if p[0] == "02"],
        "Taiwan pass": [p for p in people if p[0] == "03"],
        "passport": [p for p in people if p[0] == "06"],
        "abolished county in ID": [
            p for p in people if p[0] == "01" and p[1][:6] in pools.RETIRED_AREA_CODES
        ],
        "name with ·": [p for p in people if "·" in p[2]],
        "Latin name": [p for p in people if re.fullmatch(r"[A-Z]+ [A-Z]+", p[2])],
        "long term": [e for e in ends if e == dt.date(9999, 12, 31)],
        "expires on check date": [e for e in ends if e == SPEC.check_date],
        "chain store": [k for k, n in chains.items() if n >= 2],
        "micro without USCC": [r for r in merchants if r["mer_type"] == "micro" and r["uscc"] is None],
        "93 enterprise merchant": [r for r in merchants if r["uscc"] and r["uscc"].startswith("93")],
        "personal account of individual": [
            r for r in merchants if r["mer_type"] == "individual" and r["settle_acct_type"] == "personal"
        ],
        "landline with dash": [
            r for r in clean if re.fullmatch(r"0[0-9]{2,3}-[0-9]{7,8}", r["contact_phone"])
        ],
        "landline without dash": [r for r in clean if re.fullmatch(r"0[0-9]{9,11}", r["contact_phone"])],
        "rural collective N": [r for r in customers if r["entity_type"] == "rural_collective"],
        "social organisation": [r for r in customers if r["entity_type"] == "social_org"],
        "USCC shared with a closed customer": [r for r in customers if r["uscc"] in closed_usccs],
    }
    missing = [name for name, found in samples.items() if len(found) < 3]
    assert not missing


def test_same_seed_gives_the_same_bank_and_another_seed_another(tmp_path: Path) -> None:
    def snapshot(seed: int, name: str) -> tuple[list[InjectedDefect], list[list[Row]]]:
        eng = sa.create_engine(f"sqlite:///{tmp_path / name}")
        spec = DemoBankSpec(merchants=400, customers=200, seed=seed)
        defects = generate_demo_bank(eng, spec)
        tables = Bank(eng, defects)
        rows = [tables.rows(t) for t in (institution, staff, merchant, customer_org)]
        eng.dispose()
        return defects, rows

    first, again, other = snapshot(1, "a.db"), snapshot(1, "b.db"), snapshot(2, "c.db")
    assert first == again
    assert first[1][2] != other[1][2] and first[1][3] != other[1][3] and first[0] != other[0]


def test_merchant_count_does_not_change_the_customers(tmp_path: Path) -> None:
    def customers(merchants: int) -> list[Row]:
        eng = sa.create_engine(f"sqlite:///{tmp_path / f'm{merchants}.db'}")
        generate_demo_bank(eng, DemoBankSpec(merchants=merchants, customers=100))
        rows = Bank(eng, []).rows(customer_org)
        eng.dispose()
        return rows

    assert customers(50) == customers(150)


def test_regenerating_replaces_the_tables_and_progress_is_reported(tmp_path: Path) -> None:
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'again.db'}")
    generate_demo_bank(eng, DemoBankSpec(merchants=300, customers=100, seed=3))
    messages: list[str] = []
    defects = generate_demo_bank(
        eng, DemoBankSpec(merchants=6000, customers=0, defect_rate=0.0), messages.append
    )
    with eng.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(merchant)) == 6000
        assert conn.scalar(sa.select(sa.func.count()).select_from(customer_org)) == 0
        assert conn.scalar(sa.select(sa.func.count()).select_from(injected_defect)) == 0
    eng.dispose()
    assert defects == []
    assert "merchant: 5000/6000" in messages and "merchant: 6000/6000" in messages


def test_spec_rejects_impossible_settings() -> None:
    with pytest.raises(ValueError):
        DemoBankSpec(merchants=-1)
    with pytest.raises(ValueError):
        DemoBankSpec(defect_rate=1.5)
    with pytest.raises(ValueError):
        DemoBankSpec(clause_weights=(("Z9", 1.0),))


def test_clause_weights_choose_the_defects(tmp_path: Path) -> None:
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'weights.db'}")
    spec = DemoBankSpec(merchants=300, customers=100, defect_rate=0.5, clause_weights=(("M1", 1.0),))
    defects = generate_demo_bank(eng, spec)
    eng.dispose()
    assert defects and {(d.table, d.clause, d.column) for d in defects} == {("merchant", "M1", "mcc")}


def test_pools_hold_real_codes() -> None:
    districts = [d for city, _ in pools.BRANCH_CITIES for d in city.districts]
    districts += [d for city in pools.OTHER_CITIES for d in city.districts]
    assert all(is_current_county(d.code) for d in districts)
    assert not any(is_current_county(code) for code in pools.RETIRED_AREA_CODES)
    assert {t.mcc for t in pools.TRADES} <= MCCS
    assert not set(pools.NOT_MCC_CODES) & MCCS
    cities = [city for city, _ in pools.BRANCH_CITIES] + list(pools.OTHER_CITIES)
    assert all(c.province in PROVINCE_NAMES for c in cities)
    assert all(is_valid_phone(f"{c.phone_area}{'2' * c.landline_digits}") for c in cities)


def test_mer_id_sequences_go_past_9999_in_four_characters() -> None:
    from remediation.demobank.builder import mer_seq_code

    codes = [mer_seq_code(seq) for seq in (1, 9999, 10000, 10001, 1_000_000)]
    assert codes[:4] == ["0001", "9999", "A000", "A001"]
    assert all(len(code) == 4 for code in codes)
    assert len({mer_seq_code(seq) for seq in range(1, 60_000)}) == 59_999
    with pytest.raises(ValueError, match="4 characters"):
        mer_seq_code(2_000_000)


def test_noise_on_a_value_e2_already_broke_is_no_defect() -> None:
    """A closed customer may take the USCC of an earlier record after that record's defects (E2: a
    lower-case letter, or cut to 17 characters), and its noise may then be E2 or E3 again (both seen at
    2.5M customers). No code can be made from such a value, so the injector does nothing."""
    spec = DemoBankSpec(merchants=1, customers=1)
    builder = Builder(spec, build_org(random.Random(1)), "customer_org")
    lower = {"uscc": "91360425MaWFGEJJ07", "entity_type": "enterprise"}
    assert INJECTORS["E3"](builder, lower) is None and lower["uscc"] == "91360425MaWFGEJJ07"
    short = {"uscc": "91360425MAWFGEJJ0", "entity_type": "enterprise"}
    assert INJECTORS["E2"](builder, short) is None and short["uscc"] == "91360425MAWFGEJJ0"
    assert builder.unique_uscc("91360425MaWFGEJJ0") is None
    assert builder.unique_uscc("9136042") is None
    made = builder.unique_uscc("91360425MA35L7XK0")
    assert made is not None and is_valid_uscc(made)
    assert builder.unique_uscc("91360425MA35L7XK0") is None  # taken
