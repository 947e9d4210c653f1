"""Properties over generated catalogs, definitions and leads."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from definitions.rules import (
    Catalog,
    Definition,
    Group,
    Stage,
    criteria,
    describe,
    diff,
    evaluate,
    parse,
    render_text,
    to_json,
    walk,
)

from .strategies import AS_OF, catalogs, definitions, leads

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def catalog_and_definition(draw: st.DrawFn) -> tuple[Catalog, Definition]:
    catalog = draw(catalogs())
    return catalog, draw(definitions(catalog))


@FAST
@given(catalog_and_definition())
def test_any_valid_definition_round_trips_through_its_json_form(
    pair: tuple[Catalog, Definition],
) -> None:
    catalog, definition = pair

    assert parse(to_json(definition), catalog).definition == definition
    text = json.dumps(to_json(definition), allow_nan=False)
    assert parse(json.loads(text), catalog).definition == definition


@FAST
@given(catalog_and_definition())
def test_any_valid_definition_renders_one_line_per_criterion(
    pair: tuple[Catalog, Definition],
) -> None:
    catalog, definition = pair

    text = render_text(definition, catalog)

    assert all(line.strip() for line in text.splitlines())
    assert "{" not in text.replace("{…}", "")  # no unfilled placeholder


@FAST
@given(catalog_and_definition())
def test_a_definition_has_no_diff_against_itself(pair: tuple[Catalog, Definition]) -> None:
    _, definition = pair

    assert diff(definition, definition) == ()


def differing_criterion_ids(a: Definition, b: Definition) -> set[str]:
    """Computed independently of diff(): ids of criteria added, removed, changed in any
    way, or moved to another section or parent group."""
    old = {loc.node.id: loc for loc in walk(a) if not isinstance(loc.node, Group)}
    new = {loc.node.id: loc for loc in walk(b) if not isinstance(loc.node, Group)}
    out = set(old.keys() ^ new.keys())
    for key in old.keys() & new.keys():
        x, y = old[key], new[key]
        if (x.node, x.section, x.parent) != (y.node, y.section, y.parent):
            out.add(key)
    return out


@FAST
@given(st.data())
def test_diff_mentions_exactly_the_criteria_that_differ(data: st.DataObject) -> None:
    catalog = data.draw(catalogs())
    a = data.draw(definitions(catalog))
    b = data.draw(definitions(catalog))

    changes = diff(a, b)

    assert {c.criterion_id for c in changes if c.criterion_id} == differing_criterion_ids(a, b)
    for change in changes:
        assert describe(change, catalog).strip()
    assert (a.stages.mql != b.stages.mql) == any(
        getattr(c, "stage", None) == "mql" for c in changes
    )


@FAST
@given(st.data())
def test_the_evaluator_never_raises_and_its_stage_is_consistent(data: st.DataObject) -> None:
    catalog = data.draw(catalogs())
    definition = data.draw(definitions(catalog))
    lead = data.draw(st.one_of(leads(catalog, definition), leads(catalog)))

    result = evaluate(definition, lead, as_of=AS_OF)

    by_id = {c.id: c for c in criteria(definition)}
    assert result.matched <= by_id.keys()
    junk_ids = {c.id for c in definition.disqualify}
    assert result.junk == bool(result.matched & junk_ids)
    assert result.score == sum(by_id[i].points or 0 for i in result.matched - junk_ids)
    assert not (result.junk and result.qualified)
    stages = definition.stages
    ready = not stages.sales_ready or bool(result.matched & {c.id for c in stages.sales_ready})
    if result.junk:
        expected = Stage.JUNK
    elif not result.qualified:
        expected = Stage.SUBSCRIBER
    elif result.score >= stages.sql and ready:
        expected = Stage.SQL
    elif result.score >= stages.mql:
        expected = Stage.MQL
    else:
        expected = Stage.LEAD
    assert result.stage == expected


@FAST
@given(st.data())
def test_the_evaluator_ignores_activities_after_as_of(data: st.DataObject) -> None:
    catalog = data.draw(catalogs())
    definition = data.draw(definitions(catalog))
    lead = data.draw(leads(catalog, definition))
    past_only = type(lead)(lead.fields, tuple(a for a in lead.activities if a.at <= AS_OF))

    assert evaluate(definition, lead, as_of=AS_OF) == evaluate(definition, past_only, as_of=AS_OF)
