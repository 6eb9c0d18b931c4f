"""One injector per clause: make exactly that clause fail on a record; return the column (None: not applicable)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from expectations.checks import (
    ID_CHECK_CHARS,
    USCC_ALPHABET,
    is_placeholder_text,
    is_valid_id,
    is_valid_phone,
    is_valid_uscc,
    luhn_ok,
)
from expectations.reference import PROVINCE_NAMES
from remediation.demobank import pools
from remediation.demobank.org import han_name
from remediation.demobank.people import (
    Row,
    digits,
    with_mod11,
)
from remediation.demobank.spec import InjectedDefect

if TYPE_CHECKING:
    from remediation.demobank.builder import BuilderBase


# --- one generator per clause: make exactly that clause fail, return the column (None: not applicable) ---


def _e1(b: BuilderBase, row: Row) -> str | None:
    column = "mer_reg_name" if b.table == "merchant" else "cust_name"
    # A corporate settlement account carries the registered name (M6): leave those records alone.
    if b.table == "merchant" and row["settle_acct_type"] != "personal":
        return None
    row[column] = None if b.missing(column, 0.3) else row[column][0]
    return column


def _e2(b: BuilderBase, row: Row) -> str | None:
    uscc = row["uscc"]
    if uscc is None:
        return None
    variant = b.rng.randrange(4)
    if len(uscc) < 18:  # a closed record's twin may hold a value E2 already cut short
        return None
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
    if new is not None and is_valid_uscc(new):  # only from a value already broken: a new check character
        return None
    row["uscc"] = new
    return "uscc"


def _e3(b: BuilderBase, row: Row) -> str | None:
    uscc = row["uscc"]
    if uscc is None:
        return None
    kind = row["mer_type"] if b.table == "merchant" else row["entity_type"]
    new = b.unique_uscc(b.rng.choice(pools.WRONG_USCC_PREFIXES[kind]) + uscc[2:17])
    if new is None:
        return None
    row["uscc"] = new
    return "uscc"


def _e4(b: BuilderBase, row: Row) -> str | None:
    """The USCC of an earlier in-scope customer of the same type: both records now break E4."""
    twins = [r for r in b.unique_holders if r["entity_type"] == row["entity_type"]]
    if row["uscc"] is None or not twins:
        return None
    twin = b.rng.choice(twins)
    b.unique_holders.remove(twin)
    row["uscc"] = twin["uscc"]
    b.defects.append(InjectedDefect(b.table, twin["cust_no"], "E4", "uscc"))
    return "uscc"


def _e5(b: BuilderBase, row: Row) -> str | None:
    if not b.needs_uscc(row):
        return None
    row["licence_end"] = None if b.rng.random() < 0.4 else b.expired()
    return "licence_end"


def _e6(b: BuilderBase, row: Row) -> str | None:
    variant = b.rng.randrange(3)
    if variant == 0:
        row["establishment_date"] = None
    elif variant == 1:
        row["establishment_date"] = b.today + dt.timedelta(days=b.rng.randint(1, 400))
    else:
        row["establishment_date"] = dt.date(1900, 1, 1)
    return "establishment_date"


def _e7(b: BuilderBase, row: Row) -> str | None:
    if row["entity_type"] not in ("enterprise", "cooperative"):
        return None
    row["reg_capital"] = None if b.rng.random() < 0.6 else Decimal("0.00")
    return "reg_capital"


def _without_province(address: str) -> str:
    province = next(p for p in PROVINCE_NAMES if address.startswith(p))
    return address.removeprefix(province)


def _e8(b: BuilderBase, row: Row) -> str | None:
    if not b.needs_uscc(row):
        return None
    row["reg_address"] = None if b.rng.random() < 0.4 else _without_province(row["reg_address"])
    return "reg_address"


def _e9(b: BuilderBase, row: Row) -> str | None:
    if not b.needs_uscc(row):
        return None
    row["business_scope"] = None
    return "business_scope"


def _p1(b: BuilderBase, row: Row) -> str | None:
    # A personal settlement account carries the same name (M6): leave those records alone.
    if b.table == "merchant" and (row["mer_type"] == "micro" or row["settle_acct_type"] != "corporate"):
        return None
    name = row["legal_rep_name"]
    row["legal_rep_name"] = f"{name}{b.rng.randint(1, 9)}" if b.rng.random() < 0.6 else f"{name}(经办人)"
    return "legal_rep_name"


def _p2(b: BuilderBase, row: Row) -> str | None:
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
            return with_mod11(id_no[:10] + "13" + id_no[12:17])
        if variant == 1 and id_no[17] == "X":
            return id_no[:17] + "x"
        return id_no[:17] + rng.choice(ID_CHECK_CHARS.replace(id_no[17], ""))
    if id_type == "02":
        return ("H" + digits(rng, 9), "C" + id_no[1:], id_no[0] + id_no[1:8])[variant]
    if id_type == "03":
        return (digits(rng, 9), "T" + id_no, id_no[:7])[variant]
    if id_type == "05":
        return (id_no[:3].lower() + id_no[3:], id_no[:14], id_no[:2] + id_no[3:])[variant]
    return (id_no[:4], f"{id_no[:4]}-{id_no[4:]}", id_no.lower() + "x")[variant]


def _p3(b: BuilderBase, row: Row) -> str | None:
    id_no = (
        None
        if b.missing("legal_rep_id_no", 0.1)
        else _broken_id(b.rng, row["legal_rep_id_type"], row["legal_rep_id_no"])
    )
    row["legal_rep_id_no"] = id_no
    return "legal_rep_id_no"


def _p4(b: BuilderBase, row: Row) -> str | None:
    row["legal_rep_id_end"] = None if b.missing("legal_rep_id_end", 0.3) else b.expired()
    return "legal_rep_id_end"


def _p5(b: BuilderBase, row: Row) -> str | None:
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


def _m1(b: BuilderBase, row: Row) -> str | None:
    if b.rng.random() < 0.6:
        row["mcc"] = b.rng.choice([t.mcc for t in pools.TRADES if t.mcc != row["mer_id"][7:11]])
    else:
        row["mcc"] = b.rng.choice(pools.NOT_MCC_CODES)
    return "mcc"


def _m2(b: BuilderBase, row: Row) -> str | None:
    row["biz_address"] = _without_province(row["biz_address"])
    return "biz_address"


def _m3(b: BuilderBase, row: Row) -> str | None:
    code = row["biz_area_code"]
    row["biz_area_code"] = b.rng.choice((*pools.RETIRED_AREA_CODES, code[:4] + "00", code[:5]))
    return "biz_area_code"


def _m4(b: BuilderBase, row: Row) -> str | None:
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


def _m5(b: BuilderBase, row: Row) -> str | None:
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


def _m6(b: BuilderBase, row: Row) -> str | None:
    if row["settle_acct_type"] == "corporate":
        reg_name = row["mer_reg_name"]
        new = reg_name.removesuffix("有限公司") if reg_name.endswith("有限公司") else row["mer_biz_name"]
    else:
        new = han_name(b.rng).name
    if new in (row["mer_reg_name"], row["legal_rep_name"]):
        return None
    row["settle_acct_name"] = new
    return "settle_acct_name"


def _c1(b: BuilderBase, row: Row) -> str | None:
    rng = b.rng
    mobile = rng.choice(pools.MOBILE_PREFIXES) + digits(rng, 8)
    spaced, letter_o = f"{mobile[:3]} {mobile[3:]}", f"{mobile[:3]}O{mobile[4:]}"
    new = rng.choice((mobile[:10], letter_o, "12345678901", f"+86{mobile}", spaced))
    assert not is_valid_phone(new)
    row["contact_phone"] = None if b.missing("contact_phone", 0.1) else new
    return "contact_phone"


def _g2(b: BuilderBase, row: Row) -> str | None:
    name = row["mer_biz_name"]
    head, tail = name[: len(name) // 2], name[len(name) // 2 :]
    # pasted or typed in: a zero-width character or BOM, a terminal colour code, a line break, a tab,
    # a bell, emoji (checks.ODD_CHARS)
    odd = (
        f"{head}\u200b{tail}",
        f"{head}\u2060{tail}",
        f"{head}\ufeff{tail}",
        f"{name}\x1b[0m",
        f"{head}\r\n{tail}",
        f"{head}\t{tail}",
        f"{name}\x07",
        f"{name}😀",
        f"☀{name}",
    )
    padded = (f" {name}", f"{name} ", f"{name}\u3000")
    row["mer_biz_name"] = b.rng.choice(b.rng.choice((pools.PLACEHOLDERS, padded, odd)))
    return "mer_biz_name"


def _g3(b: BuilderBase, row: Row) -> str | None:
    office = next(o for o in b.org.offices if o.code == row["inst_code"])
    variant = b.rng.randrange(3)
    if variant == 0 and office.inactive_managers:
        row["mgr_staff_id"] = b.rng.choice(office.inactive_managers)
    elif variant == 1:
        row["mgr_staff_id"] = f"29{digits(b.rng, 4)}"
    else:
        row["mgr_staff_id"] = None
    return "mgr_staff_id"


INJECTORS: dict[str, Callable[[BuilderBase, Row], str | None]] = {
    "E1": _e1,
    "E2": _e2,
    "E3": _e3,
    "E4": _e4,
    "E5": _e5,
    "E6": _e6,
    "E7": _e7,
    "E8": _e8,
    "E9": _e9,
    "P1": _p1,
    "P2": _p2,
    "P3": _p3,
    "P4": _p4,
    "P5": _p5,
    "M1": _m1,
    "M2": _m2,
    "M3": _m3,
    "M4": _m4,
    "M5": _m5,
    "M6": _m6,
    "C1": _c1,
    "G2": _g2,
    "G3": _g3,
}
