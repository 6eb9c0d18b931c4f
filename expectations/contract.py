"""The bank's source tables as the data contract (shared/contracts/source-data.md) defines them.

The platform only reads these tables. `SOURCE_METADATA` is used to build the demo bank and to check
that a real source has every column the rules need before anything is written to the store.
Only primary keys are NOT NULL here: a real source holds the very gaps the rules look for.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

SOURCE_METADATA = sa.MetaData()

institution = sa.Table(
    "institution",
    SOURCE_METADATA,
    sa.Column("inst_code", sa.String(20), primary_key=True),
    sa.Column("inst_name", sa.String(100)),
    sa.Column("inst_level", sa.String(20)),
    sa.Column("parent_code", sa.String(20)),
)

staff = sa.Table(
    "staff",
    SOURCE_METADATA,
    sa.Column("staff_id", sa.String(20), primary_key=True),
    sa.Column("staff_name", sa.String(60)),
    sa.Column("inst_code", sa.String(20)),
    sa.Column("position", sa.String(30)),
    sa.Column("email", sa.String(120)),
    sa.Column("wecom_userid", sa.String(60)),
    sa.Column("active", sa.Boolean),
)


def _identity_columns() -> list[sa.Column[object]]:
    cols: list[sa.Column[object]] = []
    for prefix in ("legal_rep", "bo"):
        cols += [
            sa.Column(f"{prefix}_name", sa.String(100)),
            sa.Column(f"{prefix}_id_type", sa.String(4)),
            sa.Column(f"{prefix}_id_no", sa.String(40)),
            sa.Column(f"{prefix}_id_end", sa.Date),
        ]
    return cols


merchant = sa.Table(
    "merchant",
    SOURCE_METADATA,
    sa.Column("mer_id", sa.String(15), primary_key=True),
    sa.Column("mer_type", sa.String(20)),
    sa.Column("mer_reg_name", sa.String(200)),
    sa.Column("mer_biz_name", sa.String(200)),
    sa.Column("uscc", sa.String(30)),
    sa.Column("licence_end", sa.Date),
    *_identity_columns(),
    sa.Column("reg_address", sa.String(300)),
    sa.Column("biz_address", sa.String(300)),
    sa.Column("biz_area_code", sa.String(10)),
    sa.Column("business_scope", sa.Text),
    sa.Column("mcc", sa.String(10)),
    sa.Column("settle_acct_type", sa.String(20)),
    sa.Column("settle_acct_no", sa.String(40)),
    sa.Column("settle_acct_name", sa.String(200)),
    sa.Column("contact_phone", sa.String(30)),
    sa.Column("onboard_date", sa.Date),
    sa.Column("status", sa.String(20)),
    sa.Column("inst_code", sa.String(20)),
    sa.Column("mgr_staff_id", sa.String(20)),
    sa.Column("updated_at", sa.DateTime),
)

customer_org = sa.Table(
    "customer_org",
    SOURCE_METADATA,
    sa.Column("cust_no", sa.String(32), primary_key=True),
    sa.Column("cust_name", sa.String(200)),
    sa.Column("entity_type", sa.String(30)),
    sa.Column("uscc", sa.String(30)),
    sa.Column("licence_end", sa.Date),
    sa.Column("establishment_date", sa.Date),
    sa.Column("reg_capital", sa.Numeric(18, 2)),
    sa.Column("reg_address", sa.String(300)),
    sa.Column("business_scope", sa.Text),
    *_identity_columns(),
    sa.Column("contact_phone", sa.String(30)),
    sa.Column("open_date", sa.Date),
    sa.Column("status", sa.String(20)),
    sa.Column("inst_code", sa.String(20)),
    sa.Column("mgr_staff_id", sa.String(20)),
    sa.Column("updated_at", sa.DateTime),
)

RECORD_TABLES: Mapping[str, sa.Table] = {"merchant": merchant, "customer_org": customer_org}
ORG_TABLES: Mapping[str, sa.Table] = {"institution": institution, "staff": staff}
PRIMARY_KEYS: Mapping[str, str] = {"merchant": "mer_id", "customer_org": "cust_no"}
CREATED_COLUMNS: Mapping[str, str] = {"merchant": "onboard_date", "customer_org": "open_date"}  # stock or new

INSTITUTION_LEVELS = ("head", "branch", "sub_branch")
POSITIONS = ("account_manager", "sub_branch_head", "branch_head", "data_office")
MERCHANT_TYPES = ("enterprise", "individual", "micro")
ENTITY_TYPES = (
    "enterprise",
    "individual",
    "cooperative",
    "public_institution",
    "social_org",
    "rural_collective",
)
RECORD_STATUSES = {
    "merchant": ("active", "suspended", "closed"),
    "customer_org": ("active", "dormant", "closed"),
}
