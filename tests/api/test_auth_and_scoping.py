"""Who may call the API: a valid, unrevoked key, for its own workshop only."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from api import keys, services
from api.models import ApiKey
from definitions.models import Workshop
from feedback.models import Lead
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db

LEAD = {"name": "Ann", "company": "Acme"}


def _assert_401(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token lw_0123456789ab_secret",
        "Bearer not-a-key",
        "Bearer lw_zz_secret",
        "Bearer lw_0123456789ab_",
        "Bearer lw_0123456789ab_" + "x" * 500,
    ],
)
def test_a_missing_or_malformed_key_gets_401(header: str | None, token: str) -> None:
    from django.test import Client

    headers = {} if header is None else {"Authorization": header}
    client = Client()
    _assert_401(client.get("/api/v1/leads/x", headers=headers))
    for method, path in (("put", "/leads/x"), ("post", "/leads")):
        response = getattr(client, method)(
            f"/api/v1{path}", data="{}", content_type="application/json", headers=headers
        )
        _assert_401(response)
    assert not Lead.objects.exists()


def test_an_unknown_key_gets_401(token: str) -> None:
    prefix = keys.prefix_of(token)
    assert prefix is not None
    # Right prefix, wrong secret; and a well-formed key nobody made.
    _assert_401(Api(f"lw_{prefix}_{'A' * 43}").get("/leads/x"))
    _assert_401(Api(keys.new_token(keys.new_prefix())).get("/leads/x"))


def test_a_revoked_key_gets_401(admin: Any, acme: Api, token: str) -> None:
    assert acme.put("/leads/L1", LEAD).status_code == 201
    key = ApiKey.objects.get()
    services.api_key_revoke(actor=admin, key=key)
    _assert_401(acme.get("/leads/L1"))
    _assert_401(acme.put("/leads/L1", {"name": "Changed"}))
    assert Lead.objects.get(external_id="L1").name == "Ann"


def test_the_api_needs_no_session_and_ignores_one(acme: Api, admin: Any) -> None:
    from django.test import Client

    assert acme.put("/leads/L1", LEAD).status_code == 201  # no login, no redirect
    client = Client()
    client.force_login(admin)  # a logged-in admin without a key is still refused
    _assert_401(client.get("/api/v1/leads/L1"))


def test_a_key_of_one_workshop_cannot_read_or_change_another_workshops_lead(
    acme: Api, other: Api, other_workshop: Workshop, workshop: Workshop
) -> None:
    assert other.put("/leads/THEIRS", {"name": "Theirs", "budget": "confirmed"}).status_code == 201
    before = Lead.objects.get(workshop=other_workshop, external_id="THEIRS")

    assert acme.get("/leads/THEIRS").status_code == 404
    assert (
        acme.post(
            "/leads/THEIRS/activities",
            {"activities": [{"kind": "demo_request", "at": "2024-05-01T10:00:00Z"}]},
        ).status_code
        == 404
    )
    # Writing the same external id with acme's key makes acme's own lead: B is untouched.
    assert acme.put("/leads/THEIRS", {"name": "Mine"}).status_code == 201
    assert (
        acme.post("/leads", {"leads": [{"external_id": "THEIRS", "need": "none"}]}).json()[
            "updated"
        ]
        == 1
    )

    after = Lead.objects.get(workshop=other_workshop, external_id="THEIRS")
    assert (after.name, after.budget, after.need, after.updated_at) == (
        before.name,
        before.budget,
        before.need,
        before.updated_at,
    )
    assert after.activities.count() == 0
    assert Lead.objects.get(workshop=workshop, external_id="THEIRS").name == "Mine"


def test_a_lead_that_does_not_exist_looks_like_another_workshops(acme: Api, other: Api) -> None:
    other.put("/leads/THEIRS", LEAD)
    hidden, missing = acme.get("/leads/THEIRS"), acme.get("/leads/NOPE")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_the_key_is_stored_hashed_and_its_plaintext_is_nowhere_in_the_database(
    token: str,
) -> None:
    key = ApiKey.objects.get()
    assert key.digest == keys.digest(token) and len(key.digest) == 64
    assert token.startswith(f"lw_{key.prefix}_")
    secret = token.split("_", 2)[2]
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    assert secret not in dump.getvalue()
    assert token not in dump.getvalue()


def test_last_used_is_recorded_at_most_once_a_minute(acme: Api) -> None:
    key = ApiKey.objects.get()
    assert key.last_used_at is None
    acme.get("/leads/x")
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    acme.get("/leads/x")
    assert ApiKey.objects.get().last_used_at == first
    ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
    acme.get("/leads/x")
    later = ApiKey.objects.get().last_used_at
    assert later is not None and later > first - timedelta(seconds=1)
    assert timezone.now() - later < timedelta(seconds=30)


def test_malformed_tokens_are_refused_without_a_query(django_assert_num_queries: Any) -> None:
    from api.access import get_api_key_for_token

    with django_assert_num_queries(0):
        for token in ("", "lw_", "lw_abc_def", "xx_0123456789ab_s", "lw_0123456789AB_s"):
            assert get_api_key_for_token(token) is None
