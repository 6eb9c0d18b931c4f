"""Every refusal code in the source has its message in the catalogue, in both languages, and every
placeholder of that message is given by each raise that uses the code (read from the source with `ast`)."""

from __future__ import annotations

import ast
import string
from dataclasses import dataclass
from pathlib import Path

from portal.i18n import MESSAGES
from portal.i18n_errors import ERRORS

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CodedRaise:
    where: str
    code: str
    params: frozenset[str] | None  # None: the params are passed as **mapping, not checkable by name


def _sources() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(encoding="utf-8")))
        for package in ("remediation", "portal")
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def error_classes(sources: list[tuple[Path, ast.Module]]) -> set[str]:
    """DqgovError and every class that derives from it, by name."""
    classes = [n for _, tree in sources for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    known, grown = {"DqgovError"}, True
    while grown:
        more = {c.name for c in classes if any(_name(b) in known for b in c.bases)} - known
        known, grown = known | more, bool(more)
    return known


def _calls_with_code(path: Path, tree: ast.Module, errors: set[str]) -> list[CodedRaise]:
    """Every `E(..., code="...", name=...)` of an error class E in the file (and `super().__init__` in one).
    A code chosen by a conditional expression counts each of its choices."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _name(node.func) not in (*errors, "__init__"):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        value = keywords.get("code")
        if value is None:
            continue
        choices = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
        params = None if None in keywords else frozenset(k for k in keywords if k and k != "code")
        for choice in choices:
            if isinstance(choice, ast.Constant) and isinstance(choice.value, str):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.append(CodedRaise(where, choice.value, params))
    return found


def coded_raises() -> list[CodedRaise]:
    sources = _sources()
    errors = error_classes(sources)
    return [found for path, tree in sources for found in _calls_with_code(path, tree, errors)]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_source_has_coded_refusals_to_check() -> None:
    codes = {r.code for r in coded_raises()}
    assert {"todo_not_found", "appeal_pending", "ambiguous_key", "workbook_refused", "dag_failed"} <= codes


def test_every_code_has_a_message_in_both_languages_with_its_placeholders_given() -> None:
    problems = []
    for found in coded_raises():
        pair = MESSAGES.get(f"error.{found.code}")
        if pair is None:
            problems.append(f"{found.where}: no catalogue entry error.{found.code}")
            continue
        for lang, text in zip(("zh", "en"), pair, strict=True):
            if not text.strip():
                problems.append(f"{found.where}: error.{found.code} is blank in {lang}")
            missing = _placeholders(text) - (found.params or set())
            if found.params is not None and missing:
                problems.append(f"{found.where}: error.{found.code} ({lang}) needs {sorted(missing)}")
    assert not problems, "\n".join(problems)


def test_the_chinese_messages_are_chinese_and_the_catalogues_do_not_overlap() -> None:
    for key, (zh, en) in ERRORS.items():
        assert any("\u4e00" <= c <= "\u9fff" for c in zh), key
        assert not any("\u4e00" <= c <= "\u9fff" for c in en), key
    from portal import i18n
    from portal.i18n_fields import FIELD_LABELS
    from portal.i18n_terms import TERMS

    others = set(i18n._UI) | set(FIELD_LABELS) | set(TERMS)
    assert not others & set(ERRORS), "an error message is defined twice"
