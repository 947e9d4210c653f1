"""The lead list's search finds a lead by its CRM external id and by any custom text
field, whether the lead came from a file, the API or the generator, and the SQL that
writes the search text agrees with the Python that does."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from api import services as api_services
from definitions.catalog import services as catalog_services
from definitions.models import Workshop
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated, search_text
from feedback.models import Lead
from tests.api.conftest import Api
from tests.factories import logged_in
from tests.feedback.imports.test_imports import run

pytestmark = pytest.mark.django_db

FILE = (
    "Prospect ID,Lead Name,Email,Motto\n"
    "CRM-0077,Anna Rossi,anna@x.example,Innovate Daily\n"
    "CRM-0078,Bob Stone,bob@y.example,Measure twice\n"
)


def found(user: Any, term: str) -> set[str]:
    page = logged_in(user).get(reverse("feedback:lead_list", args=["acme"]), {"q": term})
    assert page.status_code == 200
    return {lead.external_id for lead in page.context["leads"]}


def test_an_imported_lead_is_found_by_its_external_id_and_a_custom_text(
    admin: Any, workshop: Workshop
) -> None:
    job = run(admin, workshop, FILE.encode())
    assert job.imported == 2, job.error_report
    assert found(admin, "crm-0077") == {"CRM-0077"}
    assert found(admin, "INNOVATE") == {"CRM-0077"}
    # Re-importing with another motto: the search follows the value.
    run(admin, workshop, FILE.replace("Innovate Daily", "Ship it").encode())
    assert found(admin, "innovate") == set()
    assert found(admin, "ship it") == {"CRM-0077"}


def test_an_api_lead_is_found_by_its_external_id_and_a_custom_text(
    admin: Any, workshop: Workshop
) -> None:
    _key, token = api_services.api_key_create(actor=admin, workshop=workshop, name="CRM")
    catalog_services.custom_field_add(
        actor=admin, workshop=workshop, key="motto", label="Motto", type="text",
        category="firmographic",
    )  # fmt: skip
    response = Api(token).put("/leads/SF-9", {"name": "Ann", "custom": {"motto": "Quality first"}})
    assert response.status_code == 201, response.content
    assert found(admin, "sf-9") == {"SF-9"}
    assert found(admin, "quality first") == {"SF-9"}


def test_a_generated_lead_is_found_by_its_external_id(admin: Any, workshop: Workshop) -> None:
    leads_insert_generated(workshop=workshop, leads=generate(20, seed=1))
    some = Lead.objects.filter(workshop=workshop).first()
    assert some is not None
    assert some.external_id in found(admin, some.external_id.lower())


def test_the_migration_writes_the_same_search_text_as_the_services(
    workshop: Workshop,
) -> None:
    custom = {"motto": "Innovate Daily", "seats": 12.5, "vip": True}
    lead = Lead.objects.create(
        workshop=workshop, external_id="X-1", name="Zoë", email="z@x.example",
        company="Acme", custom=custom, search_text="stale",
    )  # fmt: skip
    migration = importlib.import_module("feedback.migrations.0012_search_external_id_and_custom")
    migration.refresh_search_text(apps, connection.schema_editor())
    lead.refresh_from_db()
    assert lead.search_text == search_text("Zoë", "z@x.example", "Acme", "X-1", custom)
