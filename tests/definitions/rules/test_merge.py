"""Criterion-level three-way merge: each side's changes are taken, conflicts are
reported per criterion and settled by a resolution."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from definitions.rules import WORKED_EXAMPLE, parse
from definitions.rules.edit import children_of, without_criterion
from definitions.rules.merge import merge

from .catalogs import CATALOG

Doc = dict[str, Any]


def doc() -> Doc:
    return copy.deepcopy(WORKED_EXAMPLE)


def criterion(document: Doc, criterion_id: str) -> Doc:
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("id") == criterion_id and ("field" in node or "activity" in node):
                found: Doc = node
                return found
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise KeyError(criterion_id)


def has(document: Doc, criterion_id: str) -> bool:
    try:
        criterion(document, criterion_id)
    except KeyError:
        return False
    return True


def valid(document: Doc | None) -> Doc:
    assert document is not None
    assert parse(document, CATALOG).errors == ()
    return document


def test_changes_to_different_criteria_from_both_sides_are_both_kept() -> None:
    base, theirs, ours = doc(), doc(), doc()
    criterion(theirs, "revenue")["value"] = 500_000_000
    criterion(ours, "hq")["value"] = ["US"]
    result = merge(base, theirs, ours)
    merged = valid(result.document)
    assert result.conflicts == ()
    assert criterion(merged, "revenue")["value"] == 500_000_000
    assert criterion(merged, "hq")["value"] == ["US"]


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    base, theirs, ours = doc(), doc(), doc()
    criterion(theirs, "revenue")["value"] = 1
    criterion(ours, "revenue")["value"] = 1
    result = merge(base, theirs, ours)
    assert result.conflicts == ()
    assert criterion(valid(result.document), "revenue")["value"] == 1


def test_different_changes_to_one_criterion_are_a_conflict_until_resolved() -> None:
    base, theirs, ours = doc(), doc(), doc()
    criterion(theirs, "revenue")["value"] = 500_000_000
    criterion(ours, "revenue")["value"] = 100_000_000
    result = merge(base, theirs, ours)
    assert result.document is None
    assert [c.node_id for c in result.conflicts] == ["revenue"]
    conflict = result.conflicts[0]
    assert (conflict.base["value"], conflict.theirs["value"], conflict.ours["value"]) == (
        300_000_000,
        500_000_000,
        100_000_000,
    )
    assert result.unresolved == ("revenue",)
    mine = merge(base, theirs, ours, {"revenue": "ours"})
    assert criterion(valid(mine.document), "revenue")["value"] == 100_000_000
    published = merge(base, theirs, ours, {"revenue": "theirs"})
    assert criterion(valid(published.document), "revenue")["value"] == 500_000_000


def test_a_criterion_added_on_either_side_is_kept_and_one_removed_is_removed() -> None:
    base, theirs = doc(), doc()
    added = {**criterion(base, "hq"), "id": "hq-eu", "value": ["DE"]}
    siblings = children_of(theirs, "g-characteristics")
    assert siblings is not None
    siblings.append(added)
    ours = without_criterion(doc(), "seniority")
    assert ours is not None
    merged = valid(merge(base, theirs, ours).document)
    assert has(merged, "hq-eu")
    assert not has(merged, "seniority")


def test_removed_on_one_side_and_changed_on_the_other_is_a_conflict() -> None:
    base, ours = doc(), doc()
    theirs = without_criterion(doc(), "seniority")
    assert theirs is not None
    criterion(ours, "seniority")["points"] = 30
    result = merge(base, theirs, ours)
    assert [c.node_id for c in result.conflicts] == ["seniority"]
    assert result.conflicts[0].theirs is None
    assert not has(valid(merge(base, theirs, ours, {"seniority": "theirs"}).document), "seniority")
    kept = valid(merge(base, theirs, ours, {"seniority": "ours"}).document)
    assert criterion(kept, "seniority")["points"] == 30


def test_thresholds_merge_like_criteria() -> None:
    base, theirs, ours = doc(), doc(), doc()
    theirs["stages"]["sql"] = 80
    ours["stages"]["mql"] = 30
    merged = valid(merge(base, theirs, ours).document)
    assert (merged["stages"]["mql"], merged["stages"]["sql"]) == (30, 80)
    ours["stages"]["sql"] = 60
    result = merge(base, theirs, ours)
    assert [c.node_id for c in result.conflicts] == ["@sql"]
    assert valid(merge(base, theirs, ours, {"@sql": "ours"}).document)["stages"]["sql"] == 60


def test_a_group_removed_while_the_other_side_changed_inside_it_is_one_conflict() -> None:
    base, ours = doc(), doc()
    theirs = doc()
    groups = children_of(theirs, "g-root")
    assert groups is not None
    groups[:] = [g for g in groups if g["id"] != "g-actions"]
    criterion(ours, "pp5")["min_count"] = 3
    result = merge(base, theirs, ours)
    assert {c.node_id for c in result.conflicts} == {"g-actions", "pp5"}
    kept = valid(merge(base, theirs, ours, {"g-actions": "ours", "pp5": "ours"}).document)
    assert criterion(kept, "pp5")["min_count"] == 3
    assert has(kept, "hv2")  # the whole group is kept, not only what changed in it
    gone = valid(merge(base, theirs, ours, {"g-actions": "theirs", "pp5": "theirs"}).document)
    assert not has(gone, "pp5") and not has(gone, "hv2")


def test_nothing_changed_anywhere_gives_the_same_document() -> None:
    assert merge(doc(), doc(), doc()).document == doc()


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["revenue", "hq", "industry", "seniority", "pp5", "hv2", "demo", "free-email"]),
    st.integers(min_value=1, max_value=50),
)
def test_merging_onto_an_unchanged_base_gives_the_other_side(node: str, points: int) -> None:
    changed = doc()
    criterion(changed, node)["points"] = points
    assert merge(doc(), doc(), changed).document == changed
    assert merge(doc(), changed, doc()).document == changed
