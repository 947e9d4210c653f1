"""Random input, property-tested: every answer is one the OpenAPI document lists for
the operation, with a body that matches its schema; never a 500. (A later issue runs
schemathesis against the served document; this keeps the basics in every test run.)"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from definitions import rules
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=int(os.environ.get("API_FUZZ_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and ±inf too: they must not get through
    | st.text(max_size=30)
    | st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01", "vp", "webinar", "", "\x00"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
field_names = st.sampled_from(
    ["name", "email", "custom", "external_id", *(s.key for s in rules.BUILTIN_FIELDS)]
) | st.text(max_size=12)
lead_bodies = st.dictionaries(field_names, json_values, max_size=6)
external_ids = st.text(max_size=220)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from api.api import api

    # As served: through JSON, so status codes are strings as in the file.
    schema: dict[str, Any] = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/")))
    return schema


def _check(document: dict[str, Any], response: Any, path: str, method: str) -> None:
    assert response.status_code < 500, response.content[:300]
    documented = document["paths"][path][method]["responses"]
    assert str(response.status_code) in documented, (response.status_code, response.content[:300])
    schema = documented[str(response.status_code)]["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": document["components"]}).validate(response.json())


@FUZZ
@given(external_id=external_ids, body=json_values | lead_bodies)
def test_put_answers_only_what_it_documents(
    acme: Api, document: dict[str, Any], external_id: str, body: Any
) -> None:
    try:
        raw = json.dumps(body)
    except ValueError:
        return
    response = acme.put("/leads/" + quote(external_id, safe=""), raw=raw)
    if external_id.endswith("/activities"):
        return  # another URL (documented in docs/api.md)
    _check(document, response, "/api/v1/leads/{external_id}", "put")


@FUZZ
@given(items=st.lists(lead_bodies, max_size=4), envelope=st.booleans())
def test_a_batch_answers_only_what_it_documents(
    acme: Api, document: dict[str, Any], items: list[Any], envelope: bool
) -> None:
    body = {"leads": items} if envelope else items
    response = acme.post("/leads", raw=json.dumps(body))
    _check(document, response, "/api/v1/leads", "post")


@FUZZ
@given(
    activities=st.lists(
        st.dictionaries(st.sampled_from(["kind", "at"]) | st.text(max_size=5), json_values),
        max_size=4,
    )
)
def test_activities_answer_only_what_they_document(
    acme: Api, document: dict[str, Any], activities: list[Any]
) -> None:
    acme.put("/leads/FUZZ", {})
    response = acme.post("/leads/FUZZ/activities", raw=json.dumps({"activities": activities}))
    _check(document, response, "/api/v1/leads/{external_id}/activities", "post")


@FUZZ
@given(raw=st.binary(max_size=200), external_id=external_ids)
def test_any_bytes_and_any_id_never_break_the_api(
    acme: Api, document: dict[str, Any], raw: bytes, external_id: str
) -> None:
    segment = quote(external_id, safe="")
    if not external_id.endswith("/activities"):
        _check(document, acme.get("/leads/" + segment), "/api/v1/leads/{external_id}", "get")
        _check(
            document, acme.put("/leads/" + segment, raw=raw), "/api/v1/leads/{external_id}", "put"
        )
    _check(document, acme.post("/leads", raw=raw), "/api/v1/leads", "post")


def test_the_documented_401_is_what_a_keyless_call_gets(document: dict[str, Any]) -> None:
    _check(document, Client().get("/api/v1/leads/x"), "/api/v1/leads/{external_id}", "get")
