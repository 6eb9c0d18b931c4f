"""Reference data the rules check against: read from the packages that ship it, or versioned here.

`reference_versions()` says which versions a run used; the check run records it, `dqgov reference` prints it.

- ISO 18245 merchant category codes: the `iso18245` package.
- GB/T 2260 division codes: python-stdnum's `cn/loc` table. Each code carries its names with validity years,
  `[1983-2017]九江县` (abolished), `[2019-]红谷滩区` or a bare name (current); several names are separated by
  commas, the last one is the latest.
- The province-level names (clauses E8, M2) and the placeholder list (clause G2): constants below, with a
  version string to bump whenever they change.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib.metadata import version
from itertools import product

# The 34 province-level divisions by their full official names (GB/T 2260), simplified characters.
PROVINCE_NAMES: tuple[str, ...] = (
    "北京市",
    "天津市",
    "河北省",
    "山西省",
    "内蒙古自治区",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "上海市",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "广西壮族自治区",
    "海南省",
    "重庆市",
    "四川省",
    "贵州省",
    "云南省",
    "西藏自治区",
    "陕西省",
    "甘肃省",
    "青海省",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "台湾省",
    "香港特别行政区",
    "澳门特别行政区",
)
PROVINCE_NAMES_VERSION = "1"


def _case_variants(word: str) -> set[str]:
    return {"".join(chars) for chars in product(*((c.lower(), c.upper()) for c in word))}


# Clause G2's list, plus what the same placeholder looks like typed otherwise: `test` and `null` in any
# letter case, and the full-width twins an input method in full-width mode types for `?`, `-`, `/`.
PLACEHOLDERS: frozenset[str] = frozenset(
    {"无", "不详", "未知", "测试", "-", "/", "***", "?", "？", "－", "／", "＊＊＊"}
    | _case_variants("test")
    | _case_variants("null")
)
PLACEHOLDERS_VERSION = "1"

# Prefecture-level cities without county-level divisions (不设区的地级市): their own code is the finest
# GB/T 2260 code an address there can carry, so it stands for a county-level code.
CITIES_WITHOUT_COUNTIES: frozenset[str] = frozenset({"441900", "442000", "460400", "620200"})

_PERIOD = re.compile(r"\[(\d{4})?-(\d{4})?\]")


def _is_current(names: str) -> bool:
    latest = names.split(",")[-1]
    period = _PERIOD.match(latest)
    name = latest[period.end() :] if period else latest
    return (period is None or period.group(2) is None) and name not in ("市辖区", "县")


@cache
def county_codes() -> frozenset[str]:
    """The current county-level codes of GB/T 2260 (python-stdnum's table), as 6-digit strings.

    County level: the code does not end in `00` (those name provinces and prefectures) and is not a
    `市辖区` placeholder, plus the prefecture-level cities that have no counties.
    """
    from stdnum import numdb

    codes: set[str] = set()
    for _, province, _, _, counties in numdb.get("cn/loc").prefixes:
        for _, rest, _, info, _ in counties:
            code = province + rest
            if _is_current(info.get("county", "")) and (
                not code.endswith("00") or code in CITIES_WITHOUT_COUNTIES
            ):
                codes.add(code)
    return frozenset(codes)


@cache
def mcc_codes() -> frozenset[str]:
    """Every merchant category code of ISO 18245 (the iso18245 package)."""
    import iso18245

    return frozenset(m.mcc for m in iso18245.get_all_mccs())


def reference_versions() -> dict[str, str]:
    import iso18245

    stdnum = version("python-stdnum")
    codes = county_codes()
    digest = hashlib.sha256(",".join(sorted(codes)).encode()).hexdigest()[:12]
    return {
        "iso18245": f"{version('iso18245')} (ISO 18245:{iso18245.ISO_VERSION_YEAR})",
        "python-stdnum": stdnum,
        "gb2260": f"python-stdnum {stdnum} cn/loc: {len(codes)} current county-level codes, sha256 {digest}",
        "province-names": f"{PROVINCE_NAMES_VERSION} ({len(PROVINCE_NAMES)} names)",
        "placeholders": f"{PLACEHOLDERS_VERSION} ({len(PLACEHOLDERS)} values)",
    }
