"""definitions.rules must import nothing but the standard library (and itself): it is
shared by the Django app, the SQL compiler's tests and anything else."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[3] / "definitions" / "rules"


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted(RULES.glob("*.py")), ids=lambda p: p.name)
def test_a_rules_module_imports_only_the_standard_library(path: Path) -> None:
    outside = imported_roots(path) - set(sys.stdlib_module_names) - {"__future__"}

    assert outside == set()


def test_the_rules_package_has_modules_to_check() -> None:
    assert {p.name for p in RULES.glob("*.py")} >= {"__init__.py", "schema.py", "evaluate.py"}
