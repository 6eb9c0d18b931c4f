"""The demo bank's institution tree and staff: a head office, branches, sub-branches and their people."""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

from remediation.demobank import pools
from remediation.demobank.people import Row
from remediation.demobank.pools import City, District

# --- institutions and staff ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Office:
    code: str
    city: City
    district: District
    active_managers: tuple[str, ...]
    inactive_managers: tuple[str, ...]


@dataclass(frozen=True)
class Org:
    institutions: list[Row]
    staff: list[Row]
    offices: tuple[Office, ...]
    office_cum_weights: tuple[float, ...]


class HanName(NamedTuple):
    name: str
    surname: str
    surname_py: str
    given_py: str


def han_name(rng: random.Random) -> HanName:
    surname, surname_py = rng.choices(pools.SURNAMES, cum_weights=SURNAME_CUM)[0]
    chars = rng.sample(pools.GIVEN_CHARS, 1 if rng.random() < 0.35 else 2)
    return HanName(surname + "".join(c for c, _ in chars), surname, surname_py, "".join(p for _, p in chars))


SURNAME_CUM = tuple(
    accumulate(3.0 if i < 10 else 0.2 if len(s) > 1 else 1.0 for i, (s, _) in enumerate(pools.SURNAMES))
)


class StaffFactory:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.number = 200100
        self.rows: list[Row] = []

    def add(self, inst_code: str, position: str, active: bool = True) -> str:
        self.number += self.rng.randint(1, 9)
        staff_id = str(self.number)
        name, _, surname_py, given_py = han_name(self.rng)
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


def build_org(rng: random.Random) -> Org:
    head = pools.HEAD_OFFICE_CODE
    institutions: list[Row] = [
        {"inst_code": head, "inst_name": f"{pools.BANK_NAME}总行", "inst_level": "head", "parent_code": None}
    ]
    people = StaffFactory(rng)
    for _ in range(3):
        people.add(head, "data_office")
    sub_branch_count = sum(len(city.districts) for city, _ in pools.BRANCH_CITIES)
    vacant_head, replaced_head = rng.sample(range(sub_branch_count), 2)
    offices: list[Office] = []
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
            offices.append(Office(code, city, district, active, left))
            weights.append(share / len(city.districts))
    return Org(institutions, people.rows, tuple(offices), tuple(accumulate(weights)))
