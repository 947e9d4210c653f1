"""The API keys page: admins create keys (shown once, stored hashed) and revoke them."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from api import keys, services
from api.models import ApiKey
from definitions.models import AuditLogEntry, Workshop
from tests.api.conftest import Api
from tests.factories import logged_in
from tests.htmlcheck import assert_inert

pytestmark = pytest.mark.django_db

LIST = reverse("api:key_list", args=["acme"])


def test_an_admin_creates_a_key_and_sees_it_exactly_once(admin: Any, workshop: Workshop) -> None:
    client = logged_in(admin)
    response = client.post(LIST, {"name": "HubSpot sync"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = response.context["token"]
    html = response.content.decode()
    assert token in html and "will not be shown again" in html

    key = ApiKey.objects.get()
    assert (key.workshop, key.name, key.created_by) == (workshop, "HubSpot sync", admin)
    assert key.digest == keys.digest(token) and token not in (key.prefix, key.digest)
    # The key works, and the page never shows it again.
    assert Api(token).get("/leads/x").status_code == 404
    again = client.get(LIST).content.decode()
    assert token not in again and token.split("_", 2)[2] not in again
    assert f"lw_{key.prefix}_" in again and "HubSpot sync" in again


def test_creating_a_key_is_in_the_workshop_history(admin: Any, workshop: Workshop) -> None:
    key, _token = services.api_key_create(actor=admin, workshop=workshop, name="Zapier")
    services.api_key_revoke(actor=admin, key=key)
    assert list(
        AuditLogEntry.objects.filter(action__startswith="api.")
        .values_list("action", flat=True)
        .order_by("id")
    ) == ["api.key.created", "api.key.revoked"]
    html = logged_in(admin).get(reverse("definitions:workshop_history", args=["acme"])).content
    text = html.decode()
    assert "created the API key “Zapier”" in text and "revoked the API key “Zapier”" in text


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 101, "at most 100"),
    ],
)
def test_a_key_needs_a_name_of_at_most_100_characters(
    admin: Any, workshop: Workshop, name: str, error: str
) -> None:
    response = logged_in(admin).post(LIST, {"name": name})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert response.context["form"].errors["name"]
    assert response.context["token"] is None
    assert not ApiKey.objects.exists()


def test_revoking_asks_first_and_then_refuses_the_key(admin: Any, workshop: Workshop) -> None:
    key, token = services.api_key_create(actor=admin, workshop=workshop, name="Old script")
    url = reverse("api:key_revoke", args=["acme", key.pk])
    client = logged_in(admin)
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Old script" in confirm.content.decode()
    assert ApiKey.objects.get().revoked_at is None  # a GET changes nothing

    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == LIST
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_by == admin
    assert Api(token).get("/leads/x").status_code == 401
    page = client.get(LIST).content.decode()
    assert "Revoked" in page
    assert client.post(url).status_code == 302  # twice: told, not an error page
    assert "already revoked" in client.get(LIST).content.decode()


def test_the_list_shows_an_empty_state_that_explains_keys_and_links_the_docs(
    admin: Any, workshop: Workshop
) -> None:
    html = logged_in(admin).get(LIST).content.decode()
    assert "No API keys yet." in html
    assert reverse("api-v1:openapi-view") in html


def test_the_workshop_nav_links_the_keys_page_for_admins_only(admin: Any, viewer: Any) -> None:
    home = reverse("definitions:workshop_home", args=["acme"])
    assert LIST in logged_in(admin).get(home).content.decode()
    assert LIST not in logged_in(viewer).get(home).content.decode()


@pytest.mark.parametrize("who", ["marketer", "rep", "viewer"])
def test_members_who_may_not_import_get_403(
    who: str, request: Any, admin: Any, workshop: Workshop
) -> None:
    user = request.getfixturevalue(who)
    key, _token = services.api_key_create(actor=admin, workshop=workshop, name="K")
    client = logged_in(user)
    assert client.get(LIST).status_code == 403
    assert client.post(LIST, {"name": "Mine"}).status_code == 403
    assert client.post(reverse("api:key_revoke", args=["acme", key.pk])).status_code == 403
    assert ApiKey.objects.get().revoked_at is None and ApiKey.objects.count() == 1


def test_outsiders_get_404_and_a_key_id_of_another_workshop_is_404(
    admin: Any, outsider: Any, workshop: Workshop
) -> None:
    theirs, _token = services.api_key_create(
        actor=outsider, workshop=Workshop.objects.get(slug="other"), name="Theirs"
    )
    assert logged_in(outsider).get(LIST).status_code == 404
    # acme's admin cannot reach the other workshop's key through acme's URL.
    url = reverse("api:key_revoke", args=["acme", theirs.pk])
    assert logged_in(admin).post(url).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_a_key_name_is_shown_as_text(admin: Any, workshop: Workshop) -> None:
    name = '<script>alert(1)</script><img src=x onerror=alert(2)>"'
    client = logged_in(admin)
    created = client.post(LIST, {"name": name[:100]})
    assert_inert(created.content.decode())
    key = ApiKey.objects.get()
    for url in (
        LIST,
        reverse("api:key_revoke", args=["acme", key.pk]),
        reverse("definitions:workshop_history", args=["acme"]),
    ):
        html = client.get(url).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
        assert_inert(html)
    client.post(reverse("api:key_revoke", args=["acme", key.pk]))
    assert_inert(client.get(LIST).content.decode())  # the "revoked" message too


def test_active_keys_are_listed_first_newest_first(admin: Any, workshop: Workshop) -> None:
    from api.selectors import api_keys_of

    services.api_key_create(actor=admin, workshop=workshop, name="old")
    gone, _token = services.api_key_create(actor=admin, workshop=workshop, name="gone")
    services.api_key_create(actor=admin, workshop=workshop, name="new")
    services.api_key_revoke(actor=admin, key=gone)
    assert [k.name for k in api_keys_of(workshop)] == ["new", "old", "gone"]
