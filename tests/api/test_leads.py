"""Writing and reading leads by external id: semantics, idempotence, activities."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.catalog import services as catalog_services
from definitions.models import Workshop
from feedback.models import Lead, LeadActivity
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def budget_field(admin: Any, workshop: Workshop) -> None:
    catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="budget_eur",
        label="Budget (EUR)",
        type="number",
        category="bant",
    )
    catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="tier",
        label="Tier",
        type="choice",
        category="firmographic",
        choices=["gold", "silver"],
    )
    catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="first_call",
        label="First call",
        type="date",
        category="behavioural",
    )
    catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="partner",
        label="Partner",
        type="boolean",
        category="firmographic",
    )


def test_put_creates_a_lead_with_201_and_updates_it_with_200(acme: Api, workshop: Workshop) -> None:
    created = acme.put(
        "/leads/SF-1",
        {
            "name": "Ann Müller",
            "email": "ann@acme.example",
            "company": "Acme Labs",
            "source": "webinar",
            "employees": 1200,
            "annual_revenue": 3.5e8,
            "converted": False,
            "created_at": "2024-03-01T09:30:00+02:00",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["external_id"] == "SF-1" and body["employees"] == 1200.0
    assert body["created_at"].startswith("2024-03-01T07:30:00")  # stored in UTC
    lead = Lead.objects.get(workshop=workshop, external_id="SF-1")
    assert lead.search_text == "ann müller ann@acme.example acme labs sf-1"

    updated = acme.put("/leads/SF-1", {"job_title": "VP Quality"})
    assert updated.status_code == 200
    assert Lead.objects.filter(workshop=workshop).count() == 1


def test_put_changes_only_the_fields_sent_and_null_clears_one(acme: Api) -> None:
    acme.put("/leads/SF-1", {"name": "Ann", "company": "Acme", "budget": "planned", "employees": 5})
    acme.put("/leads/SF-1", {"budget": "confirmed", "employees": None})
    lead = Lead.objects.get(external_id="SF-1")
    assert (lead.name, lead.company, lead.budget, lead.employees) == (
        "Ann",
        "Acme",
        "confirmed",
        None,
    )
    acme.put("/leads/SF-1", {"name": None})
    lead.refresh_from_db()
    assert lead.name == "" and lead.search_text == "acme sf-1"


def test_custom_fields_are_typed_by_the_catalog_and_merged_key_by_key(
    acme: Api, budget_field: None
) -> None:
    acme.put(
        "/leads/SF-1",
        {
            "custom": {
                "budget_eur": 25000,
                "tier": "gold",
                "first_call": "2024-05-02T23:30:00-03:00",
            }
        },
    )
    acme.put("/leads/SF-1", {"custom": {"partner": True, "tier": None}})
    lead = Lead.objects.get(external_id="SF-1")
    # Custom dates are stored as days (UTC), as the importer stores them.
    assert lead.custom == {"budget_eur": 25000.0, "first_call": "2024-05-03", "partner": True}
    assert acme.get("/leads/SF-1").json()["custom"] == lead.custom


def test_get_returns_the_lead_in_the_shape_it_is_written(acme: Api) -> None:
    acme.put("/leads/SF-1", {"name": "Ann", "reached_stage": "customer", "deal_value": 9.5e4})
    acme.post(
        "/leads/SF-1/activities",
        {
            "activities": [
                {"kind": "page_view", "at": "2024-05-01T10:00:00Z"},
                {"kind": "demo_request", "at": "2024-05-03T10:00:00Z"},
            ]
        },
    )
    response = acme.get("/leads/SF-1")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Ann" and body["reached_stage"] == "customer"
    assert body["deal_value"] == 95000.0 and body["converted"] is None
    assert body["activity_count"] == 2
    assert [a["kind"] for a in body["activities"]] == ["demo_request", "page_view"]
    assert body["activities"][0]["at"] == "2024-05-03T10:00:00Z"
    from definitions import rules

    expected = {
        "external_id",
        "name",
        "email",
        "custom",
        "activities",
        "activity_count",
        "imported_at",
        "updated_at",
        *(s.key for s in rules.BUILTIN_FIELDS),
    }
    assert set(body) == expected


def test_an_external_id_with_a_slash_and_unicode_is_addressable(acme: Api) -> None:
    for external_id, path in (
        ("ACME/2024/001", "ACME/2024/001"),
        ("東京-1", "東京-1"),
        ("a b?#%", "a%20b%3F%23%25"),
        ("x/y", "x%2Fy"),
    ):
        assert acme.put(f"/leads/{path}", {"name": "N"}).status_code == 201, external_id
        assert acme.get(f"/leads/{path}").json()["external_id"] == external_id
    assert acme.post(
        "/leads/ACME/2024/001/activities",
        {"activities": [{"kind": "download", "at": "2024-01-01"}]},
    ).json() == {"added": 1, "ignored": 0}


def test_a_batch_creates_and_updates_and_says_which(acme: Api) -> None:
    acme.put("/leads/B-2", {"name": "Existing"})
    response = acme.post(
        "/leads",
        {
            "leads": [
                {"external_id": "B-1", "name": "One", "country": "US"},
                {"external_id": "B-2", "country": "CA"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "created": 1,
        "updated": 1,
        "results": [
            {"external_id": "B-1", "status": "created"},
            {"external_id": "B-2", "status": "updated"},
        ],
    }
    assert Lead.objects.get(external_id="B-2").name == "Existing"


def test_the_same_batch_twice_changes_nothing_the_second_time(
    acme: Api, workshop: Workshop
) -> None:
    batch = {
        "leads": [
            {"external_id": f"L{i}", "name": f"Lead {i}", "employees": i, "seniority": "vp"}
            for i in range(1000)
        ]
    }
    first = acme.post("/leads", batch)
    assert first.status_code == 200 and first.json()["created"] == 1000
    snapshot = list(
        Lead.objects.filter(workshop=workshop)
        .order_by("id")
        .values_list("id", "external_id", "name", "employees", "seniority", "imported_at")
    )
    second = acme.post("/leads", batch)
    assert second.json()["created"] == 0 and second.json()["updated"] == 1000
    assert {r["status"] for r in second.json()["results"]} == {"updated"}
    assert Lead.objects.filter(workshop=workshop).count() == 1000
    assert (
        list(
            Lead.objects.filter(workshop=workshop)
            .order_by("id")
            .values_list("id", "external_id", "name", "employees", "seniority", "imported_at")
        )
        == snapshot
    )


def test_a_batch_with_one_bad_lead_writes_nothing(acme: Api, budget_field: None) -> None:
    acme.put("/leads/B-0", {"name": "Before"})
    response = acme.post(
        "/leads",
        {
            "leads": [
                {"external_id": "B-0", "name": "After"},
                {"external_id": "B-1", "name": "New"},
                {"external_id": "B-2", "custom": {"budget_eur": "lots"}},
            ]
        },
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "leads", 2, "custom", "budget_eur"]
    assert Lead.objects.get(external_id="B-0").name == "Before"
    assert not Lead.objects.filter(external_id="B-1").exists()


def test_activities_are_added_once_and_duplicates_are_counted(acme: Api) -> None:
    acme.put("/leads/SF-1", {"name": "Ann"})
    activities = {
        "activities": [
            {"kind": "page_view", "at": "2024-05-01T10:00:00Z"},
            {"kind": "page_view", "at": "2024-05-01T12:00:00+02:00"},  # the same instant
            {"kind": "download", "at": "2024-05-01T10:00:00Z"},
        ]
    }
    first = acme.post("/leads/SF-1/activities", activities)
    assert first.status_code == 200, first.content
    assert first.json() == {"added": 2, "ignored": 1}
    again = acme.post("/leads/SF-1/activities", activities)
    assert again.json() == {"added": 0, "ignored": 3}
    assert LeadActivity.objects.filter(lead__external_id="SF-1").count() == 2


def test_activities_of_the_workshops_own_kinds_are_accepted(
    acme: Api, admin: Any, workshop: Workshop
) -> None:
    catalog_services.activity_kind_add(
        actor=admin, workshop=workshop, key="site_visit", label="Site visit"
    )
    acme.put("/leads/SF-1", {})
    response = acme.post(
        "/leads/SF-1/activities", {"activities": [{"kind": "site_visit", "at": "2024-05-01"}]}
    )
    assert response.json() == {"added": 1, "ignored": 0}


def test_activities_for_a_lead_that_does_not_exist_get_404(acme: Api) -> None:
    response = acme.post(
        "/leads/NOPE/activities",
        {"activities": [{"kind": "page_view", "at": "2024-05-01T10:00:00Z"}]},
    )
    assert response.status_code == 404 and "detail" in response.json()
