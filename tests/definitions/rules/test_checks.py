"""Definition checks: duplicates, contradictions, subsumed criteria, unreachable
thresholds and values, and qualify criteria with points — each found at the right
criterion, and the logic agreeing with the reference evaluator."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from definitions.rules import WORKED_EXAMPLE, Category, FieldCriterion, LeadData, Op, parse
from definitions.rules.checks import check, contradicts, implies, max_score
from definitions.rules.evaluate import criterion_matches

from .catalogs import CATALOG

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)


def _doc(qualify: list[dict[str, Any]], mode: str = "all", **extra: Any) -> Any:
    document: dict[str, Any] = {
        "schema_version": 1,
        "rationale": "",
        "qualify": {"id": "root", mode: qualify},
        "disqualify": extra.get("disqualify", []),
        "scoring": extra.get("scoring", []),
        "stages": {"mql": extra.get("mql", 0), "sql": extra.get("sql", 0), "sales_ready": []},
    }
    result = parse(document, CATALOG)
    assert result.definition is not None, result.errors
    return result.definition


def _c(cid: str, field: str, op: str, value: Any, points: int | None = None) -> dict[str, Any]:
    return {"id": cid, "category": "firmographic", "field": field, "op": op, "value": value,
            "points": points}  # fmt: skip


def _codes(findings: list[Any]) -> list[tuple[str, str | None]]:
    return [(f.code, f.criterion_id) for f in findings if f.code != "threshold"]


def test_the_same_criterion_twice_is_a_duplicate_with_its_removal_as_the_fix() -> None:
    definition = _doc(
        [_c("a", "country", "in", ["US", "CA"]), _c("b", "country", "in", ["ca", "us"])], "any"
    )
    [finding] = [f for f in check(definition) if f.code == "duplicate"]
    assert (finding.criterion_id, finding.other_id, finding.fix) == ("b", "a", "remove:b")


def test_two_criteria_no_lead_can_both_match_contradict_in_an_all_group_only() -> None:
    both = [_c("a", "employees", "gt", 500), _c("b", "employees", "lt", 100)]
    assert _codes(check(_doc(both, "all"))) == [("contradiction", "b")]
    assert "contradiction" not in {f.code for f in check(_doc(both, "any"))}
    set_and_empty = [_c("a", "industry", "is_set", None), _c("b", "industry", "is_not_set", None)]
    assert _codes(check(_doc(set_and_empty))) == [("contradiction", "b")]
    other_value = [_c("a", "country", "eq", "US"), _c("b", "country", "in", ["CA", "MX"])]
    assert _codes(check(_doc(other_value))) == [("contradiction", "b")]


def test_a_narrower_criterion_in_an_any_group_is_subsumed_by_the_broader_one() -> None:
    definition = _doc(
        [_c("wide", "employees", "gte", 100), _c("narrow", "employees", "between", [200, 300])],
        "any",
    )
    [finding] = check(definition)
    assert (finding.code, finding.criterion_id, finding.other_id) == ("subsumed", "narrow", "wide")
    assert finding.fix == "remove:narrow"


def test_in_an_all_group_the_criterion_another_implies_adds_nothing() -> None:
    definition = _doc([_c("us", "country", "eq", "US"), _c("na", "country", "in", ["US", "CA"])])
    assert _codes(check(definition)) == [("implied", "na")]


def test_a_qualify_criterion_with_points_is_explained_and_can_move_its_points() -> None:
    definition = _doc([_c("a", "employees", "gte", 100, points=15)], mql=10, sql=15)
    [finding] = check(definition)
    assert (finding.code, finding.amount, finding.fix) == (
        "qualify_points",
        15,
        "points_to_scoring:a",
    )


def test_a_threshold_above_every_reachable_score_is_reported_with_the_maximum() -> None:
    definition = _doc(
        [_c("a", "employees", "gte", 100)],
        scoring=[_c("s1", "country", "eq", "US", points=20), _c("s2", "country", "eq", "CA", 30)],
        mql=40,
        sql=60,
    )
    assert max_score(definition) == 50
    found = [(f.stage, f.amount) for f in check(definition) if f.code == "threshold"]
    assert found == [("sql", 50)]


def test_a_comparison_beyond_every_leads_value_reaches_no_lead() -> None:
    definition = _doc(
        [_c("big", "employees", "gt", 10_000), _c("ok", "employees", "lt", 50)], "any"
    )
    findings = check(definition, {"employees": (1.0, 5000.0)})
    assert [(f.code, f.criterion_id, f.stage, f.amount) for f in findings] == [
        ("no_lead", "big", "above", 5000.0)
    ]
    assert check(definition) == []  # without the leads' ranges nothing is claimed


def test_the_worked_example_has_no_warning_but_its_points_in_qualify() -> None:
    definition = parse(copy.deepcopy(WORKED_EXAMPLE), CATALOG).definition
    assert definition is not None
    assert {f.code for f in check(definition)} == {"qualify_points"}


# --------------------------------------- the logic agrees with the reference evaluator

OPS = [Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.GT, Op.GTE, Op.LT, Op.LTE, Op.BETWEEN, Op.IS_SET,
       Op.IS_NOT_SET]  # fmt: skip
SMALL = st.integers(min_value=0, max_value=6)


@st.composite
def number_criteria(draw: Any, cid: str) -> FieldCriterion:
    op = draw(st.sampled_from(OPS))
    value: Any
    if op in (Op.IS_SET, Op.IS_NOT_SET):
        value = None
    elif op in (Op.IN, Op.NOT_IN):
        value = tuple(sorted(draw(st.sets(SMALL, min_size=1, max_size=3))))
    elif op == Op.BETWEEN:
        low = draw(SMALL)
        value = (low, draw(st.integers(min_value=low, max_value=6)))
    else:
        value = draw(SMALL)
    return FieldCriterion(cid, Category.FIRMOGRAPHIC, "employees", op, value)


LEADS = [LeadData(fields={"employees": v}) for v in (None, *range(-1, 8))] + [
    LeadData(fields={"employees": v + 0.5}) for v in range(-1, 7)
]


@given(number_criteria("a"), number_criteria("b"))
def test_implies_and_contradicts_never_claim_what_a_lead_disproves(
    a: FieldCriterion, b: FieldCriterion
) -> None:
    for lead in LEADS:
        hit_a = criterion_matches(a, lead, as_of=AS_OF)
        hit_b = criterion_matches(b, lead, as_of=AS_OF)
        if implies(a, b):
            assert not hit_a or hit_b, (a, b, lead)
        if contradicts(a, b):
            assert not (hit_a and hit_b), (a, b, lead)
