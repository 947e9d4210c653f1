"""Garbage in, 422 out: every invalid value answered with its path, nothing written,
and nothing (NaN, NUL, lone surrogates, huge strings, deep nesting) reaches a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from definitions.catalog import services as catalog_services
from definitions.models import Workshop
from feedback.models import Lead, LeadActivity
from tests.api.conftest import Api, locs

pytestmark = pytest.mark.django_db


@pytest.fixture
def custom_fields(admin: Any, workshop: Workshop) -> None:
    for key, type_, choices in (
        ("budget_eur", "number", None),
        ("tier", "choice", ["gold", "silver"]),
        ("partner", "boolean", None),
        ("notes", "text", None),
        ("first_call", "date", None),
    ):
        catalog_services.custom_field_add(
            actor=admin,
            workshop=workshop,
            key=key,
            label=key,
            type=type_,
            category="demographic",
            choices=choices,
        )


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"employees": "12"}, ["body", "employees"]),
        ({"employees": True}, ["body", "employees"]),
        ({"converted": 1}, ["body", "converted"]),
        ({"converted": "yes"}, ["body", "converted"]),
        ({"company": 12}, ["body", "company"]),
        ({"name": ["Ann"]}, ["body", "name"]),
        ({"created_at": 1700000000}, ["body", "created_at"]),
        ({"created_at": "yesterday"}, ["body", "created_at"]),
        ({"created_at": "2024-02-30"}, ["body", "created_at"]),
        ({"closed_at": "0001-01-01T00:00:00+01:00"}, ["body", "closed_at"]),
        ({"source": "carrier pigeon"}, ["body", "source"]),
        ({"seniority": "VP"}, ["body", "seniority"]),
        ({"budgett": "confirmed"}, ["body", "budgett"]),
        ({"external_id": "X"}, ["body", "external_id"]),
        ({"employees": 1e16}, ["body", "employees"]),
        ({"employees": 10**400}, ["body", "employees"]),
        ({"custom": []}, ["body", "custom"]),
        ({"custom": {"Bad Key": 1}}, ["body", "custom", "Bad Key", "[key]"]),
        ({"custom": {"x": {"nested": 1}}}, ["body", "custom", "x"]),
    ],
)
def test_a_value_of_the_wrong_type_or_an_unknown_field_gets_422_with_its_path(
    acme: Api, body: dict[str, Any], loc: list[Any]
) -> None:
    assert loc in locs(acme.put("/leads/L1", body))
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("custom", "type_"),
    [
        ({"budget_eur": "25000"}, "number_type"),
        ({"budget_eur": True}, "number_type"),
        ({"budget_eur": 1e300}, "number_range"),
        ({"tier": "platinum"}, "enum"),
        ({"tier": "GOLD"}, "enum"),
        ({"partner": "yes"}, "bool_type"),
        ({"notes": 5}, "string_type"),
        ({"first_call": "soon"}, "datetime_parsing"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"company": "Acme"}, "builtin_in_custom"),
    ],
)
def test_custom_values_are_checked_against_the_workshops_catalog(
    acme: Api, custom_fields: None, custom: dict[str, Any], type_: str
) -> None:
    response = acme.put("/leads/L1", {"custom": custom})
    [key] = custom
    assert locs(response) == [["body", "custom", key]]
    assert response.json()["detail"][0]["type"] == type_
    assert response.json()["detail"][0]["msg"]


def test_a_batch_reports_every_problem_with_its_index(acme: Api, custom_fields: None) -> None:
    response = acme.post(
        "/leads",
        {
            "leads": [
                {"external_id": "A", "name": "ok"},
                {"external_id": "B", "custom": {"tier": "bronze"}},
                {"external_id": "C", "employees": "many"},
                {"external_id": "D", "custom": {"budget_eur": "x"}, "bogus": 1},
            ]
        },
    )
    assert sorted(map(str, locs(response))) == sorted(
        map(
            str,
            [
                ["body", "leads", 2, "employees"],
                ["body", "leads", 3, "bogus"],
            ],
        )
    )
    # Catalog checks run once the schema is satisfied, on the same paths.
    response = acme.post(
        "/leads",
        {
            "leads": [
                {"external_id": "A", "name": "ok"},
                {"external_id": "B", "custom": {"tier": "bronze"}},
                {"external_id": "D", "custom": {"budget_eur": "x"}},
            ]
        },
    )
    assert locs(response) == [
        ["body", "leads", 1, "custom", "tier"],
        ["body", "leads", 2, "custom", "budget_eur"],
    ]
    assert not Lead.objects.exists()


def test_batch_size_is_one_to_a_thousand(acme: Api) -> None:
    too_many = {"leads": [{"external_id": f"L{i}"} for i in range(1001)]}
    assert locs(acme.post("/leads", too_many)) == [["body", "leads"]]
    assert acme.post("/leads", too_many).json()["detail"][0]["type"] == "too_long"
    assert locs(acme.post("/leads", {"leads": []})) == [["body", "leads"]]
    assert locs(acme.post("/leads", {})) == [["body", "leads"]]
    assert not Lead.objects.exists()


def test_the_same_external_id_twice_in_a_batch_gets_422_on_the_second(acme: Api) -> None:
    response = acme.post(
        "/leads",
        {"leads": [{"external_id": "A"}, {"external_id": "B"}, {"external_id": "A"}]},
    )
    assert locs(response) == [["body", "leads", 2, "external_id"]]
    assert response.json()["detail"][0]["type"] == "duplicate"
    assert not Lead.objects.exists()


def test_a_batch_item_needs_an_external_id(acme: Api) -> None:
    response = acme.post("/leads", {"leads": [{"name": "No id"}, {"external_id": ""}]})
    assert locs(response) == [
        ["body", "leads", 0, "external_id"],
        ["body", "leads", 1, "external_id"],
    ]


def test_an_unknown_activity_kind_or_a_bad_time_gets_422(acme: Api) -> None:
    acme.put("/leads/L1", {})
    response = acme.post(
        "/leads/L1/activities",
        {
            "activities": [
                {"kind": "page_view", "at": "2024-01-01T00:00:00Z"},
                {"kind": "telepathy", "at": "2024-01-01T00:00:00Z"},
                {"kind": "page_view", "at": "not a time"},
            ]
        },
    )
    assert locs(response) == [["body", "activities", 2, "at"]]
    response = acme.post(
        "/leads/L1/activities",
        {
            "activities": [
                {"kind": "page_view", "at": "2024-01-01T00:00:00Z"},
                {"kind": "telepathy", "at": "2024-01-01T00:00:00Z"},
            ]
        },
    )
    assert locs(response) == [["body", "activities", 1, "kind"]]
    assert response.json()["detail"][0]["type"] == "unknown_kind"
    assert locs(acme.post("/leads/L1/activities", {"activities": []})) == [["body", "activities"]]
    assert locs(acme.post("/leads/L1/activities", {"activities": [{"kind": "page_view"}]})) == [
        ["body", "activities", 0, "at"]
    ]
    assert not LeadActivity.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        '{"employees": NaN}',
        '{"employees": Infinity}',
        '{"employees": -Infinity}',
        '{"custom": {"budget": NaN}}',
        "not json",
        '{"name": "unterminated',
        "\x00",
        b"\xff\xfe\x00garbage",
        '{"name": "\\ud800"}',
        '{"name": "\\udfff x"}',
        "[" * 100_000 + "]" * 100_000,
        '{"employees": 1' + "0" * 5000 + "}",
    ],
)
def test_a_body_that_is_not_strict_json_gets_422_at_the_body(acme: Api, raw: str | bytes) -> None:
    response = acme.put("/leads/L1", raw=raw)
    assert locs(response) == [["body"]]
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert not Lead.objects.exists()


@pytest.mark.parametrize("body", [[], "a string", 5, None])
def test_a_body_that_is_not_an_object_gets_422(acme: Api, body: Any) -> None:
    response = acme.put("/leads/L1", raw=json.dumps(body))
    assert locs(response) == [["body"]]


def test_an_empty_body_gets_422(acme: Api) -> None:
    assert locs(acme.put("/leads/L1")) == [["body"]]
    assert locs(acme.post("/leads")) == [["body"]]


def test_a_nul_character_is_refused_anywhere(acme: Api, custom_fields: None) -> None:
    for body, loc in (
        ({"name": "Ann\x00"}, ["body", "name"]),
        ({"company": "\x00"}, ["body", "company"]),
        ({"custom": {"notes": "a\x00b"}}, ["body", "custom", "notes"]),
    ):
        response = acme.put("/leads/L1", body)
        assert loc in locs(response), body
        assert any("NUL" in e["msg"] for e in response.json()["detail"])
    assert locs(acme.put("/leads/L1", {"custom": {"no\x00te": "x"}})) == [
        ["body", "custom", "no\x00te", "[key]"]
    ]
    assert locs(acme.post("/leads", {"leads": [{"external_id": "a\x00b"}]})) == [
        ["body", "leads", 0, "external_id"]
    ]
    assert locs(acme.get("/leads/a%00b")) == [["path", "external_id"]]
    assert locs(acme.put("/leads/a%00b", {})) == [["path", "external_id"]]
    assert not Lead.objects.exists()


def test_ten_thousand_character_strings_are_refused_not_truncated(
    acme: Api, custom_fields: None
) -> None:
    long = "x" * 10_000
    for body, loc in (
        ({"name": long}, ["body", "name"]),
        ({"job_title": long}, ["body", "job_title"]),
        ({"custom": {"notes": long}}, ["body", "custom", "notes"]),
    ):
        assert loc in locs(acme.put("/leads/L1", body)), loc
    assert locs(acme.get("/leads/" + long)) == [["path", "external_id"]]
    assert locs(acme.post("/leads", {"leads": [{"external_id": long}]})) == [
        ["body", "leads", 0, "external_id"]
    ]
    assert not Lead.objects.exists()


def test_texts_at_their_column_length_and_any_unicode_are_stored(acme: Api) -> None:
    body = {"name": "ñ" * 200, "company": "株式会社" * 75, "job_title": "🚀 Head of QA ✓"}
    assert acme.put("/leads/" + "é" * 200, body).status_code == 201
    lead = Lead.objects.get()
    assert (lead.name, lead.company, lead.job_title) == (
        body["name"],
        body["company"],
        body["job_title"],
    )


def test_a_naive_time_is_taken_as_utc_and_dates_in_any_iso_form_are_read(acme: Api) -> None:
    for raw, expected in (
        ("2024-05-01T10:00:00", "2024-05-01T10:00:00Z"),
        ("2024-05-01t10:00:00z", "2024-05-01T10:00:00Z"),
        ("2024-05-01", "2024-05-01T00:00:00Z"),
        ("2024-05-01T12:00:00.5+02:00", "2024-05-01T10:00:00.500Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
    ):
        response = acme.put("/leads/L1", {"created_at": raw})
        assert response.json()["created_at"] == expected, raw


def test_a_body_over_the_upload_limit_gets_413_as_json(acme: Api, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = acme.post("/leads", {"leads": [{"external_id": "x" * 100, "name": "n" * 150}] * 8})
    assert response.status_code == 413
    assert response.json()["detail"]
    assert not Lead.objects.exists()


def test_an_undocumented_method_gets_405(acme: Api) -> None:
    assert acme.call("delete", "/leads/L1").status_code == 405
    assert acme.call("patch", "/leads/L1", {}).status_code == 405
