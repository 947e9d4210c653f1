"""Diffs name groups by what they are and where they sit ("the “all of” group under
Qualify"), never by their ids, when given the names of both definitions' groups."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from definitions.rules import WORKED_EXAMPLE, describe, diff, group_names

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
                "Added the “all of” group under Qualify",
                "New qualifying criterion: Need is Confirmed",
            ],
        ),
        (
            move_revenue_to_format_group,
            [
                "Moved: Annual revenue is at least 300M, from the “all of” group under Qualify "
                "to the “any of” group under Qualify"
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
    assert described[0] == "Removed the “any of” group under Qualify"
    assert not any("g-" in sentence for sentence in described)


def test_without_names_the_sentences_are_unchanged() -> None:
    old = load(WORKED_EXAMPLE)
    new = edited(new_group)
    assert describe(diff(old, new)[0], CATALOG) == "New group “g-bant” (all must match)"
