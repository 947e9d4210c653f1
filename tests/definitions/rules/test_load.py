"""The JSON text's limits (definitions.rules.load): each refused with its JSON path,
before Python's json can raise on a huge integer or recurse until RecursionError."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings

from definitions.rules import (
    MAX_DOCUMENT_CHARS,
    MAX_JSON_DEPTH,
    MAX_NUMBER_CHARS,
    WORKED_EXAMPLE,
    Catalog,
    Definition,
    load,
    to_json,
)

from .strategies import catalogs, definitions


def worked_example_with(path: list[str | int], literal: str) -> str:
    """The worked example's JSON text with the value at ``path`` written as ``literal``."""
    document = json.loads(json.dumps(WORKED_EXAMPLE))
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = "@@HERE@@"
    return json.dumps(document).replace('"@@HERE@@"', literal)


def test_a_5000_digit_integer_is_refused_with_its_path_not_a_value_error() -> None:
    result = load(worked_example_with(["stages", "mql"], "9" * 5000))

    assert result.data is None
    [error] = result.errors
    assert error.path == "stages.mql"
    assert "5000 characters" in error.message and str(MAX_NUMBER_CHARS) in error.message


def test_a_long_decimal_and_an_overflowing_exponent_are_refused_at_their_paths() -> None:
    text = worked_example_with(["qualify", "any", 0, "value"], "1." + "0" * 40)
    assert [e.path for e in load(text).errors] == ["qualify.any[0].value"]
    overflowing = worked_example_with(["scoring", 0, "points"], "-1e400")
    [error] = load(overflowing).errors
    assert error.path == "scoring[0].points" and "out of range" in error.message


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_numbers(constant: str) -> None:
    [error] = load(worked_example_with(["stages", "sql"], constant)).errors
    assert error.path == "stages.sql" and "not a JSON number" in error.message


def test_deep_nesting_is_refused_at_the_path_where_it_passes_the_limit() -> None:
    deep = "[" * 200_000 + "]" * 200_000
    result = load(worked_example_with(["rationale"], deep))

    [error] = result.errors
    # The document's object is one level, the rationale's lists the others.
    assert error.path == "rationale" + "[0]" * (MAX_JSON_DEPTH - 1)
    assert f"more than {MAX_JSON_DEPTH} levels" in error.message


def test_keys_with_quotes_and_lists_inside_objects_are_named_in_the_path() -> None:
    text = '{"a\\"b": [0, {"c": ' + '{"d": ' * MAX_JSON_DEPTH + "1" + "}" * MAX_JSON_DEPTH + "}]}"
    [error] = load(text).errors
    assert error.path.startswith('a"b[1].c.d.d')


def test_a_document_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    [error] = load(" " * (MAX_DOCUMENT_CHARS + 1) + "{").errors
    assert error.path == "" and str(MAX_DOCUMENT_CHARS) in error.message


def test_text_that_is_not_json_is_left_to_the_callers_wording() -> None:
    with pytest.raises(json.JSONDecodeError):
        load('{"qualify": ')


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs().flatmap(lambda c: definitions(c).map(lambda d: (c, d))))
def test_every_valid_definition_is_within_the_limits(pair: tuple[Catalog, Definition]) -> None:
    _catalog, definition = pair
    text = json.dumps(to_json(definition), allow_nan=False)

    result = load(text)

    assert result.errors == ()
    assert result.data == json.loads(text)
