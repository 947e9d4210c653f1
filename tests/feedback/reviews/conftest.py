"""A workshop whose v2 was voted on a backtest that promised F1 0.90 against outcomes
and then, on the leads that arrived after it went live, did far worse (F1 0.30): the
setting of the review and decision-record tests. Built through the real services,
backtested in this process on the test database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from definitions.authoring import services as authoring_services
from definitions.deliberation import services as deliberation_services
from definitions.models import Version, Workshop
from definitions.versions import services as version_services
from definitions.workshops import services as workshop_services
from feedback.backtests import services as backtest_services
from feedback.leads.services import leads_changed
from feedback.models import Lead

RATIONALE = "Makers of things buy our instruments; shops rarely do."
DISAGREE_REASON = "Retail chains with labs buy too; we lose them."

V1: dict[str, Any] = {
    "schema_version": 1,
    "rationale": "Shops first.",
    "qualify": {
        "id": "g-root",
        "any": [
            {
                "id": "shop",
                "category": "firmographic",
                "field": "industry",
                "op": "in",
                "value": ["Retail"],
                "points": 10,
            }
        ],
    },
    "disqualify": [],
    "scoring": [],
    "stages": {"mql": 0, "sql": 100, "sales_ready": []},
}

V2: dict[str, Any] = {
    "schema_version": 1,
    "rationale": RATIONALE,
    "qualify": {
        "id": "g-root",
        "any": [
            {
                "id": "maker",
                "category": "firmographic",
                "field": "industry",
                "op": "in",
                "value": ["Manufacturing"],
                "points": 10,
            }
        ],
    },
    "disqualify": [],
    "scoring": [],
    "stages": {"mql": 0, "sql": 100, "sales_ready": []},
}


def add_leads(
    workshop: Workshop,
    prefix: str,
    created_at: Any,
    *,
    makers: tuple[int, int],
    shops: tuple[int, int],
) -> None:
    """`makers` = (converted, not converted) manufacturing leads, `shops` the same for
    retail; all created at `created_at`."""
    rows = []
    for industry, (good, bad) in (("Manufacturing", makers), ("Retail", shops)):
        for i in range(good + bad):
            rows.append(
                Lead(
                    workshop=workshop,
                    external_id=f"{prefix}-{industry}-{i}",
                    industry=industry,
                    source="web",
                    converted=i < good,
                    created_at=created_at,
                )
            )
    Lead.objects.bulk_create(rows)
    leads_changed(workshop_id=workshop.pk)  # as an import does: earlier runs are stale


def backtest(workshop: Workshop, **target: Any) -> None:
    run = backtest_services.backtest_start(actor=None, workshop=workshop, enqueue=False, **target)
    backtest_services.backtest_run_inline(run)


@pytest.fixture
def published(
    workshop: Workshop, admin: Any, marketer: Any, seller: Any, leader: Any, rep: Any
) -> Version:
    """v1, then v2 proposed, backtested (90 % of makers convert, 10 % of shops: F1
    0.90), voted on with reasons from three departments, discussed, and published."""
    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=V1, parent=None
    )
    add_leads(
        workshop, "past", timezone.now() - timedelta(days=90), makers=(90, 10), shops=(10, 90)
    )
    deliberation_services.policy_update(
        actor=admin,
        workshop=workshop,
        quorum_percent=0,
        required_departments=[],
        majority_percent=50,
        block_vetoes=False,
        default_voting_days=7,
    )
    proposal = authoring_services.proposal_create(
        actor=marketer, workshop=workshop, title="Makers, not shops", document=V2
    )
    backtest(workshop, proposal=proposal)
    proposal = deliberation_services.proposal_open(
        actor=marketer,
        proposal=proposal,
        closes_at=timezone.now() + timedelta(days=1),
        rationale=RATIONALE,
    )
    question = deliberation_services.comment_add(
        actor=seller, proposal=proposal, body="What about labs inside retail chains?"
    )
    deliberation_services.comment_add(
        actor=marketer, proposal=proposal, body="Rare in our history: 10 of 100.", parent=question
    )
    deliberation_services.vote_cast(
        actor=marketer, proposal=proposal, choice="agree", reason="The backtest is clear."
    )
    deliberation_services.vote_cast(
        actor=leader, proposal=proposal, choice="agree", reason="Fewer, better leads."
    )
    deliberation_services.vote_cast(
        actor=seller, proposal=proposal, choice="disagree", reason=DISAGREE_REASON
    )
    proposal = deliberation_services.proposal_close(actor=admin, proposal=proposal)
    version = version_services.version_publish(actor=admin, proposal=proposal)
    workshop_services.workshop_evaluation_update(
        actor=admin,
        workshop=workshop,
        handoff_stage=workshop.handoff_stage,
        decision_days=workshop.decision_days,
        review_min_leads=50,
    )
    return version


@pytest.fixture
def drifted(published: Version, workshop: Workshop) -> Version:
    """After publishing, 100 new leads: only 30 % of makers convert, 70 % of shops do
    (F1 0.30 against outcomes); then the version's backtest settles."""
    add_leads(workshop, "live", published.published_at, makers=(15, 35), shops=(35, 15))
    backtest(workshop, version=published)
    return published
