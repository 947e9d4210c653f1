"""A workshop whose outcomes (or verdicts) follow a planted definition with 10 % of the
labels flipped, and a deliberately wrong first version: what discovery must recover.
The labels come from the reference evaluator, independent of the engine under test."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from definitions import rules
from definitions.models import Version, Workshop
from definitions.versions.services import version_publish_document
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import Lead, LeadFeedback, Verdict
from feedback.suggestions import matrix

PLANTED: dict[str, Any] = {
    "schema_version": 1,
    "rationale": "",
    "qualify": {
        "id": "root",
        "all": [
            {"id": "west", "category": "firmographic", "field": "country", "op": "in",
             "value": ["US", "CA", "DE", "GB", "FR"], "points": None},
            {"id": "size", "category": "firmographic", "field": "annual_revenue", "op": "gte",
             "value": 10_000_000, "points": None},
        ],
    },
    "disqualify": [
        {"id": "students", "category": "demographic", "field": "email_domain_kind", "op": "eq",
         "value": "edu", "points": None},
    ],
    "scoring": [
        {"id": "senior", "category": "demographic", "field": "seniority", "op": "in",
         "value": ["vp", "c_level", "director", "owner", "manager"], "points": 30},
        {"id": "demo", "category": "behavioural", "activity": "demo_request", "min_count": 1,
         "window": "ever", "points": 40},
        {"id": "pharma", "category": "firmographic", "field": "industry", "op": "in",
         "value": ["Life Science", "Pharmaceuticals", "Food & Beverage", "HVAC"], "points": 30},
    ],
    "stages": {"mql": 40, "sql": 70, "sales_ready": []},
}  # fmt: skip

WRONG: dict[str, Any] = {
    "schema_version": 1,
    "rationale": "A first guess.",
    "qualify": {
        "id": "root",
        "all": [
            {"id": "japan", "category": "firmographic", "field": "country", "op": "eq",
             "value": "JP", "points": None},
        ],
    },
    "disqualify": [],
    "scoring": [
        {"id": "webinar", "category": "format", "field": "source", "op": "eq",
         "value": "webinar", "points": 50},
    ],
    "stages": {"mql": 50, "sql": 80, "sales_ready": []},
}  # fmt: skip


def flipped(external_id: str) -> bool:
    """One lead in ten, by a hash of its external id: the label noise."""
    return hashlib.sha256(external_id.encode()).digest()[0] % 10 == 0


def plant(
    workshop: Workshop,
    admin: Any,
    *,
    leads: int = 5000,
    target: str = "outcome",
    rep: Any = None,
    seed: int = 11,
) -> tuple[Version, dict[str, bool]]:
    """Generated leads labelled by PLANTED at the handoff stage (MQL), 10 % flipped;
    returns the wrong first version and what PLANTED predicts for each lead id."""
    catalog = rules.DEFAULT_CATALOG
    planted = rules.parse(PLANTED, catalog).definition
    assert planted is not None
    now = datetime.now(tz=UTC)
    generated = list(generate(leads, seed=seed))
    predicted: dict[str, bool] = {}
    for g in generated:
        data = rules.LeadData(
            fields=g.fields,
            activities=tuple(rules.Activity(kind, at) for kind, at in g.activities),
        )
        moment = rules.decision_moment(g.fields["created_at"], workshop.decision_days, now)
        result = rules.evaluate(planted, data, as_of=moment)
        predicted[g.external_id] = rules.reaches(result.stage, workshop.handoff_stage)
    leads_insert_generated(workshop=workshop, leads=generated)
    good = {e for e, hit in predicted.items() if hit != flipped(e)}
    rows = Lead.objects.filter(workshop=workshop)
    if target == "outcome":
        rows.update(reached_stage=None, converted=False)
        rows.filter(external_id__in=good).update(converted=True)
    else:
        # Outcomes unknown; the reps judged three leads in four.
        rows.update(reached_stage=None, converted=None)
        judged = list(rows.only("id", "external_id"))
        LeadFeedback.objects.bulk_create(
            LeadFeedback(
                workshop=workshop,
                lead=lead,
                rep=rep,
                verdict=Verdict.GOOD if lead.external_id in good else Verdict.NOT_A_LEAD,
            )
            for lead in judged
            if matrix.short_hash(lead.external_id)[0] not in "0123"
        )
    version = version_publish_document(actor=admin, workshop=workshop, document=WRONG, parent=None)
    by_id = dict(rows.values_list("external_id", "id"))
    return version, {str(by_id[e]): hit for e, hit in predicted.items()}
