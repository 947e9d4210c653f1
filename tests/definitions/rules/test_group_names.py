"""Diffs name groups by what they are and where they sit ("the “all of” group under
Qualify"), never by their ids, when given the names of both definitions' groups."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from definitions.rules import WORKED_EXAMPLE, Definition, describe, diff, group_names, parse

from .catalogs import CATALOG
from .test_diff import (
    Doc,
    at_least_three,
    drop_actions_group,
    edited,
    load,
    move_revenue_to_format_group,
    nest_actions_in_characteristics,
    new_group,
)


def _named(edit: Callable[[Doc], None]) -> list[str]:
    old = load(WORKED_EXAMPLE)
    new = edited(edit)
    names = group_names(old, new)
    return [describe(change, CATALOG, names=names) for change in diff(old, new)]


def test_every_group_is_named_by_its_mode_and_place() -> None:
    names = group_names(edited(nest_actions_in_characteristics))
    assert names == {
        "g-root": "the top of the qualifying rules",
        "g-format": "the “any of” group under Qualify",
        "g-characteristics": "the “all of” group under Qualify",
        "g-actions": "the “any of” group inside the “all of” group under Qualify",
    }


@pytest.mark.parametrize(
    ("edit", "sentences"),
    [
        (
            at_least_three,
            ["Changed the “all of” group under Qualify: all must match → at least 3 must match"],
        ),
        (
            new_group,
            [
                # Beside the characteristics: now two "all of" groups under Qualify.
                "Added the second “all of” group under Qualify",
                "New qualifying criterion: Need is Confirmed",
            ],
        ),
        (
            move_revenue_to_format_group,
            [
                "Moved: Annual revenue is at least 300M, from the “all of” group under Qualify "
                "to the first “any of” group under Qualify"
            ],
        ),
        (
            nest_actions_in_characteristics,
            [
                "Moved the “any of” group from the top of the qualifying rules to the “all of” "
                "group under Qualify"
            ],
        ),
    ],
)
def test_changes_to_groups_read_without_ids(
    edit: Callable[[Doc], None], sentences: list[str]
) -> None:
    assert _named(edit) == sentences


def test_a_removed_group_is_named_as_it_was() -> None:
    described = _named(drop_actions_group)
    # The worked example has two "any of" groups under Qualify; the actions are second.
    assert described[0] == "Removed the second “any of” group under Qualify"
    assert not any("g-" in sentence for sentence in described)


def test_without_names_the_sentences_are_unchanged() -> None:
    old = load(WORKED_EXAMPLE)
    new = edited(new_group)
    assert describe(diff(old, new)[0], CATALOG) == "New group “g-bant” (all must match)"


def _with_groups(*groups: dict[str, Any]) -> Definition:
    doc = copy.deepcopy(WORKED_EXAMPLE)
    doc["qualify"]["any"].extend(groups)
    definition = parse(doc, CATALOG).definition
    assert definition is not None
    return definition


def _group(group_id: str, mode: str, *children: dict[str, Any]) -> dict[str, Any]:
    return {"id": group_id, mode: list(children)}


def _need(criterion_id: str) -> dict[str, Any]:
    return {"id": criterion_id, "field": "need", "op": "eq", "value": "confirmed"}


def test_two_sibling_groups_of_one_kind_are_told_apart_by_ordinals() -> None:
    # The worked example already holds two "any of" groups under Qualify (the formats
    # and the actions); a third makes three, while its lone "all of" keeps its name.
    names = group_names(_with_groups(_group("g-extra", "any", _need("need-1"))))
    assert names["g-format"] == "the first “any of” group under Qualify"
    assert names["g-actions"] == "the second “any of” group under Qualify"
    assert names["g-extra"] == "the third “any of” group under Qualify"
    assert names["g-characteristics"] == "the “all of” group under Qualify"
    assert len(set(names.values())) == len(names)


def test_nested_groups_name_their_parent_by_its_ordinal() -> None:
    nested = _group(
        "g-outer",
        "all",
        _group("g-a", "any", _need("need-a")),
        _group("g-b", "any", _need("need-b")),
        _group("g-c", "all", _need("need-c")),
    )
    names = group_names(_with_groups(nested))
    assert names["g-outer"] == "the second “all of” group under Qualify"
    assert names["g-a"] == (
        "the first “any of” group inside the second “all of” group under Qualify"
    )
    assert names["g-b"] == (
        "the second “any of” group inside the second “all of” group under Qualify"
    )
    # Alone of its kind inside its parent: no ordinal.
    assert names["g-c"] == "the “all of” group inside the second “all of” group under Qualify"


def test_at_least_groups_are_alike_only_with_the_same_count() -> None:
    at_least = [
        {"id": group_id, "at_least": n, "of": [_need(f"{group_id}-{i}") for i in range(3)]}
        for group_id, n in (("g-2", 2), ("g-2b", 2), ("g-3", 3))
    ]
    names = group_names(_with_groups(*at_least))
    assert names["g-2"] == "the first “at least 2 of” group under Qualify"
    assert names["g-2b"] == "the second “at least 2 of” group under Qualify"
    assert names["g-3"] == "the “at least 3 of” group under Qualify"


def test_beyond_the_tenth_sibling_a_group_is_numbered() -> None:
    many = [_group(f"g-x{i}", "all", _need(f"need-x{i}")) for i in range(11)]
    names = group_names(_with_groups(*many))
    # The characteristics group is the first "all of"; the eleventh added is the 12th.
    assert names["g-x8"] == "the tenth “all of” group under Qualify"
    assert names["g-x10"] == "the “all of” group no. 12 under Qualify"


def test_ordinals_go_through_the_context_aware_translation() -> None:
    asked: list[tuple[str, str]] = []

    def ptranslate(context: str, message: str) -> str:
        asked.append((context, message))
        return {"first": "primo", "second": "secondo"}.get(message, message)

    names = group_names(
        load(WORKED_EXAMPLE),
        translate=lambda t: t.replace("the {ordinal}", "il {ordinal}"),
        ptranslate=ptranslate,
    )
    assert names["g-format"] == "il primo “any of” group under Qualify"
    assert names["g-actions"] == "il secondo “any of” group under Qualify"
    assert ("ordinal of a group", "first") in asked
