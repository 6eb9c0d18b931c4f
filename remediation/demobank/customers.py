"""Corporate customer rows (非自然人客户) of every entity type."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from expectations.contract import (
    ENTITY_TYPES,
)
from remediation.demobank import pools
from remediation.demobank.builder import UNIQUE_HOLDERS_KEPT, BuilderBase
from remediation.demobank.people import (
    FIRST_ESTABLISHED,
    FIRST_OPEN,
    LICENCE_TERMS,
    Row,
    days_after,
    province_short,
)
from remediation.demobank.pools import City, District


class CustomerRows(BuilderBase):
    """The customer_org table's rows."""

    # customers

    def customers(self, count: int) -> Iterator[Row]:
        earlier: list[Row] = []
        for i in range(count):
            row = self.customer(i)
            if row["status"] == "closed" and earlier and self.rng.random() < 0.3:
                twin = self.rng.choice(earlier)
                row.update(cust_name=twin["cust_name"], entity_type=twin["entity_type"], uscc=twin["uscc"])
            earlier.append(row)
            if len(earlier) > UNIQUE_HOLDERS_KEPT:  # twins come from the latest records: memory stays flat
                del earlier[0]
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
        opened = days_after(rng, max(founded, FIRST_OPEN), self.today - dt.timedelta(days=1))
        rep = self.person()
        has_bo = entity_type in ("enterprise", "cooperative") or rng.random() < 0.2
        bo = self.beneficial_owner(rep) if has_bo else None
        r = rng.random()
        return {
            "cust_no": f"C{10_000_000_000 + index * 37 + rng.randrange(37)}",
            "cust_name": name,
            "entity_type": entity_type,
            "uscc": self.uscc(prefix, district.code),
            "licence_end": self.licence_end(*LICENCE_TERMS.get(entity_type, (0.0, 5))),
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
            place = rng.choice((city.name, province_short(city.province)))
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
        start = FIRST_ESTABLISHED.get(entity_type, 1985)
        return days_after(self.rng, dt.date(start, 7, 1), self.today - dt.timedelta(days=30))

    def reg_capital(self, entity_type: str) -> Decimal | None:
        rng = self.rng
        if entity_type == "enterprise":
            return Decimal(rng.randint(1000, 1_000_000)).scaleb(-2)
        if entity_type == "cooperative":
            return Decimal(rng.randint(500, 100_000)).scaleb(-2)
        top = 10_000 if entity_type == "individual" else 200_000
        return Decimal(rng.randint(100, top)).scaleb(-2) if rng.random() < 0.3 else None
