"""The rule catalogue docs/rules.md is generated from the rule files and covers every clause."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from expectations.catalogue import DOCS_PATH, rules_markdown, uncovered_clauses
from expectations.reference import reference_versions
from expectations.rulebook import load_suites
from remediation.cli.main import app


def test_docs_rules_md_is_the_catalogue_the_rule_files_generate() -> None:
    expected = rules_markdown(load_suites())
    assert DOCS_PATH.read_text(encoding="utf-8") == expected, "regenerate it: dqgov rules docs"


def test_every_clause_of_the_standard_has_a_rule() -> None:
    assert uncovered_clauses(load_suites()) == []


def test_the_catalogue_names_every_rule_and_its_hint() -> None:
    text = rules_markdown(load_suites())
    for suite in load_suites():
        for rule in suite.rules:
            assert f"`{rule.id}`" in text and rule.hint in text


def test_rules_docs_command_writes_the_catalogue(tmp_path: Path) -> None:
    out = tmp_path / "rules.md"
    result = CliRunner().invoke(app, ["rules", "docs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == rules_markdown(load_suites())
    missing = CliRunner().invoke(app, ["rules", "docs", "--out", str(tmp_path / "nope" / "rules.md")])
    assert missing.exit_code != 0


def test_reference_command_prints_every_reference_version() -> None:
    result = CliRunner().invoke(app, ["reference"])
    assert result.exit_code == 0, result.output
    versions = reference_versions()
    assert {"iso18245", "python-stdnum", "gb2260", "placeholders", "province-names"} <= set(versions)
    for name, version in versions.items():
        assert f"{name}" in result.output and version in result.output
