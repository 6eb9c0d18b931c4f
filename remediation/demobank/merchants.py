"""Merchant rows (收单商户): enterprises, individual businesses, micro merchants and chain stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from remediation.demobank import pools
from remediation.demobank.builder import BuilderBase
from remediation.demobank.org import Office
from remediation.demobank.people import (
    CHAIN_MCCS,
    FIRST_ONBOARD,
    Person,
    Row,
    days_after,
    province_short,
)
from remediation.demobank.pools import City, Trade


class MerchantRows(BuilderBase):
    """The merchant table's rows."""

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
            place = rng.choice((city.name, f"{city.name}{district.name}", province_short(city.province)))
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

    def personal_settlement(self, rep: Person) -> Row:
        return {
            "settle_acct_type": "personal",
            "settle_acct_no": self.card_account(),
            "settle_acct_name": rep.name,
        }

    def merchant_common(self, office: Office) -> Row:
        onboard = days_after(self.rng, FIRST_ONBOARD, self.today - dt.timedelta(days=1))
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
        trade = rng.choice([t for t in pools.TRADES if t.mcc in CHAIN_MCCS])
        city = rng.choice(pools.BRANCH_CITIES)[0]
        home = rng.choice(city.districts)
        word = rng.choice(pools.TRADE_WORDS)
        reg_name = f"{province_short(city.province)}{word}{trade.industry}连锁有限公司"
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
