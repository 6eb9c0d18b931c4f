"""Checks on a returned file before anything opens it: its type, its size, macros, and zip bombs.

An .xlsx is a zip archive. A tiny archive can unpack to gigabytes (a zip bomb), so the sizes its parts
declare are checked against DQGOV_WORKBOOK_MAX_UNZIPPED_MB and against their packed size before openpyxl
reads a byte; Python's zip reader never unpacks more than a part declares.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from remediation import settings
from remediation.errors import DqgovError

MB = 1024 * 1024
MAX_RATIO = 200  # unpacked / packed; spreadsheet XML compresses ~5–30 times
RATIO_FLOOR = MB  # small parts may compress better than that without harm
MAX_PARTS = 10_000
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam", ".xlsb")
MACRO_PARTS = ("vbaproject.bin", "vbadata.xml")


class WorkbookRefused(DqgovError):
    """A returned workbook that is not taken at all; the message names the sheet, row and column."""

    def __init__(self, place: str, reason: str, reason_zh: str) -> None:
        super().__init__(
            f"{place}: {reason}",
            code="workbook_refused",
            place=place,
            place_zh=place_in_chinese(place),
            reason=reason_zh,
            reason_en=reason,
        )
        self.place = place


_PLACES = (  # how `layout.where` and the file checks name a place, and the same in Chinese
    (re.compile(r"sheet (.+), row (\d+), column (.+) \((\w+)\)"), "工作表“{0}”第 {1} 行，“{2}”列（{3}）"),
    (re.compile(r"sheet (.+), row (\d+)"), "工作表“{0}”第 {1} 行"),
    (re.compile(r"sheet (.+)"), "工作表“{0}”"),
    (re.compile(r"file (.+)"), "文件“{0}”"),
)


def place_in_chinese(place: str) -> str:
    """`sheet 待办, row 7, column 更正值1 New value 1 (P)` as 工作表“待办”第 7 行，“更正值1 New value 1”列（P）."""
    for pattern, chinese in _PLACES:
        if found := pattern.fullmatch(place):
            return chinese.format(*found.groups())
    return place


def check_file(path: Path, name: str | None = None) -> None:
    """Refuse a file that is not a plain .xlsx of a sane size (`name`: the uploaded file's own name)."""
    shown = name or path.name
    suffix = Path(shown).suffix.lower()
    if suffix in MACRO_SUFFIXES:
        raise WorkbookRefused(
            f"file {shown}",
            "a macro-enabled workbook is not accepted; save it as .xlsx",
            "不接受启用宏的工作簿，请另存为 .xlsx",
        )
    if suffix != ".xlsx":
        raise WorkbookRefused(
            f"file {shown}",
            "only .xlsx workbooks issued by the platform are accepted",
            "只接受本平台导出的 .xlsx 工作簿",
        )
    limit = settings.number_of("DQGOV_WORKBOOK_MAX_MB")
    size = path.stat().st_size
    if size > limit * MB:
        raise WorkbookRefused(
            f"file {shown}",
            f"{size / MB:.1f} MB is over the limit of {limit:g} MB",
            f"文件 {size / MB:.1f} MB，超过 {limit:g} MB 的上限",
        )
    if not zipfile.is_zipfile(path):
        raise WorkbookRefused(f"file {shown}", "this is not an .xlsx workbook", "该文件不是 .xlsx 工作簿")
    with zipfile.ZipFile(path) as archive:
        parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise WorkbookRefused(
            f"file {shown}",
            f"{len(parts)} parts: not a workbook the platform wrote",
            "文件内部结构异常，不是本平台导出的工作簿",
        )
    for part in parts:
        if part.filename.rsplit("/", 1)[-1].lower() in MACRO_PARTS:
            raise WorkbookRefused(
                f"file {shown}",
                "the workbook holds macros (VBA); save it as .xlsx",
                "工作簿含有宏（VBA），请另存为 .xlsx",
            )
        if part.file_size > RATIO_FLOOR and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            _bomb(shown, part.filename)
    unpacked = sum(p.file_size for p in parts)
    if unpacked > settings.number_of("DQGOV_WORKBOOK_MAX_UNZIPPED_MB") * MB:
        _bomb(shown, f"{unpacked / MB:.0f} MB in all")


def _bomb(shown: str, what: str) -> None:
    raise WorkbookRefused(
        f"file {shown}",
        f"it unpacks to far more than it holds ({what}): a zip bomb",
        "文件解压后异常膨胀（疑似压缩炸弹），已拒绝",
    )
