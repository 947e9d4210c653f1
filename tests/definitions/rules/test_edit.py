"""Editing a definition's JSON through rules.edit agrees with the typed definition:
every group's children are found where the definition has them, removing a
criterion removes exactly it, and what a document mentions is found."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from definitions import rules
from tests.definitions.rules.strategies import catalogs, definitions


@st.composite
def documents(draw: st.DrawFn) -> tuple[rules.Definition, dict[str, Any]]:
    catalog = draw(catalogs())
    definition = draw(definitions(catalog))
    return definition, rules.to_json(definition)


@settings(max_examples=60, deadline=None)
@given(documents())
def test_every_group_and_section_holds_the_children_the_definition_has(
    drawn: tuple[rules.Definition, dict[str, Any]],
) -> None:
    definition, document = drawn
    assert rules.edit.node_ids(document) == {loc.node.id for loc in rules.walk(definition)}
    for located in rules.walk(definition):
        node = located.node
        if isinstance(node, rules.Group):
            children = rules.edit.children_of(document, node.id)
            assert children is not None
            assert [c["id"] for c in children] == [c.id for c in node.children]
        holder = rules.edit.list_holding(document, node.id)
        if located.section == rules.Section.QUALIFY and located.parent is None:
            assert holder is None  # the root group sits in no list
        else:
            assert holder is not None and node.id in [c["id"] for c in holder]
    assert rules.edit.children_of(document, "no-such-group") is None


@settings(max_examples=60, deadline=None)
@given(documents(), st.data())
def test_removing_a_qualify_criterion_removes_exactly_it(
    drawn: tuple[rules.Definition, dict[str, Any]], data: st.DataObject
) -> None:
    definition, document = drawn
    leaves = [
        loc
        for loc in rules.walk(definition)
        if loc.section == rules.Section.QUALIFY and not isinstance(loc.node, rules.Group)
    ]
    if not leaves:
        return
    target = data.draw(st.sampled_from(leaves)).node.id
    changed = rules.edit.without_criterion(document, target)
    holder = rules.edit.list_holding(document, target)
    assert holder is not None
    if len(holder) == 1:
        assert changed is None  # its group would be left empty
        return
    assert changed is not None
    assert rules.edit.node_ids(changed) == rules.edit.node_ids(document) - {target}
    assert document != changed  # the original is untouched: a copy was edited


def test_a_document_mentions_the_fields_and_kinds_it_uses() -> None:
    document = rules.WORKED_EXAMPLE
    assert rules.edit.mentions(document, "field", "annual_revenue")
    assert not rules.edit.mentions(document, "field", "shoe_size")
    assert rules.edit.with_thresholds(document, mql=7, sql=9)["stages"] == {
        **document["stages"],
        "mql": 7,
        "sql": 9,
    }
