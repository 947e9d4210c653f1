"""The OpenAPI document: public, valid, honest about every answer; the docs page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from api import schemas
from definitions import rules
from integrations.events import WEBHOOK_EVENTS
from tests.factories import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def document() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")  # no login, no key
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    schema: dict[str, Any] = response.json()
    return schema


def test_the_openapi_document_is_public_and_validates(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)
    assert set(document["paths"]) == {
        "/api/v1/leads",
        "/api/v1/leads/{external_id}",
        "/api/v1/leads/{external_id}/activities",
        "/api/v1/workshops/{slug}/classify",
        "/api/v1/verdicts",
        "/api/v1/versions",
        "/api/v1/versions/{number}",
        "/api/v1/proposals",
        "/api/v1/proposals/{proposal_id}",
        "/api/v1/accuracy",
    }


def test_every_operation_documents_its_errors_with_schemas(document: dict[str, Any]) -> None:
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) == 11
    for path, method, operation in operations:
        codes = set(operation["responses"])
        assert {"401", "422"} <= codes, (path, method)
        reads_one = path.endswith(("{number}", "{proposal_id}", "/accuracy"))
        if ("{external_id}" in path and method != "put") or "{slug}" in path or reads_one:
            assert "404" in codes, (path, method)
        for code, response in operation["responses"].items():
            assert "application/json" in response["content"], (path, method, code)
        assert operation["security"] == [{"ApiKeyAuth": []}]
    put = document["paths"]["/api/v1/leads/{external_id}"]["put"]["responses"]
    assert {"200", "201"} <= set(put)
    error = document["components"]["schemas"]["ErrorItem"]
    assert set(error["required"]) == {"loc", "msg", "type"}
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"


def test_the_document_describes_every_webhook_event_and_its_signature_headers(
    document: dict[str, Any],
) -> None:
    assert set(document["webhooks"]) == set(WEBHOOK_EVENTS)
    published = document["webhooks"]["version.published"]["post"]
    headers = {p["name"] for p in published["parameters"] if p["in"] == "header"}
    assert headers == {"LeadWorkshop-Signature", "LeadWorkshop-Event-Id", "LeadWorkshop-Event"}
    ref = published["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    envelope = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(envelope["required"]) == {"id", "type", "created_at", "workshop", "data"}
    imported = document["components"]["schemas"]["ImportFinishedData"]
    assert "import" in imported["properties"]


def test_the_request_schema_follows_the_field_catalog(document: dict[str, Any]) -> None:
    """A built-in field added to the catalog must reach the API: LeadFields lists
    every one with the right type and, for choices, exactly the catalog's codes."""
    json_types = {
        "text": "string",
        "choice": "string",
        "number": "number",
        "boolean": "boolean",
        "date": "string",
    }
    properties = document["components"]["schemas"]["LeadIn"]["properties"]
    assert set(properties) == {"name", "email", "custom", *(s.key for s in rules.BUILTIN_FIELDS)}
    for spec in rules.BUILTIN_FIELDS:
        value_schema, null_schema = properties[spec.key]["anyOf"]
        assert null_schema == {"type": "null"}
        assert value_schema["type"] == json_types[spec.type], spec.key
        if spec.type == "choice":
            assert value_schema["enum"] == list(spec.choices), spec.key
        if spec.type == "date":
            assert value_schema["format"] == "date-time"
    assert document["components"]["schemas"]["LeadIn"]["additionalProperties"] is False
    assert set(schemas.LeadFields.model_fields) == set(properties)


def test_the_docs_page_needs_a_login_and_loads_only_our_own_assets(viewer: Any) -> None:
    anonymous = Client().get("/api/v1/docs")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]

    page = logged_in(viewer).get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/api/v1/openapi.json" in html
    assert "cdn." not in html and "https://" not in html
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
