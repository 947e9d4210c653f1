"""Sales verdicts by external id through the API: scoped to the key's workshop, all or
nothing with 422 at the path, idempotent, attributed to a named member or the system
rep, and counted like an import's."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.models import Workshop
from definitions.roles import Department, Role
from feedback.imports.dispositions import SYSTEM_REP
from feedback.models import Lead, LeadFeedback
from tests.api.conftest import Api, locs
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(workshop: Workshop) -> None:
    Lead.objects.bulk_create(
        Lead(workshop=workshop, external_id=f"L{n}", name=f"Lead {n}") for n in range(1, 5)
    )


def current(workshop: Workshop) -> dict[str, tuple[str, str, str, str]]:
    return {
        f.lead.external_id: (f.verdict, f.reason, f.rep.get_username(), f.import_column)
        for f in LeadFeedback.objects.filter(
            workshop=workshop, imported=True, superseded_at=None
        ).select_related("lead", "rep")
    }


def test_verdicts_by_external_id_are_written_once_and_changed_or_taken_back_later(
    acme: Api, workshop: Workshop, leads: None
) -> None:
    rita = UserFactory(username="rita", email="rita@acme.example")
    add_member(workshop, rita, Role.SALES_REP, Department.SALES)
    body: dict[str, Any] = {
        "source": "Salesforce Lead Status",
        "verdicts": [
            {"external_id": "L1", "verdict": "good", "rep": "rita@acme.example",
             "value": "Closed - Converted"},
            {"external_id": "L2", "verdict": "bad", "reason": "no_budget"},
            {"external_id": "L3", "verdict": "bad"},
            {"external_id": "L4", "verdict": "none"},
        ],
    }  # fmt: skip
    response = acme.post("/verdicts", body)
    assert response.status_code == 200, response.content
    assert response.json() == {"changed": 3, "unchanged": 1}
    assert current(workshop) == {
        "L1": ("good", "", "rita", "Salesforce Lead Status"),
        "L2": ("not_lead", "no_budget", SYSTEM_REP, "Salesforce Lead Status"),
        "L3": ("not_lead", "other", SYSTEM_REP, "Salesforce Lead Status"),
    }
    assert acme.post("/verdicts", body).json() == {"changed": 0, "unchanged": 4}
    body["verdicts"][0] = {"external_id": "L1", "verdict": "none"}
    assert acme.post("/verdicts", body).json() == {"changed": 1, "unchanged": 3}
    assert "L1" not in current(workshop)


def test_a_bad_batch_writes_nothing_and_says_where(
    acme: Api, other: Api, workshop: Workshop, leads: None
) -> None:
    response = acme.post(
        "/verdicts",
        {
            "verdicts": [
                {"external_id": "L1", "verdict": "good", "reason": "student"},
                {"external_id": "nope", "verdict": "bad"},
                {"external_id": "L2", "verdict": "maybe"},
                {"external_id": "L3", "verdict": "bad", "reason": "lazy"},
            ]
        },
    )
    assert locs(response) == [
        ["body", "verdicts", 2, "verdict"],
        ["body", "verdicts", 3, "reason"],
    ]
    response = acme.post(
        "/verdicts",
        {"verdicts": [{"external_id": "L1", "verdict": "good", "reason": "student"},
                      {"external_id": "nope", "verdict": "bad"},
                      {"external_id": "L1", "verdict": "bad"}]},
    )  # fmt: skip
    assert locs(response) == [
        ["body", "verdicts", 0, "reason"],
        ["body", "verdicts", 1, "external_id"],
        ["body", "verdicts", 2, "external_id"],
    ]
    # Another workshop's key does not see these leads at all.
    assert locs(other.post("/verdicts", {"verdicts": [{"external_id": "L1", "verdict": "good"}]}))
    assert not LeadFeedback.objects.exists()
    assert Api(None).post("/verdicts", {"verdicts": []}).status_code == 401
