"""The message catalogue's labels of the source records' fields (the data contract's columns), zh and en.

Part of the one catalogue: `portal.i18n.MESSAGES` merges them in.
"""

from __future__ import annotations

from collections.abc import Mapping

FIELD_LABELS: Mapping[str, tuple[str, str]] = {
    "col.mer_id": ("商户编号", "Merchant code"),
    "col.mer_type": ("商户类型", "Merchant type"),
    "col.mer_reg_name": ("注册名称", "Registered name"),
    "col.mer_biz_name": ("经营名称", "Trading name"),
    "col.uscc": ("统一社会信用代码", "USCC"),
    "col.licence_end": ("证照有效期至", "Licence expiry"),
    "col.legal_rep_name": ("法定代表人姓名", "Legal representative"),
    "col.legal_rep_id_type": ("法定代表人证件类型", "Legal rep. ID type"),
    "col.legal_rep_id_no": ("法定代表人证件号码", "Legal rep. ID number"),
    "col.legal_rep_id_end": ("法定代表人证件有效期至", "Legal rep. ID expiry"),
    "col.bo_name": ("受益所有人姓名", "Beneficial owner"),
    "col.bo_id_type": ("受益所有人证件类型", "BO ID type"),
    "col.bo_id_no": ("受益所有人证件号码", "BO ID number"),
    "col.bo_id_end": ("受益所有人证件有效期至", "BO ID expiry"),
    "col.reg_address": ("注册地址", "Registered address"),
    "col.biz_address": ("经营地址", "Business address"),
    "col.biz_area_code": ("经营地区划代码", "Area code"),
    "col.business_scope": ("经营范围", "Business scope"),
    "col.mcc": ("商户类别码", "MCC"),
    "col.settle_acct_type": ("结算账户类型", "Settlement account type"),
    "col.settle_acct_no": ("结算账号", "Settlement account"),
    "col.settle_acct_name": ("结算账户户名", "Settlement account name"),
    "col.contact_phone": ("联系电话", "Contact phone"),
    "col.onboard_date": ("入网日期", "Onboarding date"),
    "col.status": ("状态", "Status"),
    "col.inst_code": ("管户机构", "Institution"),
    "col.mgr_staff_id": ("管户人", "Account manager"),
    "col.cust_no": ("客户号", "Customer number"),
    "col.cust_name": ("客户名称", "Customer name"),
    "col.entity_type": ("主体类型", "Entity type"),
    "col.establishment_date": ("成立日期", "Established"),
    "col.reg_capital": ("注册资本（万元）", "Registered capital (10k CNY)"),
    "col.open_date": ("开户日期", "Opened"),
}
