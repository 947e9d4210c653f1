"""Validation: every error reported, each with its exact path and message; hostile
input never raises."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings

from definitions.rules import (
    CHOICE_LABELS,
    DEFAULT_CATALOG,
    SALES_LEANING_EXAMPLE,
    WORKED_EXAMPLE,
    ValidationError,
    parse,
    to_json,
)
from definitions.rules.validate import MAX_ERRORS

from .catalogs import CATALOG
from .strategies import json_documents


def base() -> dict[str, Any]:
    """A small valid document; each case below breaks exactly one thing in it."""
    return {
        "schema_version": 1,
        "rationale": "Because.",
        "qualify": {
            "id": "g-root",
            "any": [
                {
                    "id": "revenue",
                    "field": "annual_revenue",
                    "op": "gte",
                    "value": 300000000,
                    "points": 10,
                },
                {"id": "pp5", "activity": "product_page_view", "min_count": 5, "window": "one_day"},
                {
                    "id": "g1",
                    "at_least": 1,
                    "of": [{"id": "src", "field": "source", "op": "eq", "value": "webinar"}],
                },
            ],
        },
        "disqualify": [{"id": "student", "field": "email_domain_kind", "op": "eq", "value": "edu"}],
        "scoring": [
            {
                "id": "demo",
                "activity": "demo_request",
                "min_count": 1,
                "window": "ever",
                "points": 20,
            }
        ],
        "stages": {
            "mql": 40,
            "sql": 70,
            "sales_ready": [
                {"id": "trial", "activity": "trial_start", "min_count": 1, "window": "ever"}
            ],
        },
    }


Path = tuple[str | int, ...]


def put(path: Path, value: object) -> Callable[[dict[str, Any]], object]:
    """A mutation setting ``value`` at ``path`` in the base document."""

    def mutate(doc: dict[str, Any]) -> object:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return doc

    return mutate


def drop(path: Path) -> Callable[[dict[str, Any]], object]:
    def mutate(doc: dict[str, Any]) -> object:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
        return doc

    return mutate


def replace_document(value: object) -> Callable[[dict[str, Any]], object]:
    return lambda _doc: value


REVENUE: Path = ("qualify", "any", 0)
PP5: Path = ("qualify", "any", 1)
G1: Path = ("qualify", "any", 2)
SRC: Path = (*G1, "of", 0)
SOURCE_CHOICES = ", ".join(CHOICE_LABELS["source"])
ID_RULE = (
    "is not a valid id: use 1 to 64 letters, digits, '-' or '_', starting with a letter or digit."
)


def nested_groups(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"id": "leaf", "field": "industry", "op": "is_set"}
    for level in range(levels, 0, -1):
        node = {"id": f"g{level}", "all": [node]}
    return node


def deep_group_path(levels: int) -> str:
    return "qualify" + ".all[0]" * (levels - 1)


def many_scoring_rules(count: int) -> list[dict[str, Any]]:
    return [{"id": f"s{i}", "field": "industry", "op": "is_set", "points": 1} for i in range(count)]


CASES: list[tuple[str, Callable[[dict[str, Any]], object], str, str]] = [
    ("not an object", replace_document([]), "", "A definition must be a JSON object."),
    ("a string", replace_document("{}"), "", "A definition must be a JSON object."),
    (
        "missing schema_version",
        drop(("schema_version",)),
        "schema_version",
        "Missing required key 'schema_version'.",
    ),
    (
        "future schema_version",
        put(("schema_version",), 2),
        "schema_version",
        "Unsupported schema version '2'; expected 1.",
    ),
    (
        "boolean schema_version",
        put(("schema_version",), True),
        "schema_version",
        "Unsupported schema version 'true'; expected 1.",
    ),
    (
        "unknown top-level key",
        put(("extra",), 1),
        "extra",
        "Unknown key 'extra'; allowed keys are: schema_version, rationale, qualify, "
        "disqualify, scoring, stages.",
    ),
    ("missing qualify", drop(("qualify",)), "qualify", "Missing required key 'qualify'."),
    (
        "qualify that is a criterion",
        put(("qualify",), {"id": "x", "field": "industry", "op": "is_set"}),
        "qualify",
        "'qualify' must be a group ('all', 'any' or 'at_least').",
    ),
    ("missing stages", drop(("stages",)), "stages", "Missing required key 'stages'."),
    (
        "unknown field",
        put((*REVENUE, "field"), "revenue_usd"),
        "qualify.any[0].field",
        "Unknown field 'revenue_usd'.",
    ),
    (
        "outcome field",
        put(REVENUE, {"id": "revenue", "field": "deal_value", "op": "gte", "value": 1}),
        "qualify.any[0].field",
        "'Deal value' is an outcome field; criteria cannot test outcomes, because outcomes "
        "are what a definition is measured against.",
    ),
    (
        "outcome category",
        put((*REVENUE, "category"), "outcome"),
        "qualify.any[0].category",
        "Criteria cannot be in the 'outcome' category: outcomes are what a definition is "
        "measured against.",
    ),
    (
        "unknown category",
        put((*REVENUE, "category"), "vibes"),
        "qualify.any[0].category",
        "Unknown category 'vibes'; use one of: format, demographic, firmographic, "
        "behavioural, bant.",
    ),
    (
        "unknown activity kind",
        put((*PP5, "activity"), "teleport"),
        "qualify.any[1].activity",
        "Unknown activity kind 'teleport'.",
    ),
    (
        "unknown activity kind in sales-ready",
        put(("stages", "sales_ready", 0, "activity"), "handshake"),
        "stages.sales_ready[0].activity",
        "Unknown activity kind 'handshake'.",
    ),
    (
        "operator not allowed for a number",
        put((*REVENUE, "op"), "contains"),
        "qualify.any[0].op",
        "Operator 'contains' is not allowed for field 'Annual revenue'; use one of: eq, ne, "
        "gt, gte, lt, lte, between, in, not_in, is_set, is_not_set.",
    ),
    (
        "operator not allowed for a choice",
        put((*SRC, "op"), "gt"),
        "qualify.any[2].of[0].op",
        "Operator 'gt' is not allowed for field 'Source'; use one of: eq, ne, in, not_in, "
        "is_set, is_not_set.",
    ),
    (
        "missing operator",
        drop((*REVENUE, "op")),
        "qualify.any[0].op",
        "Missing required key 'op'.",
    ),
    (
        "text for a number",
        put((*REVENUE, "value"), "abc"),
        "qualify.any[0].value",
        "'abc' is not a number for field 'Annual revenue'.",
    ),
    (
        "boolean for a number",
        put((*REVENUE, "value"), True),
        "qualify.any[0].value",
        "'true' is not a number for field 'Annual revenue'.",
    ),
    (
        "NaN",
        put((*REVENUE, "value"), float("nan")),
        "qualify.any[0].value",
        "'nan' is not a finite number.",
    ),
    (
        "infinity",
        put((*REVENUE, "value"), float("inf")),
        "qualify.any[0].value",
        "'inf' is not a finite number.",
    ),
    (
        "number beyond the limit",
        put((*REVENUE, "value"), 10**16),
        "qualify.any[0].value",
        "Numbers must be between -1e15 and 1e15.",
    ),
    (
        "choice value not allowed",
        put((*SRC, "value"), "carrier_pigeon"),
        "qualify.any[2].of[0].value",
        f"'carrier_pigeon' is not a choice of field 'Source'; use one of: {SOURCE_CHOICES}.",
    ),
    (
        "choice value in the wrong case",
        put((*SRC, "value"), "Webinar"),
        "qualify.any[2].of[0].value",
        f"'Webinar' is not a choice of field 'Source'; use one of: {SOURCE_CHOICES}.",
    ),
    (
        "impossible date",
        put(REVENUE, {"id": "d", "field": "created_at", "op": "gte", "value": "2024-13-01"}),
        "qualify.any[0].value",
        "'2024-13-01' is not a date (YYYY-MM-DD) for field 'Created at'.",
    ),
    (
        "compact date",
        put(REVENUE, {"id": "d", "field": "created_at", "op": "eq", "value": "20240101"}),
        "qualify.any[0].value",
        "'20240101' is not a date (YYYY-MM-DD) for field 'Created at'.",
    ),
    (
        "date bounds reversed",
        put(
            REVENUE,
            {
                "id": "d",
                "field": "created_at",
                "op": "between",
                "value": ["2025-02-01", "2025-01-01"],
            },
        ),
        "qualify.any[0].value",
        "The low bound 2025-02-01 is greater than the high bound 2025-01-01.",
    ),
    (
        "number bounds reversed",
        put(REVENUE, {"id": "e", "field": "employees", "op": "between", "value": [10, 5]}),
        "qualify.any[0].value",
        "The low bound 10 is greater than the high bound 5.",
    ),
    (
        "between with one bound",
        put(REVENUE, {"id": "e", "field": "employees", "op": "between", "value": [10]}),
        "qualify.any[0].value",
        "'between' needs a list of two values: [low, high].",
    ),
    (
        "empty in list",
        put(REVENUE, {"id": "c", "field": "country", "op": "in", "value": []}),
        "qualify.any[0].value",
        "Operator 'in' needs a non-empty list of values.",
    ),
    (
        "in with a scalar",
        put(REVENUE, {"id": "c", "field": "country", "op": "not_in", "value": "US"}),
        "qualify.any[0].value",
        "Operator 'not_in' needs a non-empty list of values.",
    ),
    (
        "in list too long",
        put(REVENUE, {"id": "c", "field": "country", "op": "in", "value": ["US"] * 501}),
        "qualify.any[0].value",
        "A list of values may have at most 500 items.",
    ),
    (
        "wrong item in an in list",
        put(REVENUE, {"id": "c", "field": "country", "op": "in", "value": ["US", 3]}),
        "qualify.any[0].value[1]",
        "'3' is not text for field 'Country'.",
    ),
    (
        "empty text",
        put(REVENUE, {"id": "t", "field": "job_title", "op": "contains", "value": ""}),
        "qualify.any[0].value",
        "Text values cannot be empty; use 'is_not_set' to match a missing value.",
    ),
    (
        "text too long",
        put(REVENUE, {"id": "t", "field": "job_title", "op": "contains", "value": "x" * 501}),
        "qualify.any[0].value",
        "Text values may be at most 500 characters long.",
    ),
    (
        "is_set with a value",
        put(REVENUE, {"id": "t", "field": "job_title", "op": "is_set", "value": "x"}),
        "qualify.any[0].value",
        "Operator 'is_set' takes no value; remove it or use null.",
    ),
    (
        "eq without a value",
        drop((*REVENUE, "value")),
        "qualify.any[0].value",
        "Operator 'gte' needs a value.",
    ),
    (
        "boolean field with text",
        put(REVENUE, {"id": "b", "field": "newsletter", "op": "eq", "value": "yes"}),
        "qualify.any[0].value",
        "'yes' is not true or false for field 'Newsletter'.",
    ),
    (
        "within_last_days of zero",
        put(REVENUE, {"id": "w", "field": "created_at", "op": "within_last_days", "value": 0}),
        "qualify.any[0].value",
        "'within_last_days' needs a whole number of days from 1 to 36500.",
    ),
    (
        "empty group",
        put(("qualify", "any"), []),
        "qualify.any",
        "A group needs at least one criterion or group.",
    ),
    (
        "at_least zero",
        put((*G1, "at_least"), 0),
        "qualify.any[2].at_least",
        "'at_least' must be a whole number from 1 to the number of items in the group (1).",
    ),
    (
        "at_least more than the children",
        put((*G1, "at_least"), 2),
        "qualify.any[2].at_least",
        "'at_least' must be a whole number from 1 to the number of items in the group (1).",
    ),
    (
        "group with two modes",
        put((*G1, "all"), [{"id": "z", "field": "industry", "op": "is_set"}]),
        "qualify.any[2]",
        "A group has more than one of 'all', 'any' and 'at_least'; keep one.",
    ),
    (
        "group with no mode",
        drop((*G1, "at_least")),
        "qualify.any[2]",
        "A group needs exactly one of 'all', 'any' or 'at_least'.",
    ),
    (
        "group without its list",
        drop((*G1, "of")),
        "qualify.any[2].of",
        "Missing required key 'of'.",
    ),
    (
        "unknown key in a group",
        put((*G1, "name"), "Format"),
        "qualify.any[2].name",
        "Unknown key 'name'; allowed keys are: id, at_least, of.",
    ),
    (
        "child that is not an object",
        put(("qualify", "any", 0), 42),
        "qualify.any[0]",
        "Expected an object (a group or a criterion).",
    ),
    (
        "child that is neither group nor criterion",
        put(("qualify", "any", 0), {"id": "x"}),
        "qualify.any[0]",
        "Expected a group ('all', 'any' or 'at_least') or a criterion ('field' or 'activity').",
    ),
    (
        "criterion with field and activity",
        put((*REVENUE, "activity"), "download"),
        "qualify.any[0]",
        "A criterion has either 'field' or 'activity', not both.",
    ),
    (
        "group among junk rules",
        put(
            ("disqualify", 0),
            {"id": "gx", "any": [{"id": "y", "field": "industry", "op": "is_set"}]},
        ),
        "disqualify[0]",
        "Groups are only allowed in 'qualify'; use a criterion here.",
    ),
    (
        "unknown key in a criterion",
        put((*REVENUE, "weight"), 3),
        "qualify.any[0].weight",
        "Unknown key 'weight'; allowed keys are: id, category, field, op, value, points.",
    ),
    ("bad id", put((*REVENUE, "id"), "-revenue"), "qualify.any[0].id", f"'-revenue' {ID_RULE}"),
    ("id with a space", put((*G1, "id"), "my group"), "qualify.any[2].id", f"'my group' {ID_RULE}"),
    ("id too long", put((*PP5, "id"), "x" * 65), "qualify.any[1].id", f"'{'x' * 59}…' {ID_RULE}"),
    ("numeric id", put((*PP5, "id"), 7), "qualify.any[1].id", f"'7' {ID_RULE}"),
    ("missing id", drop((*SRC, "id")), "qualify.any[2].of[0].id", "Missing required key 'id'."),
    (
        "duplicate id",
        put(("scoring", 0, "id"), "revenue"),
        "scoring[0].id",
        "Duplicate id 'revenue' (already used at qualify.any[0]).",
    ),
    (
        "duplicate of a group id",
        put(("stages", "sales_ready", 0, "id"), "g1"),
        "stages.sales_ready[0].id",
        "Duplicate id 'g1' (already used at qualify.any[2]).",
    ),
    (
        "min_count of zero",
        put((*PP5, "min_count"), 0),
        "qualify.any[1].min_count",
        "'min_count' must be a whole number from 1 to 100000.",
    ),
    (
        "missing min_count",
        drop((*PP5, "min_count")),
        "qualify.any[1].min_count",
        "'min_count' must be a whole number from 1 to 100000.",
    ),
    (
        "unknown window",
        put((*PP5, "window"), "fortnight"),
        "qualify.any[1].window",
        "Unknown window 'fortnight'; use one of: ever, one_day, last_days.",
    ),
    (
        "last_days without days",
        put((*PP5, "window"), "last_days"),
        "qualify.any[1].days",
        "A 'last_days' window needs 'days', a whole number from 1 to 36500.",
    ),
    (
        "last_days of zero days",
        put(
            PP5,
            {"id": "pp5", "activity": "download", "min_count": 1, "window": "last_days", "days": 0},
        ),
        "qualify.any[1].days",
        "A 'last_days' window needs 'days', a whole number from 1 to 36500.",
    ),
    (
        "days on a one_day window",
        put((*PP5, "days"), 3),
        "qualify.any[1].days",
        "'days' only applies to the 'last_days' window.",
    ),
    (
        "points as text",
        put((*REVENUE, "points"), "10"),
        "qualify.any[0].points",
        "Points must be a whole number from -1000 to 1000; got '10'.",
    ),
    (
        "fractional points",
        put((*REVENUE, "points"), 2.5),
        "qualify.any[0].points",
        "Points must be a whole number from -1000 to 1000; got '2.5'.",
    ),
    (
        "too many points",
        put((*REVENUE, "points"), -1001),
        "qualify.any[0].points",
        "Points must be a whole number from -1000 to 1000; got '-1001'.",
    ),
    (
        "junk rule with points",
        put(("disqualify", 0, "points"), -50),
        "disqualify[0].points",
        "Junk rules cannot carry points: a junk lead is excluded whatever its score.",
    ),
    (
        "scoring rule without points",
        drop(("scoring", 0, "points")),
        "scoring[0].points",
        "A scoring rule needs points.",
    ),
    (
        "scoring that is not a list",
        put(("scoring",), {"id": "x"}),
        "scoring",
        "'scoring' must be a list of criteria.",
    ),
    (
        "negative MQL threshold",
        put(("stages", "mql"), -1),
        "stages.mql",
        "The MQL threshold must be a whole number from 0 to 1000000.",
    ),
    (
        "missing SQL threshold",
        drop(("stages", "sql")),
        "stages.sql",
        "The SQL threshold must be a whole number from 0 to 1000000.",
    ),
    (
        "SQL below MQL",
        put(("stages", "sql"), 30),
        "stages.sql",
        "The SQL threshold (30) must not be lower than the MQL threshold (40).",
    ),
    (
        "unknown stage key",
        put(("stages", "opportunity"), 90),
        "stages.opportunity",
        "Unknown key 'opportunity'; allowed keys are: mql, sql, sales_ready.",
    ),
    (
        "more than 200 criteria",
        put(("scoring",), many_scoring_rules(200)),
        # 4 criteria come before scoring, so the 201st is scoring[196].
        "scoring[196]",
        "A definition may have at most 200 criteria.",
    ),
    (
        "nine levels of groups",
        put(("qualify",), nested_groups(9)),
        deep_group_path(9),
        "Groups may be nested at most 8 levels deep.",
    ),
    (
        "rationale too long",
        put(("rationale",), "x" * 20_001),
        "rationale",
        "The rationale may be at most 20000 characters long.",
    ),
    ("rationale not text", put(("rationale",), ["x"]), "rationale", "The rationale must be text."),
    ("non-string key", put((1,), "x"), "", "Keys must be strings; found 1."),
]


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [pytest.param(m, p, msg, id=name) for name, m, p, msg in CASES],
)
def test_a_broken_document_reports_the_exact_path_and_message(
    mutate: Callable[[dict[str, Any]], object], path: str, message: str
) -> None:
    result = parse(mutate(base()), CATALOG)

    assert result.definition is None
    assert (path, message) in [(e.path, e.message) for e in result.errors]


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [pytest.param(m, p, msg, id=name) for name, m, p, msg in CASES],
)
def test_each_broken_document_reports_only_its_own_error(
    mutate: Callable[[dict[str, Any]], object], path: str, message: str
) -> None:
    # Each case breaks one thing, so one error is expected: no cascades of noise.
    errors = parse(mutate(base()), CATALOG).errors

    assert errors[0].path == path
    assert len(errors) == 1


def test_the_base_document_and_the_examples_are_valid() -> None:
    for document in (base(), WORKED_EXAMPLE, SALES_LEANING_EXAMPLE):
        result = parse(document, CATALOG)
        assert result.errors == ()
        assert result.ok
        assert result.definition is not None


def test_every_error_is_collected_not_just_the_first() -> None:
    doc = base()
    doc["schema_version"] = 3
    doc["qualify"]["any"][0]["value"] = "lots"
    doc["qualify"]["any"][1]["min_count"] = -1
    doc["disqualify"][0]["points"] = 5
    doc["stages"]["sql"] = 10

    paths = [e.path for e in parse(doc, CATALOG).errors]

    assert paths == [
        "schema_version",
        "qualify.any[0].value",
        "qualify.any[1].min_count",
        "disqualify[0].points",
        "stages.sql",
    ]


def test_omitted_category_and_points_take_their_defaults_and_are_written_back() -> None:
    definition = parse(base(), CATALOG).definition
    assert definition is not None

    written: Any = to_json(definition)

    revenue = written["qualify"]["any"][0]
    pp5 = written["qualify"]["any"][1]
    assert revenue["category"] == "firmographic"
    assert pp5["category"] == "behavioural"
    assert pp5["points"] is None


def test_omitted_optional_sections_are_empty() -> None:
    doc = base()
    for key in ("disqualify", "scoring", "rationale"):
        del doc[key]
    doc["stages"] = {"mql": 0, "sql": 0}

    definition = parse(doc, CATALOG).definition

    assert definition is not None
    assert definition.disqualify == definition.scoring == definition.stages.sales_ready == ()
    assert definition.rationale == ""


def test_a_category_may_be_overridden_with_another_criterion_category() -> None:
    doc = base()
    doc["qualify"]["any"][0]["category"] = "bant"

    definition = parse(doc, CATALOG).definition

    assert definition is not None
    assert definition.qualify.children[0].category == "bant"  # type: ignore[union-attr]


def test_eight_levels_of_groups_are_allowed() -> None:
    doc = base()
    doc["qualify"] = nested_groups(8)

    assert parse(doc, CATALOG).ok


def test_exactly_200_criteria_are_allowed() -> None:
    doc = base()
    # 4 criteria before scoring and 1 sales-ready action after it.
    doc["scoring"] = many_scoring_rules(195)

    assert parse(doc, CATALOG).ok


def test_a_message_renders_through_translate_before_its_parameters_are_filled() -> None:
    error = ValidationError(
        "qualify.any[0].value",
        "'{value}' is not a number for field '{field}'.",
        {"value": "abc", "field": "Fatturato annuo"},
    )
    italian = {
        "'{value}' is not a number for field '{field}'.": (
            "Il campo '{field}' richiede un numero, non '{value}'."
        )
    }

    assert error.render(lambda t: italian.get(t, t)) == (
        "Il campo 'Fatturato annuo' richiede un numero, non 'abc'."
    )
    assert error.message == "'abc' is not a number for field 'Fatturato annuo'."


def test_field_labels_in_messages_come_from_the_catalog_given() -> None:
    doc = base()
    doc["qualify"]["any"][0]["value"] = "abc"
    italian_catalog = DEFAULT_CATALOG.translated(
        lambda t: {"Annual revenue": "Fatturato annuo"}.get(t, t)
    )

    (error,) = parse(doc, italian_catalog).errors

    assert error.params["field"] == "Fatturato annuo"


def _deep_list(depth: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(depth):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def _deep_dict(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {"id": "g0", "any": []}
    node = root
    for level in range(1, depth):
        child: dict[str, Any] = {"id": f"g{level}", "any": []}
        node["any"].append(child)
        node = child
    return root


HOSTILE: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
    ("a list nested 100000 deep as the document", replace_document(_deep_list(100_000))),
    ("a list nested 100000 deep as a value", put((*REVENUE, "value"), _deep_list(100_000))),
    ("a list nested 100000 deep as a group", put(("qualify", "any"), _deep_list(100_000))),
    ("groups nested 100000 deep", put(("qualify",), _deep_dict(100_000))),
    ("a 100000-item group of numbers", put(("qualify", "any"), list(range(100_000)))),
    ("a 100000-item junk list", put(("disqualify",), [{}] * 100_000)),
    ("a 100000-item in list", put((*REVENUE, "value"), [1] * 100_000)),
    ("a 100000-char field name", put((*REVENUE, "field"), "f" * 100_000)),
    ("a 5000-digit number", put((*REVENUE, "value"), 10**5000)),
    ("a 5000-digit threshold", put(("stages", "mql"), 10**5000)),
    ("bytes as a value", put((*REVENUE, "value"), b"abc")),
    ("a set as a value", put((*REVENUE, "value"), {1, 2})),
    ("a tuple key", put((("a", "b"),), 1)),  # type: ignore[arg-type]
    ("None as a key", put((None,), 1)),  # type: ignore[arg-type]
    ("an object as an id", put((*REVENUE, "id"), object())),
    ("nan thresholds", put(("stages",), {"mql": float("nan"), "sql": float("inf")})),
    ("a group as an activity", put((*PP5, "activity"), {"any": []})),
    ("a list as an operator", put((*REVENUE, "op"), ["gte"])),
    ("a dict as a category", put((*REVENUE, "category"), {"a": 1})),
    ("a list as a window", put((*PP5, "window"), [])),
]


@pytest.mark.parametrize(("mutate"), [pytest.param(m, id=name) for name, m in HOSTILE])
def test_hostile_input_gives_errors_and_never_raises(
    mutate: Callable[[dict[str, Any]], object],
) -> None:
    result = parse(mutate(base()), CATALOG)

    assert result.definition is None
    assert 1 <= len(result.errors) <= MAX_ERRORS + 1
    for error in result.errors:
        assert error.message
        assert len(error.path) < 1000


def test_a_flood_of_errors_stops_with_a_final_too_many_errors() -> None:
    doc = base()
    doc["qualify"]["any"] = list(range(10_000))

    errors = parse(doc, CATALOG).errors

    assert len(errors) == MAX_ERRORS + 1
    assert errors[-1].message == f"Too many errors; only the first {MAX_ERRORS} are shown."


@settings(max_examples=150, deadline=None)
@given(json_documents())
def test_arbitrary_json_never_raises(document: object) -> None:
    result = parse(document, CATALOG)
    assert result.ok == (result.definition is not None)


@settings(max_examples=150, deadline=None)
@given(json_documents(), json_documents())
def test_arbitrary_json_inside_a_valid_frame_never_raises(qualify: object, stages: object) -> None:
    document = {"schema_version": 1, "qualify": qualify, "stages": stages, "scoring": [qualify]}
    result = parse(document, CATALOG)
    assert result.errors or result.definition is not None


def test_parse_does_not_modify_its_input() -> None:
    doc = base()
    before = copy.deepcopy(doc)

    parse(doc, CATALOG)

    assert doc == before


def test_parse_accepts_what_json_loads_returns() -> None:
    text = json.dumps(WORKED_EXAMPLE)

    assert parse(json.loads(text), CATALOG).ok
