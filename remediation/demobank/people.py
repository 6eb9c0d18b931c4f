"""People, codes, dates and places the demo bank draws: the shared helpers of its records."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from expectations.checks import (
    USCC_ALPHABET,
    mod11_2_check_char,
    org_code_check_char,
)
from remediation.demobank import pools
from remediation.demobank.pools import Trade

Row = dict[str, Any]


FIRST_ONBOARD = dt.date(2012, 1, 1)
FIRST_OPEN = dt.date(2005, 1, 1)

# --- people, codes and addresses --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    surname: str
    id_type: str
    id_no: str
    id_end: dt.date


ID_KINDS = ("01", "02", "03", "04", "05-2023", "05-2017", "06")
ID_KIND_CUM = tuple(accumulate((0.925, 0.015, 0.01, 0.015, 0.01, 0.01, 0.015)))
REGION_CODES = tuple(d.code for city, _ in pools.BRANCH_CITIES for d in city.districts) + tuple(
    d.code for city in pools.OTHER_CITIES for d in city.districts
)
CHAIN_MCCS = frozenset(("5912", "5411", "5499", "5812", "5814", "5462", "5651", "7230"))


def digits(rng: random.Random, n: int) -> str:
    return f"{rng.randrange(10**n):0{n}d}"


def days_after(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max((end - start).days, 0)))


def with_mod11(body: str) -> str:
    return body + mod11_2_check_char(body)


def org_code(rng: random.Random) -> str:
    """Positions 9-17 of a USCC: an 8-character GB 11714 body and its check character."""
    if rng.random() < 0.6:
        body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        body = "7" + digits(rng, 7)
    return body + org_code_check_char(body)


def province_short(province: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if province.endswith(suffix):
            return province.removesuffix(suffix)
    return province


FIRST_ESTABLISHED = {"public_institution": 1950, "rural_collective": 1956, "cooperative": 2007}
# (share of long-term licences, longest fixed term in years); registration certificates of public
# institutions and social organisations run for five years.
LICENCE_TERMS = {
    "enterprise": (0.6, 30),
    "individual": (0.7, 20),
    "cooperative": (0.5, 20),
    "rural_collective": (0.8, 30),
}


def trades_by_type() -> dict[str, tuple[tuple[Trade, ...], tuple[float, ...]]]:
    out = {}
    for mer_type in pools.ALL_TYPES:
        trades = tuple(t for t in pools.TRADES if mer_type in t.merchant_types)
        out[mer_type] = (trades, tuple(accumulate(float(t.weight) for t in trades)))
    return out


TRADES_BY_TYPE = trades_by_type()
