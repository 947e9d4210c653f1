"""The SQL compiler and the pure reference evaluator give identical answers.

Hypothesis draws a catalog (with custom fields), a definition over it and a handful of
leads biased towards that definition's values and window edges; the leads are stored
as the importer stores them, the compiled statement runs, and every lead's qualified,
junk, score, stage and matched criteria must equal the evaluator's. CI runs this file
on PostgreSQL and again on SQLite (scripts/test.sh).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from definitions import rules
from definitions.models import Workshop
from definitions.rules import Activity, LeadData
from definitions.rules.evaluate import to_utc
from feedback.backtests.sql import BUILTIN, compile_range, fold_prepare
from feedback.models import Lead, LeadActivity
from tests.definitions.rules.strategies import AS_OF, TIMEZONES, catalogs, definitions, leads

pytestmark = pytest.mark.django_db


def _stored(spec: rules.FieldSpec, value: object) -> object:
    """A lead value as the importer and the API store it."""
    if value is None or value == "":
        return None
    if spec.type == rules.FieldType.DATE:
        if not isinstance(value, date):
            return value  # a custom field's JSON holds a value of any type, as written
        if spec.key in BUILTIN:
            if isinstance(value, datetime):
                return value
            return datetime.combine(value, time(0), tzinfo=UTC)
        return (
            to_utc(value).date().isoformat() if isinstance(value, datetime) else value.isoformat()
        )
    if spec.type == rules.FieldType.NUMBER and spec.key in BUILTIN:
        assert isinstance(value, int | float)
        return float(value)
    return value


def _store(workshop: Workshop, catalog: rules.Catalog, lead: LeadData, n: int) -> Lead:
    columns: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for key, value in lead.fields.items():
        spec = catalog.fields[key]
        stored = _stored(spec, value)
        if spec.builtin:
            columns[key] = stored
        else:
            custom[key] = stored
    row = Lead.objects.create(workshop=workshop, external_id=f"L{n}", custom=custom, **columns)
    LeadActivity.objects.bulk_create(
        [LeadActivity(lead=row, kind=a.kind, at=a.at) for a in lead.activities]
    )
    return row


_COLUMN_TYPES: dict[rules.FieldType, tuple[type, ...]] = {
    rules.FieldType.TEXT: (str,),
    rules.FieldType.CHOICE: (str,),
    rules.FieldType.NUMBER: (int, float),
    rules.FieldType.BOOLEAN: (bool,),
    rules.FieldType.DATE: (date,),
}


def _fits(spec: rules.FieldSpec, value: object) -> bool:
    if value is None or not spec.builtin:
        return True  # the custom JSON holds a value of any type
    if spec.type == rules.FieldType.NUMBER and isinstance(value, bool):
        return False
    return isinstance(value, _COLUMN_TYPES[spec.type])


def _storable(catalog: rules.Catalog, lead: LeadData) -> LeadData:
    """The lead as the database can hold it: a typed column cannot hold a value of
    another type (the strategies draw some), and the activity table holds one event of
    a kind per instant. The oracle sees exactly this lead."""
    fields = {k: v for k, v in lead.fields.items() if _fits(catalog.fields[k], v)}
    seen: dict[tuple[str, datetime], Activity] = {}
    for activity in lead.activities:
        seen.setdefault((activity.kind, to_utc(activity.at)), activity)
    return LeadData(fields=fields, activities=tuple(seen.values()))


DECISION_DAYS = (0, 1, 7, 14, 30, 365)


@st.composite
def _dated_lead(
    draw: st.DrawFn, catalog: rules.Catalog, definition: rules.Definition, decision_days: int
) -> LeadData:
    """A lead with a creation moment and its activities and dates drawn around the
    moment it is judged at: long ago (its creation plus the decision window, with
    activities before and after), created too recently for the window to end before
    the run's moment (on the edge too), or of unknown creation (both: the run's)."""
    window = timedelta(days=decision_days)
    how = draw(st.sampled_from(("old", "old", "recent", "edge", "unknown")))
    created: datetime | None
    if how == "old":
        # An odd number of microseconds: SQLite holds them in text, to the digit.
        back = timedelta(
            days=draw(st.sampled_from((1, 2, 31, 400))),
            microseconds=draw(st.sampled_from((0, 1, 123457))),
        )
        moment = AS_OF - back
        created = moment - window
    elif how == "recent":
        moment = AS_OF
        created = AS_OF - window + timedelta(seconds=draw(st.sampled_from((1, 3600, 86400))))
    elif how == "edge":
        moment = AS_OF
        created = AS_OF - window  # exactly the window ago: judged at the run's moment
    else:
        moment, created = AS_OF, None
    lead = draw(leads(catalog, definition, as_of=moment))
    if created is not None:
        created = created.astimezone(draw(st.sampled_from(TIMEZONES)))
    assert rules.decision_moment(created, decision_days, AS_OF) == moment
    return LeadData(fields={**lead.fields, "created_at": created}, activities=lead.activities)


@st.composite
def cases(draw: st.DrawFn) -> tuple[rules.Catalog, rules.Definition, int, list[LeadData]]:
    catalog = draw(catalogs())
    definition = draw(definitions(catalog))
    decision_days = draw(st.sampled_from(DECISION_DAYS))
    drawn = draw(st.lists(_dated_lead(catalog, definition, decision_days), min_size=1, max_size=6))
    return catalog, definition, decision_days, [_storable(catalog, lead) for lead in drawn]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_the_sql_compiler_agrees_with_the_reference_evaluator_on_every_lead(
    case: tuple[rules.Catalog, rules.Definition, int, list[LeadData]],
) -> None:
    """Each lead as of its own decision moment: the evaluator is given the moment
    rules.decision_moment computes, the SQL computes it per lead."""
    catalog, definition, decision_days, drawn = case
    workshop, _ = Workshop.objects.get_or_create(slug="equivalence", defaults={"name": "Eq"})
    Lead.objects.filter(workshop=workshop).delete()
    stored = {_store(workshop, catalog, lead, n).pk: lead for n, lead in enumerate(drawn)}

    fold_prepare(definition, catalog, workshop_id=workshop.pk)
    statement = compile_range(
        definition,
        catalog,
        workshop_id=workshop.pk,
        as_of=AS_OF,
        low=0,
        high=2**62,
        decision_days=decision_days,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall()

    assert len(rows) == len(drawn)
    for lead_id, qualified, junk, score, stage, matched, *hits in rows:
        lead = stored[lead_id]
        moment = rules.decision_moment(lead.fields.get("created_at"), decision_days, AS_OF)
        expected = rules.evaluate(definition, lead, as_of=moment)
        # The per-criterion 0/1 columns the run's counts sum say the same as ``matched``.
        assert {cid for cid, hit in zip(statement.criterion_ids, hits, strict=True) if hit} == (
            expected.matched
        )
        got = {
            "qualified": bool(qualified),
            "junk": bool(junk),
            "score": score,
            "stage": stage,
            "matched": frozenset(m for m in matched.split(",") if m),
        }
        assert got == {
            "qualified": expected.qualified,
            "junk": expected.junk,
            "score": expected.score,
            "stage": str(expected.stage),
            "matched": expected.matched,
        }, (stored[lead_id], rules.to_json(definition))


def test_text_compares_by_full_unicode_case_folding_in_sql(db: None) -> None:
    """ "Straße" equals "STRASSE" and "ǅ" its lower case, as str.casefold() says."""
    workshop = Workshop.objects.create(name="Fold", slug="fold")
    data = {
        "schema_version": 1,
        "qualify": {
            "id": "g",
            "any": [
                {"id": "street", "field": "company", "op": "eq", "value": "STRASSE"},
                {"id": "greek", "field": "industry", "op": "contains", "value": "Σ"},
            ],
        },
        "stages": {"mql": 0, "sql": 0},
    }
    definition = rules.parse(data, rules.DEFAULT_CATALOG).definition
    assert definition is not None
    Lead.objects.create(workshop=workshop, external_id="a", company="Straße", industry="x")
    Lead.objects.create(
        workshop=workshop, external_id="b", company="Strasse AG", industry="ὈΔΥΣΣΕΎΣ"
    )
    Lead.objects.create(workshop=workshop, external_id="c", company="strasse", industry="ς")
    fold_prepare(definition, rules.DEFAULT_CATALOG, workshop_id=workshop.pk)
    statement = compile_range(
        definition, rules.DEFAULT_CATALOG, workshop_id=workshop.pk, as_of=AS_OF, low=0, high=2**62
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        by_id = {Lead.objects.get(pk=row[0]).external_id: row[5] for row in cursor.fetchall()}
    assert by_id == {"a": "street", "b": "greek", "c": "street,greek"}
