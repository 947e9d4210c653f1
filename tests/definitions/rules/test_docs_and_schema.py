"""The JSON Schema in docs/ accepts the examples and generated definitions and rejects
broken shapes; docs/definition-format.md shows the real JSON and rendering."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from definitions.rules import (
    DEFAULT_CATALOG,
    SALES_LEANING_EXAMPLE,
    WORKED_EXAMPLE,
    parse,
    render_text,
    to_json,
)

from .strategies import catalogs, definitions

DOCS = Path(__file__).resolve().parents[3] / "docs"
SCHEMA = json.loads((DOCS / "definition.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    "document", [WORKED_EXAMPLE, SALES_LEANING_EXAMPLE], ids=["worked", "sales-leaning"]
)
def test_the_examples_match_the_schema(document: dict[str, Any]) -> None:
    assert [e.message for e in VALIDATOR.iter_errors(document)] == []


def _broken(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(WORKED_EXAMPLE)
    edit(doc)
    return doc


def _set(path: tuple[str | int, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _delete(path: tuple[str | int, ...]) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return edit


FORMAT_SOURCE = ("qualify", "any", 0, "any", 0)
BROKEN = [
    ("wrong schema version", _set(("schema_version",), 2)),
    ("missing stages", _delete(("stages",))),
    ("unknown top-level key", _set(("version",), 1)),
    ("group with two modes", _set(("qualify", "all"), [])),
    ("empty group", _set(("qualify", "any"), [])),
    (
        "at_least of zero",
        _set(
            ("qualify",),
            {"id": "g", "at_least": 0, "of": [{"id": "x", "field": "f", "op": "is_set"}]},
        ),
    ),
    ("bad id", _set((*FORMAT_SOURCE, "id"), "-x")),
    ("unknown operator", _set((*FORMAT_SOURCE, "op"), "like")),
    ("in with a scalar", _set((*FORMAT_SOURCE, "value"), "webinar")),
    (
        "is_set with a value",
        _set(FORMAT_SOURCE, {"id": "x", "field": "f", "op": "is_set", "value": 1}),
    ),
    ("outcome category", _set((*FORMAT_SOURCE, "category"), "outcome")),
    ("points out of range", _set((*FORMAT_SOURCE, "points"), 5000)),
    ("junk rule with points", _set(("disqualify", 0, "points"), 5)),
    ("scoring rule without points", _delete(("scoring", 0, "points"))),
    ("last_days without days", _delete(("scoring", 0, "days"))),
    ("min_count of zero", _set(("stages", "sales_ready", 0, "min_count"), 0)),
    ("negative threshold", _set(("stages", "mql"), -1)),
    ("rationale too long", _set(("rationale",), "x" * 20_001)),
]


@pytest.mark.parametrize("edit", [pytest.param(edit, id=name) for name, edit in BROKEN])
def test_the_schema_rejects_broken_documents(edit: Callable[[dict[str, Any]], None]) -> None:
    document = _broken(edit)

    assert not VALIDATOR.is_valid(document)
    assert not parse(document, DEFAULT_CATALOG).ok  # and so does parse


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_every_generated_definition_matches_the_schema(data: st.DataObject) -> None:
    catalog = data.draw(catalogs())
    document = json.loads(json.dumps(to_json(data.draw(definitions(catalog)))))

    assert [e.message for e in VALIDATOR.iter_errors(document)] == []


def test_the_format_doc_shows_the_worked_example_as_stored_and_as_rendered() -> None:
    text = (DOCS / "definition-format.md").read_text()
    worked = parse(WORKED_EXAMPLE, DEFAULT_CATALOG).definition
    assert worked is not None

    assert json.dumps(WORKED_EXAMPLE, indent=2, ensure_ascii=False) in text
    assert "```text\n" + render_text(worked, DEFAULT_CATALOG) + "```" in text
