"""Tiny source banks for tests: a small institution tree, staff, and records valid under every rule.

Tests start from valid records and break exactly the field they are about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from expectations import checks
from expectations.contract import SOURCE_METADATA, customer_org, institution, merchant, staff

CHECK_DATE = dt.date(2026, 11, 20)
LONG_TERM = dt.date(9999, 12, 31)

INSTITUTIONS = [
    {"inst_code": "100000", "inst_name": "赣江银行总行", "inst_level": "head", "parent_code": None},
    {"inst_code": "110000", "inst_name": "赣江银行九江分行", "inst_level": "branch", "parent_code": "100000"},
    {
        "inst_code": "110100",
        "inst_name": "赣江银行浔阳支行",
        "inst_level": "sub_branch",
        "parent_code": "110000",
    },
    {
        "inst_code": "110200",
        "inst_name": "赣江银行濂溪支行",
        "inst_level": "sub_branch",
        "parent_code": "110000",
    },
]
STAFF = [
    ("D001", "周数据", "100000", "data_office", True),
    ("B001", "钱分行", "110000", "branch_head", True),
    ("S101", "孙支行", "110100", "sub_branch_head", True),
    ("S201", "李支行", "110200", "sub_branch_head", False),  # inactive head: routing goes up to B001
    ("M101", "张经理", "110100", "account_manager", True),
    ("M102", "王经理", "110100", "account_manager", True),
    ("M103", "赵离职", "110100", "account_manager", False),
    ("M201", "吴经理", "110200", "account_manager", True),
]


def uscc(prefix: str, body: str = "360402MA35L7XK0") -> str:
    code = (prefix + body)[:17]
    return code + checks.uscc_check_char(code)


def resident_id(body: str = "36040219850612123") -> str:
    return body + checks.mod11_2_check_char(body)


def merchant_row(seq: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "mer_id": f"1023604{5812}{seq:04d}",
        "mer_type": "enterprise",
        "mer_reg_name": "九江市浔阳区好运来餐饮有限公司",
        "mer_biz_name": "好运来餐厅",
        "uscc": uscc("91"),
        "licence_end": LONG_TERM,
        "legal_rep_name": "张三",
        "legal_rep_id_type": "01",
        "legal_rep_id_no": resident_id(),
        "legal_rep_id_end": dt.date(2035, 6, 30),
        "bo_name": "张三",
        "bo_id_type": "01",
        "bo_id_no": resident_id(),
        "bo_id_end": dt.date(2035, 6, 30),
        "reg_address": "江西省九江市浔阳区庐山路88号",
        "biz_address": "江西省九江市浔阳区庐山路88号",
        "biz_area_code": "360403",
        "business_scope": "餐饮服务；食品销售",
        "mcc": "5812",
        "settle_acct_type": "corporate",
        "settle_acct_no": "1502208009300012345",
        "settle_acct_name": "九江市浔阳区好运来餐饮有限公司",
        "contact_phone": "13800138000",
        "onboard_date": dt.date(2024, 3, 1),
        "status": "active",
        "inst_code": "110100",
        "mgr_staff_id": "M101",
        "updated_at": dt.datetime(2026, 11, 1, 9, 0),
    }
    row.update(overrides)
    return row


def customer_row(seq: int, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "cust_no": f"C{seq:011d}",
        "cust_name": "九江长江实业有限公司",
        "entity_type": "enterprise",
        "uscc": uscc("91", f"360402MA{seq:06d}0"),  # unique per customer (clause E4)
        "licence_end": LONG_TERM,
        "establishment_date": dt.date(2010, 5, 20),
        "reg_capital": 500,
        "reg_address": "江西省九江市濂溪区十里大道1号",
        "business_scope": "建筑材料销售；货物进出口",
        "legal_rep_name": "李四",
        "legal_rep_id_type": "01",
        "legal_rep_id_no": resident_id("11010519491231002"),
        "legal_rep_id_end": LONG_TERM,
        "bo_name": "李四",
        "bo_id_type": "01",
        "bo_id_no": resident_id("11010519491231002"),
        "bo_id_end": LONG_TERM,
        "contact_phone": "0792-8123456",
        "open_date": dt.date(2015, 1, 5),
        "status": "active",
        "inst_code": "110200",
        "mgr_staff_id": "M201",
        "updated_at": dt.datetime(2026, 11, 1, 9, 0),
    }
    row.update(overrides)
    return row


def build_source(
    url: str,
    merchants: Iterable[Mapping[str, Any]] = (),
    customers: Iterable[Mapping[str, Any]] = (),
    batch: int = 5000,
) -> sa.Engine:
    """Create the four contract tables at `url` and fill them."""
    engine = sa.create_engine(url)
    SOURCE_METADATA.drop_all(engine)
    SOURCE_METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(institution), INSTITUTIONS)
        conn.execute(
            sa.insert(staff),
            [
                {
                    "staff_id": s,
                    "staff_name": n,
                    "inst_code": i,
                    "position": p,
                    "active": a,
                    "email": f"{s.lower()}@bank.example",
                    "wecom_userid": s,
                }
                for s, n, i, p, a in STAFF
            ],
        )
        for table, rows in ((merchant, list(merchants)), (customer_org, list(customers))):
            for start in range(0, len(rows), batch):
                conn.execute(sa.insert(table), rows[start : start + batch])
    return engine


def update_record(engine: sa.Engine, table: str, key: str, **values: Any) -> None:
    t = {"merchant": merchant, "customer_org": customer_org}[table]
    key_col = t.c.mer_id if table == "merchant" else t.c.cust_no
    with engine.begin() as conn:
        changed = conn.execute(sa.update(t).where(key_col == key).values(**values)).rowcount
    assert changed == 1, f"no {table} {key}"


def without_primary_key(engine: sa.Engine, table: str = "merchant") -> None:
    """Rebuild a source table with raw DDL and no primary key constraint (a view, an extract, a table
    the source system never constrained), keeping its rows: then two rows may share a key."""
    t = {"merchant": merchant, "customer_org": customer_org}[table]
    columns = ", ".join(f"{c.name} {c.type.compile(engine.dialect)}" for c in t.c)
    with engine.begin() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(t))]
        conn.exec_driver_sql(f"DROP TABLE {table}")
        conn.exec_driver_sql(f"CREATE TABLE {table} ({columns})")
        if rows:
            conn.execute(sa.insert(t), rows)


def add_row(engine: sa.Engine, table: str, row: Mapping[str, Any]) -> None:
    t = {"merchant": merchant, "customer_org": customer_org}[table]
    with engine.begin() as conn:
        conn.execute(sa.insert(t), [dict(row)])
