"""POST /api/v1/workshops/{slug}/classify: one lead judged in real time, the same way
a backtest would judge it, with nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from definitions import rules
from definitions.models import Version, Workshop
from definitions.versions import services as version_services
from feedback.models import Lead
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db

BUYER: dict[str, Any] = {
    "source": "webinar",
    "industry": "life science",
    "annual_revenue": 500_000_000,
    "country": "us",
    "seniority": "vp",
    "email_domain_kind": "business",
}


def _recent(hours: int) -> str:
    return (datetime.now(tz=UTC) - timedelta(hours=hours)).isoformat()


def test_a_lead_is_classified_under_the_current_version_with_its_reasons(
    acme: Api, v1: Version
) -> None:
    body = {**BUYER, "activities": [{"kind": "demo_request", "at": _recent(2)}]}
    response = acme.post("/workshops/acme/classify", body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["version"], data["qualified"], data["junk"], data["stage"]) == (
        1,
        True,
        False,
        "sql",
    )
    ids = [m["id"] for m in data["matched"]]
    assert ids == ["format-source", "industry", "revenue", "hq", "seniority", "demo"]
    assert data["score"] == 15 + 10 + 10 + 5 + 10 + 25
    assert data["matched"][0]["text"].startswith("Source is one of")
    assert not Lead.objects.exists()  # nothing stored


def test_a_student_is_junk_and_an_older_version_can_be_asked(
    admin: Any, acme: Api, v1: Version, workshop: Workshop
) -> None:
    stricter = rules.parse(rules.SALES_LEANING_EXAMPLE, rules.DEFAULT_CATALOG).definition
    assert stricter is not None
    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.to_json(stricter), parent=v1
    )
    student = {**BUYER, "email_domain_kind": "edu"}
    now = acme.post("/workshops/acme/classify", student).json()
    before = acme.post("/workshops/acme/classify", {**student, "version": 1}).json()
    assert (now["version"], before["version"]) == (2, 1)
    assert before["junk"] is True and before["stage"] == "junk"
    assert "junk-student-email" in [m["id"] for m in before["matched"]]


def test_bad_values_are_reported_at_their_path_and_unknown_targets_are_404(
    acme: Api, v1: Version
) -> None:
    response = acme.post("/workshops/acme/classify", {"annual_revenue": "lots"})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "annual_revenue"]]
    response = acme.post(
        "/workshops/acme/classify", {"activities": [{"kind": "teleport", "at": _recent(1)}]}
    )
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "activities", 0, "kind"]]
    assert acme.post("/workshops/other/classify", BUYER).status_code == 404
    assert acme.post("/workshops/acme/classify", {**BUYER, "version": 7}).status_code == 404
    assert Api(None).post("/workshops/acme/classify", BUYER).status_code == 401


def test_a_workshop_without_a_version_has_nothing_to_classify_with(acme: Api) -> None:
    assert acme.post("/workshops/acme/classify", BUYER).status_code == 404
