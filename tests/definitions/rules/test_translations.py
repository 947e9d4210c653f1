"""Every string that reaches ``translate``/``ntranslate`` is a marked template that
Django's makemessages (xgettext) extracts, with named placeholders only."""

from __future__ import annotations

import ast
import copy
import shutil
import string
import subprocess
from pathlib import Path
from typing import Any

import pytest

from definitions.rules import (
    SALES_LEANING_EXAMPLE,
    WORKED_EXAMPLE,
    Definition,
    describe,
    diff,
    group_names,
    parse,
    render_criterion,
    render_text,
)

from . import test_diff, test_render, test_validation
from .catalogs import CATALOG

RULES = Path(__file__).resolve().parents[3] / "definitions" / "rules"


def marked_literals() -> tuple[set[str], set[tuple[str, str]], set[tuple[str, str]]]:
    """Literals inside ``_("...")``, ``ngettext_lazy("...", "...")`` and
    ``pgettext_lazy("context", "...")`` in the source."""
    singles: set[str] = set()
    plurals: set[tuple[str, str]] = set()
    contextual: set[tuple[str, str]] = set()
    for path in RULES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if node.func.id == "_" and len(args) == 1 and isinstance(args[0], str):
                singles.add(args[0])
            elif node.func.id == "ngettext_lazy" and len(args) == 2:
                plurals.add((str(args[0]), str(args[1])))
            elif node.func.id == "pgettext_lazy" and len(args) == 2:
                contextual.add((str(args[0]), str(args[1])))
    return singles, plurals, contextual


SINGLES, PLURALS, CONTEXTUAL = marked_literals()


class Recorder:
    def __init__(self) -> None:
        self.singles: set[str] = set()
        self.plurals: set[tuple[str, str]] = set()
        self.contextual: set[tuple[str, str]] = set()

    def translate(self, template: str) -> str:
        self.singles.add(template)
        return template

    def ntranslate(self, singular: str, plural: str, n: int) -> str:
        self.plurals.add((singular, plural))
        return singular if n == 1 else plural

    def ptranslate(self, context: str, message: str) -> str:
        self.contextual.add((context, message))
        return message


def _load(document: dict[str, Any]) -> Definition:
    definition = parse(document, CATALOG).definition
    assert definition is not None
    return definition


@pytest.fixture(scope="module")
def recorded() -> Recorder:
    """Drive every text-producing path with recording translate functions."""
    rec = Recorder()
    CATALOG.translated(rec.translate)  # built-in field, choice and kind labels
    for document in (WORKED_EXAMPLE, SALES_LEANING_EXAMPLE):
        render_text(_load(document), CATALOG, rec.translate, rec.ntranslate)
    for criterion, _expected in test_render.RENDERINGS:
        render_criterion(criterion, CATALOG, rec.translate, rec.ntranslate)
    worked = _load(WORKED_EXAMPLE)
    for _name, edit, _kinds, _descriptions in test_diff.CASES:
        doc = copy.deepcopy(WORKED_EXAMPLE)
        edit(doc)
        changed = _load(doc)
        group_names(
            changed,
            translate=rec.translate,
            ntranslate=rec.ntranslate,
            ptranslate=rec.ptranslate,
        )
        names = group_names(
            worked,
            changed,
            translate=rec.translate,
            ntranslate=rec.ntranslate,
            ptranslate=rec.ptranslate,
        )
        for change in diff(worked, changed):
            describe(change, CATALOG, rec.translate, rec.ntranslate)
            describe(change, CATALOG, rec.translate, rec.ntranslate, names)
    for _name, mutate, _path, _message in test_validation.CASES:
        for error in parse(mutate(test_validation.base()), CATALOG).errors:
            error.render(rec.translate)
    return rec


def test_every_string_sent_to_translate_is_a_marked_template(recorded: Recorder) -> None:
    assert recorded.singles - SINGLES == set()
    assert recorded.plurals - PLURALS == set()
    assert recorded.contextual - CONTEXTUAL == set()


def test_the_recording_covers_most_templates(recorded: Recorder) -> None:
    # Guards the test above against silently recording nothing.
    assert len(recorded.singles) > 0.8 * len(SINGLES)
    assert len(recorded.plurals) > 0.8 * len(PLURALS)


@pytest.mark.parametrize("template", sorted(SINGLES | {t for pair in PLURALS for t in pair}))
def test_a_template_uses_only_named_placeholders(template: str) -> None:
    names = [
        name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None
    ]

    assert all(name.isidentifier() for name in names), names


def _po_entries(po: str) -> tuple[set[str], set[tuple[str, str]]]:
    singles: set[str] = set()
    plurals: set[tuple[str, str]] = set()
    current: dict[str, str] = {}
    key = ""

    def flush() -> None:
        if "msgid_plural" in current:
            plurals.add((current["msgid"], current["msgid_plural"]))
        elif current.get("msgid"):
            singles.add(current["msgid"])
        current.clear()

    for line in po.splitlines():
        if line.startswith("msgid "):
            flush()
            key = "msgid"
        elif line.startswith("msgid_plural "):
            key = "msgid_plural"
        elif line.startswith("msgstr"):
            key = ""
        if key and '"' in line:
            current[key] = current.get(key, "") + ast.literal_eval(line[line.index('"') :])
    flush()
    return singles, plurals


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="xgettext (GNU gettext) not installed")
def test_makemessages_extracts_every_marked_template() -> None:
    # The same xgettext arguments Django's makemessages uses for the "django" domain.
    args = [
        "xgettext",
        "--language=Python",
        "--keyword=gettext_noop",
        "--keyword=gettext_lazy",
        "--keyword=ngettext_lazy:1,2",
        "--keyword=pgettext:1c,2",
        "--keyword=npgettext:1c,2,3",
        "--keyword=pgettext_lazy:1c,2",
        "--keyword=npgettext_lazy:1c,2,3",
        "--from-code=UTF-8",
        "--output=-",
        *sorted(str(p) for p in RULES.glob("*.py")),
    ]
    po = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    singles, plurals = _po_entries(po)

    assert SINGLES - singles == set()
    assert PLURALS - plurals == set()
    # A message with a context is extracted with it (``msgctxt``).
    assert all(f'msgctxt "{c}"\nmsgid "{m}"' in po for c, m in CONTEXTUAL)
