"""The shape of the code: dependencies point down (import-linter's contracts in
pyproject.toml), and no module hides an import of another project module inside a
function to dodge a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("leadworkshop", "definitions", "feedback", "api", "demo", "integrations")

# Imports inside a function that are there on purpose, each with its reason.
LAZY_ALLOWED = {
    ("definitions.apps", "ready"): "AppConfig.ready registers the system checks once "
    "Django is set up (leadworkshop.checks reads settings).",
    ("feedback.apps", "ready"): "AppConfig.ready connects signal receivers, whose modules "
    "need the models, which are not loaded when apps.py is.",
    ("integrations.apps", "ready"): "AppConfig.ready connects the domain-event receiver, "
    "whose module needs the models, which are not loaded when apps.py is.",
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""]
    return [alias.name for alias in node.names]


def function_level_imports() -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for package in PROJECT:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node in ast.walk(function):
                    if not isinstance(node, ast.Import | ast.ImportFrom):
                        continue
                    for name in _imported(node):
                        if name.split(".")[0] in PROJECT:
                            found.add((_module(path), function.name, name))
    return found


def test_no_module_imports_the_project_inside_a_function_except_the_allowed_ones() -> None:
    hidden = {
        f"{module}.{function} imports {name}"
        for module, function, name in function_level_imports()
        if (module, function) not in LAZY_ALLOWED
    }
    assert not hidden, "import at module level (or allow it here, with its reason): " + ", ".join(
        sorted(hidden)
    )


def test_the_allowlist_names_only_functions_that_still_import_lazily() -> None:
    used = {(module, function) for module, function, _name in function_level_imports()}
    assert set(LAZY_ALLOWED) <= used


def test_the_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "0 broken" in result.stdout
