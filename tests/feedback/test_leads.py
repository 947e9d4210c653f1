from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from definitions.models import Workshop
from feedback.generator import generate
from feedback.models import Lead, LeadActivity
from feedback.services import leads_insert_generated
from tests.factories import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(workshop: Workshop) -> int:
    return leads_insert_generated(workshop=workshop, leads=generate(300, seed=7))


def test_the_generator_is_deterministic_and_about_a_quarter_is_sales_ready() -> None:
    first = [g.external_id + g.name for g in generate(50, seed=1)]
    assert first == [g.external_id + g.name for g in generate(50, seed=1)]
    sample = list(generate(4000, seed=3))
    ready = sum(any(kind == "demo_request" for kind, _ in g.activities) for g in sample) / 4000
    assert 0.18 < ready < 0.33


def test_generated_leads_are_stored_with_their_activities(workshop: Workshop, leads: int) -> None:
    assert leads == Lead.objects.filter(workshop=workshop).count() == 300
    assert LeadActivity.objects.filter(lead__workshop=workshop).count() > 300


def test_search_finds_a_lead_by_name_email_or_company_ignoring_case(
    viewer: Any, workshop: Workshop, leads: int
) -> None:
    lead = Lead.objects.filter(workshop=workshop).first()
    assert lead is not None and lead.company
    for term in (lead.name.upper(), lead.email, lead.company.lower()[:6]):
        page = logged_in(viewer).get(reverse("feedback:lead_list", args=["acme"]), {"q": term})
        assert lead in page.context["leads"] or page.context["has_next"], term


def test_a_filter_on_a_field_is_typed_by_the_catalog(
    admin: Any, workshop: Workshop, leads: int
) -> None:
    client = logged_in(admin)
    url = reverse("feedback:lead_list", args=["acme"])
    page = client.get(url, {"field": "country", "value": "us"})
    assert page.context["leads"] and all(lead.country == "US" for lead in page.context["leads"])
    page = client.get(url, {"field": "employees", "value": "lots"})
    assert page.context["filter_error"] is True
    assert "does not fit" in page.content.decode()


def test_the_list_pages_without_counting_everything(
    admin: Any, workshop: Workshop, leads: int
) -> None:
    client = logged_in(admin)
    url = reverse("feedback:lead_list", args=["acme"])
    first = client.get(url)
    second = client.get(url, {"page": "2"})
    assert first.context["has_next"] and len(first.context["leads"]) == 50
    assert not set(first.context["leads"]) & set(second.context["leads"])
    assert client.get(url, {"page": "-3"}).status_code == 200
    assert client.get(url, {"page": "abc", "sort": "bogus"}).status_code == 200


def test_htmx_search_swaps_only_the_results(admin: Any, leads: int) -> None:
    response = logged_in(admin).get(
        reverse("feedback:lead_list", args=["acme"]), {"q": "a"}, headers={"HX-Request": "true"}
    )
    assert response.content.decode().lstrip().startswith('<div id="lead-results">')


def test_a_lead_page_shows_its_fields_and_timeline(
    rep: Any, workshop: Workshop, leads: int
) -> None:
    lead = Lead.objects.filter(workshop=workshop).order_by("id").first()
    assert lead is not None
    html = (
        logged_in(rep).get(reverse("feedback:lead_detail", args=["acme", lead.pk])).content.decode()
    )
    assert lead.name in html and "Annual revenue" in html


def test_another_workshops_lead_is_not_found(admin: Any, outsider: Any, workshop: Workshop) -> None:
    other = Workshop.objects.get(slug="other")
    foreign = Lead.objects.create(workshop=other, external_id="f1", name="Foreign")
    url = reverse("feedback:lead_detail", args=["acme", foreign.pk])
    assert logged_in(admin).get(url).status_code == 404
