"""Project-level promises: our package names are not shadowed, settings are documented."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from remediation.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["expectations", "remediation", "portal"])
def test_top_level_packages_are_ours(name: str) -> None:
    module = importlib.import_module(name)
    assert Path(module.__file__ or "").resolve().parent == ROOT / name


def test_every_setting_is_documented_in_the_readme_with_its_default() -> None:
    """Each setting has a row in the README's settings table whose default is the declared one (an empty
    default is described in words, `*(…)*`)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    wrong = []
    for setting in SETTINGS:
        row = re.search(rf"^\| `{setting.name}` \| ([^|]*) \|", readme, re.MULTILINE)
        cell = row.group(1).strip() if row else None
        documented = cell == f"`{setting.default}`" or (not setting.default and (cell or "").startswith("*("))
        if not documented:
            wrong.append((setting.name, setting.default, cell))
    assert wrong == []


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
