from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from definitions import rules
from definitions.catalog import services as catalog_services
from definitions.models import Workshop
from feedback.leads import selectors as lead_selectors
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import Lead, LeadActivity
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


def _typed(value: Any) -> str:
    """A value as a person would type it into the filter."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat()
    if isinstance(value, float):
        return f"{value:,.2f}"  # with thousands separators, as a CRM shows it
    return str(value).lower()  # texts match without case; choices are lower-case


def _matches(lead: Lead, key: str, typed: str) -> bool:
    value = getattr(lead, key)
    return value is not None and _typed(value).lower() == typed.lower()


@pytest.mark.parametrize("key", list(rules.DEFAULT_CATALOG.fields))
def test_a_filter_on_any_built_in_field_lists_exactly_the_leads_with_that_value(
    key: str, admin: Any, workshop: Workshop, leads: int
) -> None:
    if key == "region":  # the generator leaves it empty; a CRM export may not
        some = list(Lead.objects.order_by("id").values_list("pk", flat=True)[:40])[::7]
        Lead.objects.filter(pk__in=some).update(region="Lombardia")
    lead = (
        Lead.objects.filter(workshop=workshop, **{f"{key}__isnull": False}).order_by("id").first()
    )
    assert lead is not None, f"some lead has a {key}"
    typed = _typed(getattr(lead, key))
    page = logged_in(admin).get(
        reverse("feedback:lead_list", args=["acme"]), {"field": key, "value": typed}
    )
    expected = [
        each.pk
        for each in Lead.objects.filter(workshop=workshop).order_by("-id")
        if _matches(each, key, typed)
    ]
    assert page.context["filter_error"] is False
    assert [each.pk for each in page.context["leads"]] == expected[:50]
    assert page.context["count"] == len(expected)


def test_a_filter_on_a_custom_field_compares_its_typed_value(
    admin: Any, workshop: Workshop, leads: int
) -> None:
    catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="tier",
        label="Tier",
        type="text",
        category="demographic",
    )
    catalog_services.custom_field_add(
        actor=admin, workshop=workshop, key="seats", label="Seats", type="number",
        category="firmographic",
    )  # fmt: skip
    first, second, third = Lead.objects.filter(workshop=workshop).order_by("id")[:3]
    first.custom = {"tier": "Gold", "seats": 12}
    second.custom = {"tier": "Silver", "seats": 12.0}
    third.custom = {"tier": "Gold"}
    Lead.objects.bulk_update([first, second, third], ["custom"])
    url = reverse("feedback:lead_list", args=["acme"])
    client = logged_in(admin)
    by_tier = client.get(url, {"field": "tier", "value": "Gold"}).context["leads"]
    by_seats = client.get(url, {"field": "seats", "value": "12"}).context["leads"]
    assert {each.pk for each in by_tier} == {first.pk, third.pk}
    assert {each.pk for each in by_seats} == {first.pk, second.pk}


def test_a_whole_e_mail_address_finds_its_lead_in_any_case(
    viewer: Any, workshop: Workshop, leads: int
) -> None:
    lead = Lead.objects.filter(workshop=workshop).exclude(email="").order_by("-id").first()
    assert lead is not None
    page = logged_in(viewer).get(
        reverse("feedback:lead_list", args=["acme"]), {"q": lead.email.upper()}
    )
    assert [each.pk for each in page.context["leads"]] == [lead.pk]


needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the token index exists on PostgreSQL only"
)


def test_the_lists_token_fields_are_the_token_index_arguments_in_order() -> None:
    migration = import_module("feedback.migrations.0021_lead_filter_tokens")
    assert [name for name, _kind, _value in migration.FIELDS] == list(lead_selectors.TOKEN_FIELDS)


@needs_postgres
@pytest.mark.parametrize("key", list(lead_selectors.TOKEN_FIELDS))
def test_a_filter_on_a_token_field_is_answered_by_the_token_index(
    key: str, workshop: Workshop, leads: int
) -> None:
    lead = Lead.objects.filter(workshop=workshop).exclude(**{f"{key}__isnull": True}).first()
    value: Any = getattr(lead, key) if lead is not None else "nothing"
    if isinstance(value, datetime):
        value = (value, value)
    # Without the workshop's own condition the token is the only thing an index can
    # answer: the plan shows that the query's expression is the index's.
    qs = lead_selectors.field_equals(Lead.objects.all(), workshop.pk, key, value)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a small table is read whole
        plan = qs.explain()
    assert "lead_filter_tokens" in plan


def test_a_close_date_filter_takes_the_day_in_the_current_time_zone(
    workshop: Workshop, leads: int
) -> None:
    lead = Lead.objects.filter(workshop=workshop).order_by("id").first()
    assert lead is not None
    # 23:30 in New York is the next day in UTC: the day spans two UTC days.
    lead.closed_at = datetime(2026, 3, 3, 4, 30, tzinfo=UTC)
    lead.save(update_fields=["closed_at"])
    with timezone.override(ZoneInfo("America/New_York")):
        found = _closed_on(workshop, "closed_at", "2026-03-02")
        missed = _closed_on(workshop, "closed_at", "2026-03-03")
    assert lead.pk in found and lead.pk not in missed


def _closed_on(workshop: Workshop, key: str, day: str) -> set[int]:
    start = timezone.make_aware(datetime.fromisoformat(day))
    end = start + timedelta(days=1, microseconds=-1)
    qs = lead_selectors.field_equals(
        Lead.objects.filter(workshop=workshop), workshop.pk, key, (start, end)
    )
    return set(qs.values_list("pk", flat=True))
