"""Criterion-level diff: each kind of change, and how it reads."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from definitions.rules import (
    WORKED_EXAMPLE,
    CriterionAdded,
    CriterionChanged,
    CriterionMoved,
    CriterionRemoved,
    Definition,
    GroupAdded,
    GroupChanged,
    GroupMoved,
    GroupRemoved,
    PointsChanged,
    RationaleChanged,
    ThresholdChanged,
    describe,
    diff,
    parse,
)

from .catalogs import CATALOG

Doc = dict[str, Any]


def load(doc: Doc) -> Definition:
    result = parse(doc, CATALOG)
    assert result.errors == ()
    assert result.definition is not None
    return result.definition


def edited(edit: Callable[[Doc], None]) -> Definition:
    doc = copy.deepcopy(WORKED_EXAMPLE)
    edit(doc)
    return load(doc)


def characteristics(doc: Doc) -> list[Doc]:
    children: list[Doc] = doc["qualify"]["any"][1]["all"]
    return children


def set_mql(doc: Doc) -> None:
    doc["stages"]["mql"] = 55


def set_sql(doc: Doc) -> None:
    doc["stages"]["sql"] = 80


def add_junk(doc: Doc) -> None:
    doc["disqualify"].append(
        {"id": "occupation", "field": "occupation", "op": "eq", "value": "Student"}
    )


def raise_revenue(doc: Doc) -> None:
    characteristics(doc)[1]["value"] = 500000000


def demo_points(doc: Doc) -> None:
    doc["stages"]["sales_ready"][0]["points"] = 30


def drop_price(doc: Doc) -> None:
    del doc["stages"]["sales_ready"][2]


def add_call(doc: Doc) -> None:
    doc["stages"]["sales_ready"].append(
        {"id": "call", "activity": "call_request", "min_count": 1, "window": "ever"}
    )


def move_hq_to_scoring(doc: Doc) -> None:
    hq = characteristics(doc).pop(2)
    doc["scoring"].append(hq)


def move_revenue_to_format_group(doc: Doc) -> None:
    doc["qualify"]["any"][0]["any"].append(characteristics(doc).pop(1))


def at_least_three(doc: Doc) -> None:
    group = doc["qualify"]["any"][1]
    group["at_least"] = 3
    group["of"] = group.pop("all")


def at_least_four(doc: Doc) -> None:
    at_least_three(doc)
    doc["qualify"]["any"][1]["at_least"] = 4


def new_group(doc: Doc) -> None:
    doc["qualify"]["any"].append(
        {"id": "g-bant", "all": [{"id": "need", "field": "need", "op": "eq", "value": "confirmed"}]}
    )


def nest_actions_in_characteristics(doc: Doc) -> None:
    characteristics(doc).append(doc["qualify"]["any"].pop(2))


def drop_actions_group(doc: Doc) -> None:
    del doc["qualify"]["any"][2]


def rewrite_rationale(doc: Doc) -> None:
    doc["rationale"] = "Shorter."


def reorder_children(doc: Doc) -> None:
    characteristics(doc).reverse()


def change_window(doc: Doc) -> None:
    doc["qualify"]["any"][2]["any"][0]["window"] = "last_days"
    doc["qualify"]["any"][2]["any"][0]["days"] = 7


CASES: list[tuple[str, Callable[[Doc], None], list[type], list[str]]] = [
    ("MQL threshold", set_mql, [ThresholdChanged], ["MQL threshold 40 → 55"]),
    ("SQL threshold", set_sql, [ThresholdChanged], ["SQL threshold 70 → 80"]),
    (
        "new junk rule",
        add_junk,
        [CriterionAdded],
        ["New junk rule: Occupation is “Student”"],
    ),
    (
        "changed value",
        raise_revenue,
        [CriterionChanged],
        ["Changed: Annual revenue is at least 300M → Annual revenue is at least 500M"],
    ),
    (
        "changed window",
        change_window,
        [CriterionChanged],
        [
            "Changed: At least 5 product page views on one day → "
            "At least 5 product page views in the last 7 days"
        ],
    ),
    (
        "points",
        demo_points,
        [PointsChanged],
        ["Points for “At least 1 demo request ever”: 25 → 30"],
    ),
    (
        "sales-ready action removed",
        drop_price,
        [CriterionRemoved],
        ["Removed sales-ready action: At least 1 price request ever (+25 points)"],
    ),
    (
        "sales-ready action added",
        add_call,
        [CriterionAdded],
        ["New sales-ready action: At least 1 call request ever"],
    ),
    (
        "moved to another section",
        move_hq_to_scoring,
        [CriterionMoved],
        [
            "Moved: Country is one of “US” or “CA”, from qualifying group "
            "“g-characteristics” to the points rules"
        ],
    ),
    (
        "moved to another group",
        move_revenue_to_format_group,
        [CriterionMoved],
        [
            "Moved: Annual revenue is at least 300M, from qualifying group "
            "“g-characteristics” to qualifying group “g-format”"
        ],
    ),
    (
        "group mode",
        at_least_three,
        [GroupChanged],
        ["Group “g-characteristics”: all must match → at least 3 must match"],
    ),
    (
        "group n",
        at_least_four,
        [GroupChanged],
        ["Group “g-characteristics”: all must match → at least 4 must match"],
    ),
    (
        "new group",
        new_group,
        [GroupAdded, CriterionAdded],
        [
            "New group “g-bant” (all must match)",
            "New qualifying criterion: Need is Confirmed",
        ],
    ),
    (
        "removed group",
        drop_actions_group,
        [GroupRemoved, CriterionRemoved, CriterionRemoved],
        [
            "Removed group “g-actions” (at least one must match)",
            "Removed qualifying criterion: At least 5 product page views on one day (+20 points)",
            "Removed qualifying criterion: At least 2 high-value downloads ever (+20 points)",
        ],
    ),
    (
        "moved group",
        nest_actions_in_characteristics,
        [GroupMoved],
        [
            "Moved group “g-actions” from qualifying group “g-root” to qualifying group "
            "“g-characteristics”"
        ],
    ),
    ("rationale", rewrite_rationale, [RationaleChanged], ["Rationale changed."]),
    ("reordering is not a change", reorder_children, [], []),
]


@pytest.mark.parametrize(
    ("edit", "kinds", "descriptions"),
    [pytest.param(e, k, d, id=name) for name, e, k, d in CASES],
)
def test_each_edit_shows_up_as_the_right_change_and_reads_plainly(
    edit: Callable[[Doc], None], kinds: list[type], descriptions: list[str]
) -> None:
    changes = diff(load(WORKED_EXAMPLE), edited(edit))

    assert [type(change) for change in changes] == kinds
    assert [describe(change, CATALOG) for change in changes] == descriptions


def test_a_definition_has_no_changes_against_itself() -> None:
    worked = load(WORKED_EXAMPLE)

    assert diff(worked, worked) == ()


def test_points_and_condition_changed_together_are_two_changes() -> None:
    def edit(doc: Doc) -> None:
        raise_revenue(doc)
        characteristics(doc)[1]["points"] = None

    changes = diff(load(WORKED_EXAMPLE), edited(edit))

    assert [describe(c, CATALOG) for c in changes] == [
        "Changed: Annual revenue is at least 300M → Annual revenue is at least 500M",
        "Points for “Annual revenue is at least 500M”: 10 → none",
    ]


def test_an_id_that_turns_from_criterion_into_group_is_a_removal_and_an_addition() -> None:
    def edit(doc: Doc) -> None:
        characteristics(doc)[0] = {
            "id": "industry",
            "any": [{"id": "ind2", "field": "industry", "op": "contains", "value": "bio"}],
        }

    kinds = [type(c) for c in diff(load(WORKED_EXAMPLE), edited(edit))]

    assert kinds == [GroupAdded, CriterionAdded, CriterionRemoved]


def test_descriptions_are_translated_as_whole_templates() -> None:
    italian = {
        "MQL threshold {old} → {new}": "Soglia MQL da {old} a {new}",
        "New junk rule: {criterion}": "Nuova regola spazzatura: {criterion}",
        "{field} is {value}": "{field} è {value}",
    }

    def translate(template: str) -> str:
        return italian.get(template, template)

    def edit(doc: Doc) -> None:
        set_mql(doc)
        add_junk(doc)

    changes = diff(load(WORKED_EXAMPLE), edited(edit))

    assert [describe(c, CATALOG, translate) for c in changes] == [
        "Nuova regola spazzatura: Occupation è “Student”",
        "Soglia MQL da 40 a 55",
    ]
