"""Build the demo bank: a source database that follows the data contract, with known defects.

`generate_demo_bank` drops and recreates the four source tables (plus the sidecar `demo_injected_defect`)
and fills them in one transaction. Every record that is not named in the returned ground truth is valid
under every clause of the data standard on `spec.check_date`; every injected defect makes exactly its
clause fail. Closed records carry no defects (clause G1 puts them out of scope), whatever values they hold.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from typing import Any, NamedTuple

import sqlalchemy as sa

from expectations.checks import (
    ID_CHECK_CHARS,
    LONG_TERM,
    USCC_ALPHABET,
    is_placeholder_text,
    is_valid_id,
    is_valid_phone,
    is_valid_uscc,
    luhn_check_digit,
    luhn_ok,
    mod11_2_check_char,
    org_code_check_char,
    uscc_check_char,
)
from expectations.contract import (
    ENTITY_TYPES,
    RECORD_TABLES,
    SOURCE_METADATA,
    customer_org,
    institution,
    merchant,
    staff,
)
from remediation.demobank import pools
from remediation.demobank.pools import City, District, Trade

Row = dict[str, Any]
Progress = Callable[[str], None]

BATCH_SIZE = 5000
FIRST_ONBOARD = dt.date(2012, 1, 1)
FIRST_OPEN = dt.date(2005, 1, 1)

DEFAULT_CLAUSE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("E2", 14), ("E5", 10), ("P3", 14), ("P4", 10), ("M1", 10), ("C1", 10), ("G3", 6),
    ("E1", 2), ("E3", 3), ("E4", 2), ("E6", 3), ("E7", 3), ("E8", 3), ("E9", 2), ("P1", 3), ("P2", 2),
    ("P5", 3), ("M2", 2), ("M3", 2), ("M4", 1), ("M5", 3), ("M6", 2), ("G2", 3),
)  # fmt: skip
_BOTH_TABLES = ("E1", "E2", "E3", "E5", "E8", "E9", "P1", "P2", "P3", "P4", "P5", "C1", "G3")
CLAUSES_BY_TABLE: dict[str, frozenset[str]] = {
    "merchant": frozenset((*_BOTH_TABLES, "M1", "M2", "M3", "M4", "M5", "M6", "G2")),
    "customer_org": frozenset((*_BOTH_TABLES, "E4", "E6", "E7")),
}
# Clauses that must not hit the same record: the second would undo or mask the first. (A number judged
# against a wrong ID type is clause P2's finding alone; a duplicate USCC must stay a valid one.)
_EXCLUSIVE: dict[str, tuple[str, ...]] = {
    "E2": ("E3", "E4"), "E3": ("E2", "E4"), "E4": ("E2", "E3"), "M4": ("M5",), "M5": ("M4",),
    "M6": ("G2",), "G2": ("M6",), "P2": ("P3",), "P3": ("P2",),
}  # fmt: skip
# Clauses whose injector also marks another record (E4: the twin): never used on closed records.
_TOUCHES_OTHERS = frozenset({"E4"})


@dataclass(frozen=True)
class DemoBankSpec:
    merchants: int = 2000
    customers: int = 1000
    seed: int = 42
    defect_rate: float = 0.15
    check_date: dt.date = dt.date(2026, 11, 22)
    clause_weights: tuple[tuple[str, float], ...] = DEFAULT_CLAUSE_WEIGHTS

    def __post_init__(self) -> None:
        if self.merchants < 0 or self.customers < 0:
            raise ValueError("record counts must not be negative")
        if not 0.0 <= self.defect_rate <= 1.0:
            raise ValueError("defect_rate must be between 0 and 1")
        known = CLAUSES_BY_TABLE["merchant"] | CLAUSES_BY_TABLE["customer_org"]
        unknown = {clause for clause, _ in self.clause_weights} - known
        if unknown:
            raise ValueError(f"no defect generator for clauses {sorted(unknown)}")


@dataclass(frozen=True)
class InjectedDefect:
    table: str
    record_key: str
    clause: str
    column: str


DEMO_METADATA = sa.MetaData()
injected_defect = sa.Table(
    "demo_injected_defect",
    DEMO_METADATA,
    sa.Column("table_name", sa.String(20), primary_key=True),
    sa.Column("record_key", sa.String(32), primary_key=True),
    sa.Column("clause", sa.String(4), primary_key=True),
    sa.Column("column_name", sa.String(40), primary_key=True),
)
_SOURCE_TABLES = [institution, staff, merchant, customer_org]


def generate_demo_bank(
    engine: sa.Engine, spec: DemoBankSpec, progress: Progress | None = None
) -> list[InjectedDefect]:
    """Replace the source tables in `engine` with a demo bank; return (and store) the injected defects."""
    report = progress or (lambda _message: None)
    org = _build_org(random.Random(f"{spec.seed}/org"))
    defects: list[InjectedDefect] = []
    with engine.begin() as conn:
        DEMO_METADATA.drop_all(conn, checkfirst=True)
        SOURCE_METADATA.drop_all(conn, tables=_SOURCE_TABLES, checkfirst=True)
        SOURCE_METADATA.create_all(conn, tables=_SOURCE_TABLES)
        DEMO_METADATA.create_all(conn)
        conn.execute(institution.insert(), org.institutions)
        conn.execute(staff.insert(), org.staff)
        report(f"institution: {len(org.institutions)}, staff: {len(org.staff)}")
        merchants = _Builder(spec, org, "merchant")
        _insert(conn, merchant, merchants.merchants(spec.merchants), spec.merchants, report)
        customers = _Builder(spec, org, "customer_org")
        _insert(conn, customer_org, customers.customers(spec.customers), spec.customers, report)
        defects = merchants.defects + customers.defects
        rows = [
            {"table_name": d.table, "record_key": d.record_key, "clause": d.clause, "column_name": d.column}
            for d in defects
        ]
        for start in range(0, len(rows), BATCH_SIZE):
            conn.execute(injected_defect.insert(), rows[start : start + BATCH_SIZE])
        report(f"demo_injected_defect: {len(rows)}")
    return defects


def _insert(conn: sa.Connection, table: sa.Table, rows: Iterator[Row], total: int, report: Progress) -> None:
    done = 0
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            conn.execute(table.insert(), batch)
            done += len(batch)
            batch = []
            report(f"{table.name}: {done}/{total}")
    if batch:
        conn.execute(table.insert(), batch)
        report(f"{table.name}: {done + len(batch)}/{total}")


# --- institutions and staff ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Office:
    code: str
    city: City
    district: District
    active_managers: tuple[str, ...]
    inactive_managers: tuple[str, ...]


@dataclass(frozen=True)
class _Org:
    institutions: list[Row]
    staff: list[Row]
    offices: tuple[_Office, ...]
    office_cum_weights: tuple[float, ...]


class _HanName(NamedTuple):
    name: str
    surname: str
    surname_py: str
    given_py: str


def _han_name(rng: random.Random) -> _HanName:
    surname, surname_py = rng.choices(pools.SURNAMES, cum_weights=_SURNAME_CUM)[0]
    chars = rng.sample(pools.GIVEN_CHARS, 1 if rng.random() < 0.35 else 2)
    return _HanName(surname + "".join(c for c, _ in chars), surname, surname_py, "".join(p for _, p in chars))


_SURNAME_CUM = tuple(
    accumulate(3.0 if i < 10 else 0.2 if len(s) > 1 else 1.0 for i, (s, _) in enumerate(pools.SURNAMES))
)


class _StaffFactory:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.number = 200100
        self.rows: list[Row] = []

    def add(self, inst_code: str, position: str, active: bool = True) -> str:
        self.number += self.rng.randint(1, 9)
        staff_id = str(self.number)
        name, _, surname_py, given_py = _han_name(self.rng)
        suffix = staff_id[-4:]
        contact = self.rng.random()
        self.rows.append(
            {
                "staff_id": staff_id,
                "staff_name": name,
                "inst_code": inst_code,
                "position": position,
                "email": None if contact < 0.02 else f"{surname_py}{given_py}.{suffix}@{pools.EMAIL_DOMAIN}",
                "wecom_userid": None
                if contact >= 0.95
                else f"{surname_py.title()}{given_py.title()}{suffix}",
                "active": active,
            }
        )
        return staff_id


def _build_org(rng: random.Random) -> _Org:
    head = pools.HEAD_OFFICE_CODE
    institutions: list[Row] = [
        {"inst_code": head, "inst_name": f"{pools.BANK_NAME}总行", "inst_level": "head", "parent_code": None}
    ]
    people = _StaffFactory(rng)
    for _ in range(3):
        people.add(head, "data_office")
    sub_branch_count = sum(len(city.districts) for city, _ in pools.BRANCH_CITIES)
    vacant_head, replaced_head = rng.sample(range(sub_branch_count), 2)
    offices: list[_Office] = []
    weights: list[float] = []
    for b, (city, share) in enumerate(pools.BRANCH_CITIES, start=1):
        branch_code = f"1{b}0000"
        institutions.append(
            {
                "inst_code": branch_code,
                "inst_name": f"{pools.BANK_NAME}{city.name.removesuffix('市')}分行",
                "inst_level": "branch",
                "parent_code": head,
            }
        )
        people.add(branch_code, "branch_head")
        for j, district in enumerate(city.districts, start=1):
            code = f"1{b}{j:02d}00"
            institutions.append(
                {
                    "inst_code": code,
                    "inst_name": f"{pools.BANK_NAME}{district.short}支行",
                    "inst_level": "sub_branch",
                    "parent_code": branch_code,
                }
            )
            n = len(offices)
            people.add(code, "sub_branch_head", active=n not in (vacant_head, replaced_head))
            if n == replaced_head:
                people.add(code, "sub_branch_head")
            active = tuple(people.add(code, "account_manager") for _ in range(rng.randint(3, 6)))
            left = tuple(
                people.add(code, "account_manager", active=False) for _ in range(rng.randint(int(j == 1), 2))
            )
            offices.append(_Office(code, city, district, active, left))
            weights.append(share / len(city.districts))
    return _Org(institutions, people.rows, tuple(offices), tuple(accumulate(weights)))


# --- people, codes and addresses --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Person:
    name: str
    surname: str
    id_type: str
    id_no: str
    id_end: dt.date


_ID_KINDS = ("01", "02", "03", "04", "05-2023", "05-2017", "06")
_ID_KIND_CUM = tuple(accumulate((0.925, 0.015, 0.01, 0.015, 0.01, 0.01, 0.015)))
_REGION_CODES = tuple(d.code for city, _ in pools.BRANCH_CITIES for d in city.districts) + tuple(
    d.code for city in pools.OTHER_CITIES for d in city.districts
)
_CHAIN_MCCS = frozenset(("5912", "5411", "5499", "5812", "5814", "5462", "5651", "7230"))


def _digits(rng: random.Random, n: int) -> str:
    return f"{rng.randrange(10**n):0{n}d}"


def _days_after(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max((end - start).days, 0)))


def _with_mod11(body: str) -> str:
    return body + mod11_2_check_char(body)


def _org_code(rng: random.Random) -> str:
    """Positions 9-17 of a USCC: an 8-character GB 11714 body and its check character."""
    if rng.random() < 0.6:
        body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        body = "7" + _digits(rng, 7)
    return body + org_code_check_char(body)


def _province_short(province: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if province.endswith(suffix):
            return province.removesuffix(suffix)
    return province


class _Builder:
    """Draws the rows of one record table from its own random stream."""

    def __init__(self, spec: DemoBankSpec, org: _Org, table: str) -> None:
        self.spec = spec
        self.org = org
        self.table = table
        self.today = spec.check_date
        self.rng = random.Random(f"{spec.seed}/{table}")
        self.used_uscc: set[str] = set()
        self.mer_seq: dict[tuple[str, str], int] = {}
        self.defects: list[InjectedDefect] = []
        self.unique_holders: list[Row] = []  # in-scope records whose valid USCC no other record holds
        weights = dict(spec.clause_weights)
        self.clauses = [c for c in weights if c in CLAUSES_BY_TABLE[table] and weights[c] > 0]
        self.clause_weights = [weights[c] for c in self.clauses]

    # people

    def person(self, latin_ok: bool = True) -> _Person:
        rng = self.rng
        kind = rng.choices(_ID_KINDS, cum_weights=_ID_KIND_CUM)[0]
        born = self.birth_date()
        if kind in ("05-2023", "05-2017", "06") and latin_ok and rng.random() < 0.7:
            name, surname = rng.choice(pools.FOREIGN_NAMES), ""
        elif kind == "01" and rng.random() < 0.02:
            name, surname = rng.choice(pools.DOTTED_NAMES), ""
        else:
            name, surname = _han_name(rng)[:2]
        id_no = self.id_number(kind, born)
        id_type = kind[:2]
        return _Person(name, surname, id_type, id_no, self.id_end(id_type, born))

    def birth_date(self) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(20 * 365 + 5, 75 * 365))

    def id_number(self, kind: str, born: dt.date) -> str:
        rng = self.rng
        if kind == "01":
            region = rng.choice(pools.RETIRED_AREA_CODES if rng.random() < 0.03 else _REGION_CODES)
            return _with_mod11(f"{region}{born:%Y%m%d}{_digits(rng, 3)}")
        if kind == "04":
            return _with_mod11(f"{rng.choice(('810000', '820000', '830000'))}{born:%Y%m%d}{_digits(rng, 3)}")
        alpha3, numeric = rng.choice(pools.PR_COUNTRIES)
        province = rng.choice(("11", "31", "36", "44"))
        if kind == "05-2023":
            return _with_mod11(f"9{province}{numeric}{born:%Y%m%d}{_digits(rng, 3)}")
        if kind == "05-2017":
            return f"{alpha3}{province}{born:%y%m%d}{_digits(rng, 4)}"
        if kind == "02":
            return rng.choice("HM") + _digits(rng, 8 if rng.random() < 0.7 else 10)
        if kind == "03":
            return _digits(rng, 8 if rng.random() < 0.7 else 10)
        return rng.choice(("E", "EA", "P", "")) + _digits(rng, 8 if rng.random() < 0.5 else 9)

    def id_end(self, id_type: str, born: dt.date) -> dt.date:
        rng = self.rng
        r = rng.random()
        if r < 0.005:
            return self.today
        if id_type == "01" and (self.today - born).days > 46 * 365 and r < 0.8:
            return LONG_TERM
        years = {"01": 20, "03": 5, "04": 5}.get(id_type, 10)
        return self.today + dt.timedelta(days=rng.randint(1, years * 365))

    def licence_end(self, long_term_share: float, years: int = 30) -> dt.date:
        r = self.rng.random()
        if r < 0.005:
            return self.today
        if r < long_term_share:
            return LONG_TERM
        return self.today + dt.timedelta(days=self.rng.randint(1, years * 365))

    # codes

    def uscc(self, prefix: str, area: str) -> str:
        while True:
            body = prefix + area + _org_code(self.rng)
            code = body + uscc_check_char(body)
            if code not in self.used_uscc:
                self.used_uscc.add(code)
                return code

    def mer_id(self, city: City, mcc: str) -> str:
        key = (city.card_area, mcc)
        seq = self.mer_seq.get(key, 0) + 1
        if seq > 9999:
            raise ValueError(f"more than 9999 merchants with MCC {mcc} in {city.name}: mer_id has 4 digits")
        self.mer_seq[key] = seq
        return f"{pools.ACQUIRER_CODE}{city.card_area}{mcc}{seq:04d}"

    def corporate_account(self) -> str:
        return "36" + _digits(self.rng, self.rng.choice((10, 13, 15, 17, 19)))

    def card_account(self) -> str:
        body = self.rng.choice(pools.CARD_BINS) + _digits(self.rng, 12 if self.rng.random() < 0.8 else 9)
        return body + luhn_check_digit(body)

    def phone(self, city: City) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.85:
            return rng.choice(pools.MOBILE_PREFIXES) + _digits(rng, 8)
        local = str(rng.randint(2, 8)) + _digits(rng, city.landline_digits - 1)
        return f"{city.phone_area}-{local}" if r < 0.93 else f"{city.phone_area}{local}"

    def address(self, city: City, district: District) -> str:
        rng = self.rng
        street = f"{city.address_prefix(district)}{rng.choice(district.roads)}{rng.randint(1, 999)}号"
        r = rng.random()
        if r < 0.5:
            return street
        if r < 0.8:
            return f"{street}{rng.randint(1, 30)}栋{rng.randint(1, 28)}0{rng.randint(1, 9)}室"
        return f"{street}{rng.randint(1, 60)}号门面"

    # places and dates

    def office(self) -> _Office:
        return self.rng.choices(self.org.offices, cum_weights=self.org.office_cum_weights)[0]

    def manager(self, office: _Office) -> str:
        return self.rng.choice(office.active_managers)

    def updated_at(self, since: dt.date) -> dt.datetime:
        day = _days_after(self.rng, since, self.today - dt.timedelta(days=1))
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=self.rng.randrange(86400))

    def trade(self, mer_type: str) -> Trade:
        trades, cum = _TRADES_BY_TYPE[mer_type]
        return self.rng.choices(trades, cum_weights=cum)[0]

    # merchants

    def merchants(self, count: int) -> Iterator[Row]:
        chains = [self.chain() for _ in range(max(3, count // 300))] if count else []
        for _ in range(count):
            row = self.chain_store(self.rng.choice(chains)) if self.rng.random() < 0.03 else self.merchant()
            self.finish(row, "mer_id")
            yield row

    def merchant(self) -> Row:
        rng = self.rng
        office = self.office()
        city, district = office.city, office.district
        mer_type = rng.choices(pools.ALL_TYPES, weights=(0.30, 0.45, 0.25))[0]
        trade = self.trade(mer_type)
        rep = self.person()
        word, shop = rng.choice(pools.TRADE_WORDS), rng.choice(trade.shops)
        biz_address = self.address(city, district)
        row: Row = {
            "mer_id": self.mer_id(city, trade.mcc),
            "mer_type": mer_type,
            "biz_address": biz_address,
            "biz_area_code": district.code,
            "mcc": trade.mcc,
            **self.legal_rep(rep),
            **self.merchant_common(office),
        }
        if mer_type == "micro":
            biz = f"{rep.surname}记{shop}" if rep.surname else f"{word}{shop}"
            row.update(mer_reg_name=rep.name, mer_biz_name=biz, uscc=None, licence_end=None)
            row.update(reg_address=None, business_scope=None, **self.no_bo(), **self.personal_settlement(rep))
            return row
        if mer_type == "individual":
            owner = f"{rep.name}{shop}" if rep.surname and rng.random() < 0.4 else f"{word}{shop}"
            reg_name = f"{city.name}{district.name}{owner}"
            biz = f"{rep.surname}记{shop}" if rep.surname and rng.random() < 0.3 else f"{word}{shop}"
            prefix, bo = "92", None
        elif rng.random() < 0.1:
            reg_name = f"{district.name}{word}{rng.choice(pools.COOPERATIVE_PRODUCTS)}专业合作社"
            biz, prefix, bo = f"{word}{shop}", "93", self.beneficial_owner(rep)
        else:
            place = rng.choice((city.name, f"{city.name}{district.name}", _province_short(city.province)))
            reg_name = f"{place}{word}{trade.industry}有限公司"
            biz = f"{word}{shop}{district.short}店" if rng.random() < 0.3 else f"{word}{shop}"
            prefix, bo = "91", self.beneficial_owner(rep)
        row.update(mer_reg_name=reg_name, mer_biz_name=biz, uscc=self.uscc(prefix, district.code))
        row.update(licence_end=self.licence_end(0.55), business_scope=trade.scope)
        row.update(reg_address=biz_address if rng.random() < 0.5 else self.address(city, district))
        row.update(self.bo_columns(bo) if bo else self.no_bo())
        if mer_type == "individual" and rng.random() < 0.6:
            row.update(self.personal_settlement(rep))
        else:
            row.update(
                settle_acct_type="corporate",
                settle_acct_no=self.corporate_account(),
                settle_acct_name=reg_name,
            )
        return row

    def personal_settlement(self, rep: _Person) -> Row:
        return {
            "settle_acct_type": "personal",
            "settle_acct_no": self.card_account(),
            "settle_acct_name": rep.name,
        }

    def merchant_common(self, office: _Office) -> Row:
        onboard = _days_after(self.rng, FIRST_ONBOARD, self.today - dt.timedelta(days=1))
        r = self.rng.random()
        return {
            "contact_phone": self.phone(office.city),
            "onboard_date": onboard,
            "status": "closed" if r < 0.03 else "suspended" if r < 0.11 else "active",
            "inst_code": office.code,
            "mgr_staff_id": self.manager(office),
            "updated_at": self.updated_at(onboard),
        }

    def chain(self) -> Row:
        rng = self.rng
        trade = rng.choice([t for t in pools.TRADES if t.mcc in _CHAIN_MCCS])
        city = rng.choice(pools.BRANCH_CITIES)[0]
        home = rng.choice(city.districts)
        word = rng.choice(pools.TRADE_WORDS)
        reg_name = f"{_province_short(city.province)}{word}{trade.industry}连锁有限公司"
        rep = self.person(latin_ok=False)
        return {
            "brand": f"{word}{trade.shops[0]}",
            "trade": trade,
            "city": city,
            "mer_reg_name": reg_name,
            "uscc": self.uscc("91", home.code),
            "licence_end": self.licence_end(0.7),
            "reg_address": self.address(city, home),
            "business_scope": trade.scope,
            "settle_acct_no": self.corporate_account(),
            **self.legal_rep(rep),
            **self.bo_columns(self.beneficial_owner(rep)),
        }

    def chain_store(self, chain: Row) -> Row:
        city: City = chain["city"]
        office = self.rng.choice([o for o in self.org.offices if o.city is city])
        trade: Trade = chain["trade"]
        shared = {k: v for k, v in chain.items() if k not in ("brand", "trade", "city")}
        return {
            **shared,
            "mer_id": self.mer_id(city, trade.mcc),
            "mer_type": "enterprise",
            "mer_biz_name": f"{chain['brand']}{office.district.short}店",
            "biz_address": self.address(city, office.district),
            "biz_area_code": office.district.code,
            "mcc": trade.mcc,
            "settle_acct_type": "corporate",
            "settle_acct_name": chain["mer_reg_name"],
            **self.merchant_common(office),
        }

    def legal_rep(self, rep: _Person) -> Row:
        return {
            "legal_rep_name": rep.name,
            "legal_rep_id_type": rep.id_type,
            "legal_rep_id_no": rep.id_no,
            "legal_rep_id_end": rep.id_end,
        }

    def beneficial_owner(self, rep: _Person) -> _Person:
        return rep if self.rng.random() < 0.6 else self.person()

    def bo_columns(self, bo: _Person) -> Row:
        return {"bo_name": bo.name, "bo_id_type": bo.id_type, "bo_id_no": bo.id_no, "bo_id_end": bo.id_end}

    def no_bo(self) -> Row:
        return {"bo_name": None, "bo_id_type": None, "bo_id_no": None, "bo_id_end": None}

    # customers

    def customers(self, count: int) -> Iterator[Row]:
        earlier: list[Row] = []
        for i in range(count):
            row = self.customer(i)
            if row["status"] == "closed" and earlier and self.rng.random() < 0.3:
                twin = self.rng.choice(earlier)
                row.update(cust_name=twin["cust_name"], entity_type=twin["entity_type"], uscc=twin["uscc"])
            earlier.append(row)
            self.finish(row, "cust_no")
            yield row

    def customer(self, index: int) -> Row:
        rng = self.rng
        office = self.office()
        entity_type = rng.choices(ENTITY_TYPES, weights=(55, 15, 8, 8, 7, 7))[0]
        city, district = office.city, office.district
        if entity_type in ("enterprise", "individual") and rng.random() < 0.1:
            city = rng.choice(pools.OTHER_CITIES)
            district = city.districts[0]
        name, prefix, scope = self.customer_identity(entity_type, city, district)
        founded = self.establishment_date(entity_type)
        opened = _days_after(rng, max(founded, FIRST_OPEN), self.today - dt.timedelta(days=1))
        rep = self.person()
        has_bo = entity_type in ("enterprise", "cooperative") or rng.random() < 0.2
        bo = self.beneficial_owner(rep) if has_bo else None
        r = rng.random()
        return {
            "cust_no": f"C{10_000_000_000 + index * 37 + rng.randrange(37)}",
            "cust_name": name,
            "entity_type": entity_type,
            "uscc": self.uscc(prefix, district.code),
            "licence_end": self.licence_end(*_LICENCE_TERMS.get(entity_type, (0.0, 5))),
            "establishment_date": founded,
            "reg_capital": self.reg_capital(entity_type),
            "reg_address": self.address(city, district),
            "business_scope": scope,
            **self.legal_rep(rep),
            **(self.bo_columns(bo) if bo else self.no_bo()),
            "contact_phone": self.phone(city),
            "open_date": opened,
            "status": "closed" if r < 0.03 else "dormant" if r < 0.15 else "active",
            "inst_code": office.code,
            "mgr_staff_id": self.manager(office),
            "updated_at": self.updated_at(opened),
        }

    def customer_identity(self, entity_type: str, city: City, district: District) -> tuple[str, str, str]:
        rng = self.rng
        word = rng.choice(pools.TRADE_WORDS)
        if entity_type == "enterprise":
            place = rng.choice((city.name, _province_short(city.province)))
            form = "股份有限公司" if rng.random() < 0.1 else "有限公司"
            industry, scope = rng.choice(pools.ENTERPRISE_INDUSTRIES)
            return f"{place}{word}{industry}{form}", "91", scope
        if entity_type == "individual":
            trade = self.trade("individual")
            return f"{city.name}{district.name}{word}{rng.choice(trade.shops)}", "92", trade.scope
        town, village = rng.choice(pools.TOWNS), rng.choice(pools.VILLAGES)
        if entity_type == "cooperative":
            name = f"{district.name}{town}{rng.choice(pools.COOPERATIVE_PRODUCTS)}专业合作社"
            return name, "93", pools.COOPERATIVE_SCOPE
        if entity_type == "public_institution":
            name = f"{city.name}{district.name}{rng.choice(pools.PUBLIC_INSTITUTIONS)}"
            return name, "12", pools.PUBLIC_SCOPE
        if entity_type == "social_org":
            prefix, org_name = rng.choice(pools.SOCIAL_ORGS)
            return f"{city.name}{org_name}", prefix, pools.SOCIAL_SCOPE
        level = rng.choice("123")
        name = {
            "1": f"{district.name}{town}镇{village}村第{rng.randint(1, 9)}村民小组经济合作社",
            "2": f"{district.name}{town}镇{village}村股份经济合作社",
            "3": f"{district.name}{town}镇经济联合总社",
        }[level]
        return name, f"N{level}", pools.RURAL_SCOPE

    def establishment_date(self, entity_type: str) -> dt.date:
        start = _FIRST_ESTABLISHED.get(entity_type, 1985)
        return _days_after(self.rng, dt.date(start, 7, 1), self.today - dt.timedelta(days=30))

    def reg_capital(self, entity_type: str) -> Decimal | None:
        rng = self.rng
        if entity_type == "enterprise":
            return Decimal(rng.randint(1000, 1_000_000)).scaleb(-2)
        if entity_type == "cooperative":
            return Decimal(rng.randint(500, 100_000)).scaleb(-2)
        top = 10_000 if entity_type == "individual" else 200_000
        return Decimal(rng.randint(100, top)).scaleb(-2) if rng.random() < 0.3 else None

    # defects

    def finish(self, row: Row, key_column: str) -> None:
        if row["status"] == "closed":
            self.closed_noise(row)
            return
        if self.rng.random() >= self.spec.defect_rate:
            self.note_unique_holder(row)
            return
        wanted = 2 if self.rng.random() < 0.2 else 1
        clauses, weights = list(self.clauses), list(self.clause_weights)
        injected: list[str] = []
        while clauses and len(injected) < wanted:
            clause = self.rng.choices(clauses, weights=weights)[0]
            for drop in (clause, *_EXCLUSIVE.get(clause, ())):
                if drop in clauses:
                    i = clauses.index(drop)
                    del clauses[i], weights[i]
            column = _INJECTORS[clause](self, row)
            if column is not None:
                self.defects.append(InjectedDefect(self.table, row[key_column], clause, column))
                injected.append(clause)
        if not {"E2", "E3", "E4"} & set(injected):
            self.note_unique_holder(row)

    def closed_noise(self, row: Row) -> None:
        """Clause G1: a closed record may hold anything; nothing about it is a defect any more."""
        clauses = [c for c in self.clauses if c not in _TOUCHES_OTHERS]
        if clauses and self.rng.random() < self.spec.defect_rate:
            _INJECTORS[self.rng.choice(clauses)](self, row)

    def note_unique_holder(self, row: Row) -> None:
        if self.table == "customer_org" and row["uscc"] is not None:
            self.unique_holders.append(row)

    def missing(self, column: str, share: float) -> bool:
        """Whether to blank `column` as the defect: only where the source table lets it be null."""
        return RECORD_TABLES[self.table].c[column].nullable is not False and self.rng.random() < share

    def needs_uscc(self, row: Row) -> bool:
        return row.get("mer_type") != "micro"

    def expired(self) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(1, 1500))

    def unique_uscc(self, body: str) -> str | None:
        code = body + uscc_check_char(body)
        if code in self.used_uscc:
            return None
        self.used_uscc.add(code)
        return code


_FIRST_ESTABLISHED = {"public_institution": 1950, "rural_collective": 1956, "cooperative": 2007}
# (share of long-term licences, longest fixed term in years); registration certificates of public
# institutions and social organisations run for five years.
_LICENCE_TERMS = {
    "enterprise": (0.6, 30),
    "individual": (0.7, 20),
    "cooperative": (0.5, 20),
    "rural_collective": (0.8, 30),
}


def _trades_by_type() -> dict[str, tuple[tuple[Trade, ...], tuple[float, ...]]]:
    out = {}
    for mer_type in pools.ALL_TYPES:
        trades = tuple(t for t in pools.TRADES if mer_type in t.merchant_types)
        out[mer_type] = (trades, tuple(accumulate(float(t.weight) for t in trades)))
    return out


_TRADES_BY_TYPE = _trades_by_type()


# --- one generator per clause: make exactly that clause fail, return the column (None: not applicable) ---


def _e1(b: _Builder, row: Row) -> str | None:
    column = "mer_reg_name" if b.table == "merchant" else "cust_name"
    # A corporate settlement account carries the registered name (M6): leave those records alone.
    if b.table == "merchant" and row["settle_acct_type"] != "personal":
        return None
    row[column] = None if b.missing(column, 0.3) else row[column][0]
    return column


def _e2(b: _Builder, row: Row) -> str | None:
    uscc = row["uscc"]
    if uscc is None:
        return None
    variant = b.rng.randrange(4)
    letters = [i for i in range(2, 18) if uscc[i].isalpha()]
    new: str | None
    if variant == 0:
        new = None
    elif variant == 1 and letters:
        i = b.rng.choice(letters)
        new = uscc[:i] + uscc[i].lower() + uscc[i + 1 :]
    elif variant == 2:
        new = uscc[:17]
    else:
        new = uscc[:17] + b.rng.choice(USCC_ALPHABET.replace(uscc[17], ""))
    assert new is None or not is_valid_uscc(new)
    row["uscc"] = new
    return "uscc"


def _e3(b: _Builder, row: Row) -> str | None:
    uscc = row["uscc"]
    if uscc is None:
        return None
    kind = row["mer_type"] if b.table == "merchant" else row["entity_type"]
    new = b.unique_uscc(b.rng.choice(pools.WRONG_USCC_PREFIXES[kind]) + uscc[2:17])
    if new is None:
        return None
    row["uscc"] = new
    return "uscc"


def _e4(b: _Builder, row: Row) -> str | None:
    """The USCC of an earlier in-scope customer of the same type: both records now break E4."""
    twins = [r for r in b.unique_holders if r["entity_type"] == row["entity_type"]]
    if row["uscc"] is None or not twins:
        return None
    twin = b.rng.choice(twins)
    b.unique_holders.remove(twin)
    row["uscc"] = twin["uscc"]
    b.defects.append(InjectedDefect(b.table, twin["cust_no"], "E4", "uscc"))
    return "uscc"


def _e5(b: _Builder, row: Row) -> str | None:
    if not b.needs_uscc(row):
        return None
    row["licence_end"] = None if b.rng.random() < 0.4 else b.expired()
    return "licence_end"


def _e6(b: _Builder, row: Row) -> str | None:
    variant = b.rng.randrange(3)
    if variant == 0:
        row["establishment_date"] = None
    elif variant == 1:
        row["establishment_date"] = b.today + dt.timedelta(days=b.rng.randint(1, 400))
    else:
        row["establishment_date"] = dt.date(1900, 1, 1)
    return "establishment_date"


def _e7(b: _Builder, row: Row) -> str | None:
    if row["entity_type"] not in ("enterprise", "cooperative"):
        return None
    row["reg_capital"] = None if b.rng.random() < 0.6 else Decimal("0.00")
    return "reg_capital"


def _without_province(address: str) -> str:
    province = next(p for p in pools.PROVINCE_NAMES if address.startswith(p))
    return address.removeprefix(province)


def _e8(b: _Builder, row: Row) -> str | None:
    if not b.needs_uscc(row):
        return None
    row["reg_address"] = None if b.rng.random() < 0.4 else _without_province(row["reg_address"])
    return "reg_address"


def _e9(b: _Builder, row: Row) -> str | None:
    if not b.needs_uscc(row):
        return None
    row["business_scope"] = None
    return "business_scope"


def _p1(b: _Builder, row: Row) -> str | None:
    # A personal settlement account carries the same name (M6): leave those records alone.
    if b.table == "merchant" and (row["mer_type"] == "micro" or row["settle_acct_type"] != "corporate"):
        return None
    name = row["legal_rep_name"]
    row["legal_rep_name"] = f"{name}{b.rng.randint(1, 9)}" if b.rng.random() < 0.6 else f"{name}(经办人)"
    return "legal_rep_name"


def _p2(b: _Builder, row: Row) -> str | None:
    # An ID type outside 01-06: `1` for `01` (the code stored as a number), a name, an unknown code.
    wrong = b.rng.choice(("1", "4", "身份证", "07", "10"))
    row["legal_rep_id_type"] = None if b.missing("legal_rep_id_type", 0.3) else wrong
    return "legal_rep_id_type"


def _broken_id(rng: random.Random, id_type: str, id_no: str) -> str:
    for _ in range(20):
        candidate = _id_breaker(rng, id_type, id_no)
        # placeholder text (`1111`) would be clause G2's finding, not P3's
        if not is_valid_id(id_type, candidate, dt.date.max) and not is_placeholder_text(candidate):
            return candidate
    raise AssertionError(f"could not break {id_type} {id_no}")


def _id_breaker(rng: random.Random, id_type: str, id_no: str) -> str:
    variant = rng.randrange(3)
    if len(id_no) == 18 and id_type in ("01", "04", "05"):
        if variant == 0:
            return _with_mod11(id_no[:10] + "13" + id_no[12:17])
        if variant == 1 and id_no[17] == "X":
            return id_no[:17] + "x"
        return id_no[:17] + rng.choice(ID_CHECK_CHARS.replace(id_no[17], ""))
    if id_type == "02":
        return ("H" + _digits(rng, 9), "C" + id_no[1:], id_no[0] + id_no[1:8])[variant]
    if id_type == "03":
        return (_digits(rng, 9), "T" + id_no, id_no[:7])[variant]
    if id_type == "05":
        return (id_no[:3].lower() + id_no[3:], id_no[:14], id_no[:2] + id_no[3:])[variant]
    return (id_no[:4], f"{id_no[:4]}-{id_no[4:]}", id_no.lower() + "x")[variant]


def _p3(b: _Builder, row: Row) -> str | None:
    id_no = (
        None
        if b.missing("legal_rep_id_no", 0.1)
        else _broken_id(b.rng, row["legal_rep_id_type"], row["legal_rep_id_no"])
    )
    row["legal_rep_id_no"] = id_no
    return "legal_rep_id_no"


def _p4(b: _Builder, row: Row) -> str | None:
    row["legal_rep_id_end"] = None if b.missing("legal_rep_id_end", 0.3) else b.expired()
    return "legal_rep_id_end"


def _p5(b: _Builder, row: Row) -> str | None:
    if row["bo_name"] is None:
        return None
    variant = b.rng.randrange(3)
    if variant == 0:
        row["bo_id_end"] = b.expired()
        return "bo_id_end"
    if variant == 1:
        row["bo_id_no"] = _broken_id(b.rng, row["bo_id_type"], row["bo_id_no"])
        return "bo_id_no"
    row["bo_id_no"] = None
    return "bo_id_no"


def _m1(b: _Builder, row: Row) -> str | None:
    if b.rng.random() < 0.6:
        row["mcc"] = b.rng.choice([t.mcc for t in pools.TRADES if t.mcc != row["mer_id"][7:11]])
    else:
        row["mcc"] = b.rng.choice(pools.NOT_MCC_CODES)
    return "mcc"


def _m2(b: _Builder, row: Row) -> str | None:
    row["biz_address"] = _without_province(row["biz_address"])
    return "biz_address"


def _m3(b: _Builder, row: Row) -> str | None:
    code = row["biz_area_code"]
    row["biz_area_code"] = b.rng.choice((*pools.RETIRED_AREA_CODES, code[:4] + "00", code[:5]))
    return "biz_area_code"


def _m4(b: _Builder, row: Row) -> str | None:
    if row["mer_type"] != "micro":
        return None
    row["settle_acct_type"] = "corporate"
    return "settle_acct_type"


def _settle_account_ok(acct_type: str, account: str) -> bool:
    if not account.isdigit():
        return False
    if acct_type == "corporate":
        return 10 <= len(account) <= 25
    return 16 <= len(account) <= 19 and luhn_ok(account)


def _m5(b: _Builder, row: Row) -> str | None:
    account, acct_type = row["settle_acct_no"], row["settle_acct_type"]
    if acct_type == "personal":
        wrong_last = b.rng.choice("0123456789".replace(account[-1], ""))
        candidates = (account[:-1] + wrong_last, account[:15], account[:6] + " " + account[6:])
    else:
        candidates = (account[:8], f"{account[:6]}-{account[6:]}", account + "00000000000000")
    new = b.rng.choice(candidates)
    assert not _settle_account_ok(acct_type, new)
    row["settle_acct_no"] = new
    return "settle_acct_no"


def _m6(b: _Builder, row: Row) -> str | None:
    if row["settle_acct_type"] == "corporate":
        reg_name = row["mer_reg_name"]
        new = reg_name.removesuffix("有限公司") if reg_name.endswith("有限公司") else row["mer_biz_name"]
    else:
        new = _han_name(b.rng).name
    if new in (row["mer_reg_name"], row["legal_rep_name"]):
        return None
    row["settle_acct_name"] = new
    return "settle_acct_name"


def _c1(b: _Builder, row: Row) -> str | None:
    rng = b.rng
    mobile = rng.choice(pools.MOBILE_PREFIXES) + _digits(rng, 8)
    spaced, letter_o = f"{mobile[:3]} {mobile[3:]}", f"{mobile[:3]}O{mobile[4:]}"
    new = rng.choice((mobile[:10], letter_o, "12345678901", f"+86{mobile}", spaced))
    assert not is_valid_phone(new)
    row["contact_phone"] = None if b.missing("contact_phone", 0.1) else new
    return "contact_phone"


def _g2(b: _Builder, row: Row) -> str | None:
    name = row["mer_biz_name"]
    head, tail = name[: len(name) // 2], name[len(name) // 2 :]
    # pasted or typed in: a zero-width character or BOM, a terminal colour code, a line break, a tab,
    # a bell, emoji (checks.ODD_CHARS)
    odd = (f"{head}\u200b{tail}", f"{head}\u2060{tail}", f"{head}\ufeff{tail}", f"{name}\x1b[0m",
           f"{head}\r\n{tail}", f"{head}\t{tail}", f"{name}\x07", f"{name}😀", f"☀{name}")  # fmt: skip
    padded = (f" {name}", f"{name} ", f"{name}\u3000")
    row["mer_biz_name"] = b.rng.choice(b.rng.choice((pools.PLACEHOLDERS, padded, odd)))
    return "mer_biz_name"


def _g3(b: _Builder, row: Row) -> str | None:
    office = next(o for o in b.org.offices if o.code == row["inst_code"])
    variant = b.rng.randrange(3)
    if variant == 0 and office.inactive_managers:
        row["mgr_staff_id"] = b.rng.choice(office.inactive_managers)
    elif variant == 1:
        row["mgr_staff_id"] = f"29{_digits(b.rng, 4)}"
    else:
        row["mgr_staff_id"] = None
    return "mgr_staff_id"


_INJECTORS: dict[str, Callable[[_Builder, Row], str | None]] = {
    "E1": _e1, "E2": _e2, "E3": _e3, "E4": _e4, "E5": _e5, "E6": _e6, "E7": _e7, "E8": _e8, "E9": _e9,
    "P1": _p1, "P2": _p2, "P3": _p3, "P4": _p4, "P5": _p5,
    "M1": _m1, "M2": _m2, "M3": _m3, "M4": _m4, "M5": _m5, "M6": _m6,
    "C1": _c1, "G2": _g2, "G3": _g3,
}  # fmt: skip
