"""The bank's source tables as the data contract (shared/contracts/source-data.md) defines them.

The platform only reads these tables. `SOURCE_METADATA` is used to build the demo bank and to check
that a real source has every column the rules need before anything is written to the store.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

SOURCE_METADATA = sa.MetaData()

institution = sa.Table(
    "institution",
    SOURCE_METADATA,
    sa.Column("inst_code", sa.String(20), primary_key=True),
    sa.Column("inst_name", sa.String(100), nullable=False),
    sa.Column("inst_level", sa.String(20), nullable=False),
    sa.Column("parent_code", sa.String(20), nullable=True),
)

staff = sa.Table(
    "staff",
    SOURCE_METADATA,
    sa.Column("staff_id", sa.String(20), primary_key=True),
    sa.Column("staff_name", sa.String(60), nullable=False),
    sa.Column("inst_code", sa.String(20), nullable=False),
    sa.Column("position", sa.String(30), nullable=False),
    sa.Column("email", sa.String(120), nullable=True),
    sa.Column("wecom_userid", sa.String(60), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
)


def _identity_columns() -> list[sa.Column[object]]:
    cols: list[sa.Column[object]] = []
    for prefix, nullable in (("legal_rep", False), ("bo", True)):
        cols += [
            sa.Column(f"{prefix}_name", sa.String(100), nullable=nullable),
            sa.Column(f"{prefix}_id_type", sa.String(4), nullable=nullable),
            sa.Column(f"{prefix}_id_no", sa.String(40), nullable=nullable),
            sa.Column(f"{prefix}_id_end", sa.Date, nullable=nullable),
        ]
    return cols


merchant = sa.Table(
    "merchant",
    SOURCE_METADATA,
    sa.Column("mer_id", sa.String(15), primary_key=True),
    sa.Column("mer_type", sa.String(20), nullable=False),
    sa.Column("mer_reg_name", sa.String(200), nullable=False),
    sa.Column("mer_biz_name", sa.String(200), nullable=False),
    sa.Column("uscc", sa.String(30), nullable=True),
    sa.Column("licence_end", sa.Date, nullable=True),
    *_identity_columns(),
    sa.Column("reg_address", sa.String(300), nullable=True),
    sa.Column("biz_address", sa.String(300), nullable=False),
    sa.Column("biz_area_code", sa.String(10), nullable=False),
    sa.Column("business_scope", sa.Text, nullable=True),
    sa.Column("mcc", sa.String(10), nullable=False),
    sa.Column("settle_acct_type", sa.String(20), nullable=False),
    sa.Column("settle_acct_no", sa.String(40), nullable=False),
    sa.Column("settle_acct_name", sa.String(200), nullable=False),
    sa.Column("contact_phone", sa.String(30), nullable=False),
    sa.Column("onboard_date", sa.Date, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("inst_code", sa.String(20), nullable=False),
    sa.Column("mgr_staff_id", sa.String(20), nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

customer_org = sa.Table(
    "customer_org",
    SOURCE_METADATA,
    sa.Column("cust_no", sa.String(32), primary_key=True),
    sa.Column("cust_name", sa.String(200), nullable=False),
    sa.Column("entity_type", sa.String(30), nullable=False),
    sa.Column("uscc", sa.String(30), nullable=True),
    sa.Column("licence_end", sa.Date, nullable=True),
    sa.Column("establishment_date", sa.Date, nullable=True),
    sa.Column("reg_capital", sa.Numeric(18, 2), nullable=True),
    sa.Column("reg_address", sa.String(300), nullable=True),
    sa.Column("business_scope", sa.Text, nullable=True),
    *_identity_columns(),
    sa.Column("contact_phone", sa.String(30), nullable=False),
    sa.Column("open_date", sa.Date, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("inst_code", sa.String(20), nullable=False),
    sa.Column("mgr_staff_id", sa.String(20), nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)

RECORD_TABLES: Mapping[str, sa.Table] = {"merchant": merchant, "customer_org": customer_org}
ORG_TABLES: Mapping[str, sa.Table] = {"institution": institution, "staff": staff}
PRIMARY_KEYS: Mapping[str, str] = {"merchant": "mer_id", "customer_org": "cust_no"}

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
