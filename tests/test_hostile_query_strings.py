"""Regressions of what an attacker with an ordinary account found (DEBUG=0, PostgreSQL):
a huge page number, NUL in the search and in a custom-field filter, a 5,000-digit
integer in a definition. Each now gets a clear answer, never a 500. Run on both
databases: NUL and bigint only fail on PostgreSQL."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from definitions import rules
from definitions.catalog import services as catalog_services
from definitions.core.querystring import MAX_PAGE, page_number, whole_number
from definitions.models import Proposal, Workshop
from definitions.versions import services as version_services
from feedback.leads.views import PER_PAGE
from feedback.models import Lead
from tests.factories import logged_in

pytestmark = pytest.mark.django_db

NUL_ERROR = "Null characters are not allowed."  # Django's CharField, in every form


@pytest.fixture
def leads(workshop: Workshop, admin: Any) -> list[Lead]:
    catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="motto",
        label="Motto",
        type="text",
        category="firmographic",
    )
    return [
        Lead.objects.create(
            workshop=workshop,
            external_id=f"L{n}",
            name=f"Lead {n:03}",
            annual_revenue=n,
            custom={"motto": "go"},
        )
        for n in range(PER_PAGE + 3)
    ]


def lead_list(user: Any, query: str) -> Any:
    return logged_in(user).get(reverse("feedback:lead_list", args=["acme"]) + "?" + query)


def test_a_page_number_beyond_bigint_shows_the_last_page_of_the_lead_list(
    viewer: Any, leads: list[Lead]
) -> None:
    response = lead_list(viewer, "page=1000000000000000000")

    assert response.status_code == 200
    assert response.context["page"] == 2
    # Newest first: the last page holds the three oldest leads.
    assert [lead.name for lead in response.context["leads"]] == ["Lead 002", "Lead 001", "Lead 000"]


@pytest.mark.parametrize("raw", ["0", "-5", "abc", "²", "1e3", "9" * 5000])
def test_a_page_number_that_is_no_page_shows_the_first_or_last_page(
    viewer: Any, leads: list[Lead], raw: str
) -> None:
    response = lead_list(viewer, f"page={raw}")

    assert response.status_code == 200
    assert response.context["page"] == (2 if raw == "9" * 5000 else 1)


def test_a_nul_byte_in_the_search_is_refused_at_the_search_field(
    viewer: Any, leads: list[Lead]
) -> None:
    response = lead_list(viewer, "q=%00")

    assert response.status_code == 200
    assert response.context["form"].errors["q"] == [NUL_ERROR]
    assert 'id="id_q" name="q" type="search" value="\x00" aria-invalid="true"' in (
        response.content.decode()
    )
    assert len(response.context["leads"]) == PER_PAGE  # the search is left out, not failed


def test_a_nul_byte_in_a_custom_field_filter_is_refused_at_the_value_field(
    viewer: Any, leads: list[Lead]
) -> None:
    response = lead_list(viewer, "field=motto&value=go%00")

    assert response.status_code == 200
    assert response.context["form"].errors["value"] == [NUL_ERROR]
    assert f"Value: {NUL_ERROR}" in response.content.decode()


def test_a_custom_field_filter_without_control_characters_still_filters(
    viewer: Any, leads: list[Lead]
) -> None:
    assert lead_list(viewer, "field=motto&value=go").context["count"] == len(leads)
    assert lead_list(viewer, "field=motto&value=stop").context["count"] == 0


# (A lone surrogate cannot arrive: Django decodes its bytes as U+FFFD.)
@pytest.mark.parametrize("raw", ["%01", "%1B%5B31m", "%C2%85", "%09"])
def test_other_control_characters_in_the_search_are_refused_at_the_search_field(
    viewer: Any, leads: list[Lead], raw: str
) -> None:
    response = lead_list(viewer, f"q=a{raw}b")

    assert response.status_code == 200
    assert response.context["form"].errors["q"] == ["Control characters are not allowed."]


@pytest.mark.parametrize("raw", ["1e400", "nan", "-inf", "1e16", "9" * 5000])
def test_a_number_filter_outside_the_range_is_refused_at_the_value_field(
    viewer: Any, leads: list[Lead], raw: str
) -> None:
    response = lead_list(viewer, f"field=annual_revenue&value={raw}")

    assert response.status_code == 200
    assert response.context["form"].errors["value"]
    assert response.context["count"] == len(leads)


@pytest.mark.parametrize("raw", ["0001-01-01", "9999-12-31", "2024-02-30", "yesterday"])
def test_a_date_filter_off_the_calendar_is_refused_at_the_value_field(
    viewer: Any, leads: list[Lead], raw: str
) -> None:
    response = lead_list(viewer, f"field=created_at&value={raw}")

    assert response.context["form"].errors["value"] == ["Enter a valid date."]


def test_an_unknown_filter_field_is_refused_at_the_field(viewer: Any, leads: list[Lead]) -> None:
    response = lead_list(viewer, "field=%00&value=1")

    assert response.context["form"].errors["field"] == ["Choose a field from the list."]


def test_a_huge_page_of_a_backtests_leads_shows_its_last_page(
    admin: Any, workshop: Workshop
) -> None:
    from feedback.backtests import services as backtest_services

    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=version, enqueue=False
    )
    url = reverse("feedback:run_leads", args=["acme", run.pk]) + "?page=1000000000000000000"

    response = logged_in(admin).get(url)

    assert response.status_code == 200 and response.context["page"] == 1


def test_the_queue_ignores_a_source_that_is_not_one_of_its_options(
    rep: Any, workshop: Workshop
) -> None:
    url = reverse("feedback:feedback_queue", args=["acme"]) + "?source=web%00&page=" + "9" * 30
    response = logged_in(rep).get(url)

    assert response.status_code == 200 and response.context["source"] == ""


def test_a_version_compare_with_non_ascii_digits_compares_nothing(
    viewer: Any, workshop: Workshop, admin: Any
) -> None:
    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    url = reverse("definitions:version_history", args=["acme"]) + "?a=%C2%B2&b=1"

    response = logged_in(viewer).get(url)

    assert response.status_code == 200 and response.context["compare"] is None


def test_whole_numbers_are_ascii_digits_within_bigint() -> None:
    assert whole_number("42") == 42
    assert [whole_number(raw) for raw in ("²", "\u0661", "-1", "1e3", " 1", "9" * 19, None)] == [
        None
    ] * 7
    assert page_number("9" * 5000) == page_number("10000000") == MAX_PAGE
    assert page_number("x") == page_number("0") == page_number(None) == 1


# ------------------------------------------------------------ definition documents

HUGE_MQL = json.dumps({**rules.WORKED_EXAMPLE, "stages": {"mql": "@", "sql": 1}}).replace(
    '"@"', "9" * 5000
)


def test_a_5000_digit_integer_on_the_command_line_exits_2_naming_its_path(
    workshop: Workshop, tmp_path: Path
) -> None:
    path = tmp_path / "huge.json"
    path.write_text(HUGE_MQL)
    err = StringIO()

    with pytest.raises(CommandError) as info:
        call_command("definition_import", "--workshop", "acme", str(path), stderr=err)

    assert info.value.returncode == 2
    assert err.getvalue().startswith("stages.mql: This number is written with 5000 characters")
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("how", ["text", "file"])
def test_a_5000_digit_integer_in_the_import_form_is_an_error_at_its_field(
    admin: Any, workshop: Workshop, how: str
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    data: dict[str, Any] = (
        {"text": HUGE_MQL}
        if how == "text"
        else {"file": SimpleUploadedFile("d.json", HUGE_MQL.encode(), "application/json")}
    )
    response = logged_in(admin).post(
        reverse("definitions:draft_import", args=["acme"]), {"title": "x", **data}
    )

    assert response.status_code == 400
    [error] = response.context["form"].errors[how]
    assert error.startswith("stages.mql: This number is written with 5000 characters")
    assert not Proposal.objects.exists()
