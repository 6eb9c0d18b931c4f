"""Draws the rows of one record table from its own random stream, and injects the defects."""

from __future__ import annotations

import datetime as dt
import random
import string

from expectations.checks import (
    LONG_TERM,
    USCC_ALPHABET,
    luhn_check_digit,
    uscc_check_char,
)
from expectations.contract import (
    RECORD_TABLES,
)
from remediation.demobank import pools
from remediation.demobank.clauses import CLAUSES_BY_TABLE, EXCLUSIVE, TOUCHES_OTHERS
from remediation.demobank.defects import INJECTORS
from remediation.demobank.org import Office, Org, han_name
from remediation.demobank.people import (
    ID_KIND_CUM,
    ID_KINDS,
    REGION_CODES,
    TRADES_BY_TYPE,
    Person,
    Row,
    days_after,
    digits,
    org_code,
    with_mod11,
)
from remediation.demobank.pools import City, District, Trade
from remediation.demobank.spec import DemoBankSpec, InjectedDefect

UNIQUE_HOLDERS_KEPT = 5000
_SEQ_CHARS = string.digits + string.ascii_uppercase
_FIRST_LETTERED = 10 * 36**3  # "A000" in base 36


def mer_seq_code(seq: int) -> str:
    """The 4-character sequence of a mer_id: 0001-9999, then A000-ZZZZ (base 36), 1.2 million more."""
    if seq <= 9999:
        return f"{seq:04d}"
    value = _FIRST_LETTERED + seq - 10000
    if value >= 36**4:
        raise ValueError(f"mer_id sequence {seq} does not fit in 4 characters")
    return "".join(_SEQ_CHARS[value // 36**p % 36] for p in (3, 2, 1, 0))


class BuilderBase:
    """Draws the rows of one record table from its own random stream."""

    def __init__(self, spec: DemoBankSpec, org: Org, table: str) -> None:
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

    def person(self, latin_ok: bool = True) -> Person:
        rng = self.rng
        kind = rng.choices(ID_KINDS, cum_weights=ID_KIND_CUM)[0]
        born = self.birth_date()
        if kind in ("05-2023", "05-2017", "06") and latin_ok and rng.random() < 0.7:
            name, surname = rng.choice(pools.FOREIGN_NAMES), ""
        elif kind == "01" and rng.random() < 0.02:
            name, surname = rng.choice(pools.DOTTED_NAMES), ""
        else:
            name, surname = han_name(rng)[:2]
        id_no = self.id_number(kind, born)
        id_type = kind[:2]
        return Person(name, surname, id_type, id_no, self.id_end(id_type, born))

    def birth_date(self) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(20 * 365 + 5, 75 * 365))

    def id_number(self, kind: str, born: dt.date) -> str:
        rng = self.rng
        if kind == "01":
            region = rng.choice(pools.RETIRED_AREA_CODES if rng.random() < 0.03 else REGION_CODES)
            return with_mod11(f"{region}{born:%Y%m%d}{digits(rng, 3)}")
        if kind == "04":
            return with_mod11(f"{rng.choice(('810000', '820000', '830000'))}{born:%Y%m%d}{digits(rng, 3)}")
        alpha3, numeric = rng.choice(pools.PR_COUNTRIES)
        province = rng.choice(("11", "31", "36", "44"))
        if kind == "05-2023":
            return with_mod11(f"9{province}{numeric}{born:%Y%m%d}{digits(rng, 3)}")
        if kind == "05-2017":
            return f"{alpha3}{province}{born:%y%m%d}{digits(rng, 4)}"
        if kind == "02":
            return rng.choice("HM") + digits(rng, 8 if rng.random() < 0.7 else 10)
        if kind == "03":
            return digits(rng, 8 if rng.random() < 0.7 else 10)
        return rng.choice(("E", "EA", "P", "")) + digits(rng, 8 if rng.random() < 0.5 else 9)

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
            body = prefix + area + org_code(self.rng)
            code = body + uscc_check_char(body)
            if code not in self.used_uscc:
                self.used_uscc.add(code)
                return code

    def mer_id(self, city: City, mcc: str) -> str:
        key = (city.card_area, mcc)
        seq = self.mer_seq.get(key, 0) + 1
        self.mer_seq[key] = seq
        return f"{pools.ACQUIRER_CODE}{city.card_area}{mcc}{mer_seq_code(seq)}"

    def corporate_account(self) -> str:
        return "36" + digits(self.rng, self.rng.choice((10, 13, 15, 17, 19)))

    def card_account(self) -> str:
        body = self.rng.choice(pools.CARD_BINS) + digits(self.rng, 12 if self.rng.random() < 0.8 else 9)
        return body + luhn_check_digit(body)

    def phone(self, city: City) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.85:
            return rng.choice(pools.MOBILE_PREFIXES) + digits(rng, 8)
        local = str(rng.randint(2, 8)) + digits(rng, city.landline_digits - 1)
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

    def office(self) -> Office:
        return self.rng.choices(self.org.offices, cum_weights=self.org.office_cum_weights)[0]

    def manager(self, office: Office) -> str:
        return self.rng.choice(office.active_managers)

    def updated_at(self, since: dt.date) -> dt.datetime:
        day = days_after(self.rng, since, self.today - dt.timedelta(days=1))
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=self.rng.randrange(86400))

    def trade(self, mer_type: str) -> Trade:
        trades, cum = TRADES_BY_TYPE[mer_type]
        return self.rng.choices(trades, cum_weights=cum)[0]

    def legal_rep(self, rep: Person) -> Row:
        return {
            "legal_rep_name": rep.name,
            "legal_rep_id_type": rep.id_type,
            "legal_rep_id_no": rep.id_no,
            "legal_rep_id_end": rep.id_end,
        }

    def beneficial_owner(self, rep: Person) -> Person:
        return rep if self.rng.random() < 0.6 else self.person()

    def bo_columns(self, bo: Person) -> Row:
        return {"bo_name": bo.name, "bo_id_type": bo.id_type, "bo_id_no": bo.id_no, "bo_id_end": bo.id_end}

    def no_bo(self) -> Row:
        return {"bo_name": None, "bo_id_type": None, "bo_id_no": None, "bo_id_end": None}

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
            for drop in (clause, *EXCLUSIVE.get(clause, ())):
                if drop in clauses:
                    i = clauses.index(drop)
                    del clauses[i], weights[i]
            column = INJECTORS[clause](self, row)
            if column is not None:
                self.defects.append(InjectedDefect(self.table, row[key_column], clause, column))
                injected.append(clause)
        if not {"E2", "E3", "E4"} & set(injected):
            self.note_unique_holder(row)

    def closed_noise(self, row: Row) -> None:
        """Clause G1: a closed record may hold anything; nothing about it is a defect any more."""
        clauses = [c for c in self.clauses if c not in TOUCHES_OTHERS]
        if clauses and self.rng.random() < self.spec.defect_rate:
            INJECTORS[self.rng.choice(clauses)](self, row)

    def note_unique_holder(self, row: Row) -> None:
        if self.table == "customer_org" and row["uscc"] is not None:
            self.unique_holders.append(row)
            if len(self.unique_holders) > UNIQUE_HOLDERS_KEPT:  # memory stays flat at millions of records
                del self.unique_holders[0]

    def missing(self, column: str, share: float) -> bool:
        """Whether to blank `column` as the defect: only where the source table lets it be null."""
        return RECORD_TABLES[self.table].c[column].nullable is not False and self.rng.random() < share

    def needs_uscc(self, row: Row) -> bool:
        return row.get("mer_type") != "micro"

    def expired(self) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(1, 1500))

    def unique_uscc(self, body: str) -> str | None:
        """`body` with its check character, or None when that code is taken or `body` has no check
        character (not 17 characters of the USCC alphabet: a closed record's noise may start from a
        value that already breaks E2, e.g. with a lower-case letter)."""
        if len(body) != 17 or not set(body) <= set(USCC_ALPHABET):
            return None
        code = body + uscc_check_char(body)
        if code in self.used_uscc:
            return None
        self.used_uscc.add(code)
        return code
