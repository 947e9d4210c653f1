"""Discovery recovers a planted definition, never offers a change that is worse on
leads it did not learn from, and never learns from a field that leaks the outcome."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from definitions import rules
from definitions.catalog.services import custom_field_add
from definitions.models import Workshop
from feedback.models import Lead, LeakageClearance
from feedback.suggestions import matrix
from feedback.suggestions.discovery import discover
from feedback.suggestions.types import Discovery, Goal

from .planted import PLANTED, plant

pytestmark = pytest.mark.django_db


def planted_validation_f1(workshop: Workshop, predicted: dict[str, bool], target: str) -> float:
    """PLANTED's own F1 on the validation part, from the reference evaluator's
    predictions and the stored (noisy) labels."""
    labels = matrix.lead_labels(workshop, target)
    on = (labels.y >= 0) & ~labels.learn
    pred = np.array([predicted[str(i)] for i in labels.ids])[on]
    good = (labels.y == 1)[on]
    tp = np.count_nonzero(pred & good)
    return float(2 * tp / (np.count_nonzero(pred) + np.count_nonzero(good)))


def used_fields(discovery: Discovery) -> set[str]:
    found: set[str] = set()
    for suggestion in (*discovery.suggestions, discovery.recommended):
        if suggestion is None:
            continue
        stack: list[Any] = list(suggestion.changes)
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if isinstance(node.get("field"), str):
                    found.add(node["field"])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return found


# Within this F1 of the planted definition on the validation part (the bound).
NEAR_PLANTED = 0.02


def test_the_recommended_draft_is_within_002_of_the_planted_definitions_f1(
    workshop: Workshop, admin: Any
) -> None:
    version, predicted = plant(workshop, admin, leads=20_000)
    discovery = discover(workshop, version, Goal())
    assert discovery.recommended is not None
    best = planted_validation_f1(workshop, predicted, "outcome")
    assert discovery.before is not None and discovery.before.f1 < best - 0.2
    assert discovery.recommended.after.f1 >= best - NEAR_PLANTED, (
        discovery.recommended.after,
        best,
    )
    # Every figure is on the validation part, with an interval around it.
    low, high = discovery.recommended.after.intervals["f1"]
    assert low <= discovery.recommended.after.f1 <= high
    assert discovery.validation == discovery.recommended.after.n > 0


def test_the_same_holds_when_the_target_is_the_reps_verdicts(
    workshop: Workshop, admin: Any, rep: Any
) -> None:
    version, predicted = plant(workshop, admin, leads=20_000, target="verdict", rep=rep)
    discovery = discover(workshop, version, Goal(target="verdict"))
    assert discovery.recommended is not None
    best = planted_validation_f1(workshop, predicted, "verdict")
    assert discovery.recommended.after.f1 >= best - NEAR_PLANTED, (
        discovery.recommended.after,
        best,
    )


def test_no_suggestion_is_offered_unless_it_is_better_on_the_validation_part(
    workshop: Workshop, admin: Any
) -> None:
    version, _predicted = plant(workshop, admin, leads=3000)
    # Start from the planted definition itself: dropping any of its criteria is worse.
    from definitions.versions.services import version_publish_document

    planted = version_publish_document(
        actor=admin, workshop=workshop, document=PLANTED, parent=version
    )
    discovery = discover(workshop, planted, Goal())
    assert discovery.measure is not None and discovery.before is not None
    offered = {s.key for s in discovery.suggestions}
    for criterion in rules.criteria(rules.parse(PLANTED, rules.DEFAULT_CATALOG).definition):  # type: ignore[arg-type]
        dropped = discovery.measure([{"op": "remove", "id": criterion.id}])
        if dropped is not None and dropped.f1 <= discovery.before.f1:
            assert not any(
                {"op": "remove", "id": criterion.id} in s.changes for s in discovery.suggestions
            ), criterion.id
    for suggestion in (*discovery.suggestions, discovery.recommended):
        if suggestion is None:
            continue
        assert suggestion.effect > 0
        assert suggestion.after.f1 > suggestion.before.f1
        remeasured = discovery.measure(list(suggestion.changes))
        assert remeasured is not None and remeasured.f1 == pytest.approx(suggestion.after.f1)
    assert len(offered) == len(discovery.suggestions)


def test_a_leaky_field_is_flagged_and_never_used_until_an_admin_clears_it(
    workshop: Workshop, admin: Any
) -> None:
    custom_field_add(
        actor=admin, workshop=workshop, key="deal_stage", label="Deal stage",
        type="choice", category="firmographic", choices=["won", "lost"],
    )  # fmt: skip
    custom_field_add(
        actor=admin, workshop=workshop, key="lost_reason", label="Lost reason",
        type="text", category="firmographic", after_outcome=True,
    )  # fmt: skip
    version, _predicted = plant(workshop, admin, leads=3000)
    leads = Lead.objects.filter(workshop=workshop)
    for lead in leads.only("id", "converted", "custom"):
        lead.custom = {
            "deal_stage": "won" if lead.converted else "lost",
            "lost_reason": "" if lead.converted else "price",
        }
        lead.save(update_fields=["custom"])
    discovery = discover(workshop, version, Goal())
    reasons = {leak.field: leak.reason for leak in discovery.leaks}
    assert reasons == {"deal_stage": "separates", "lost_reason": "marked"}
    assert not used_fields(discovery) & {"deal_stage", "lost_reason"}
    assert discovery.recommended is not None

    LeakageClearance.objects.create(workshop=workshop, field="deal_stage", cleared_by=admin)
    cleared = discover(workshop, version, Goal())
    assert {leak.field for leak in cleared.leaks} == {"lost_reason"}
    assert "deal_stage" in used_fields(cleared)


def test_too_few_labelled_leads_says_so_and_suggests_nothing(
    workshop: Workshop, admin: Any
) -> None:
    version, _predicted = plant(workshop, admin, leads=120)
    discovery = discover(workshop, version, Goal())
    assert discovery.suggestions == () and discovery.recommended is None
    assert "Too few leads with a known label" in discovery.empty_reason
