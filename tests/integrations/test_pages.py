"""The webhooks and chat pages: admins only (outsiders 404, other members 403), the
secret shown once, the delivery list, errors at the field that caused them."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from definitions.models import Workshop
from integrations import secrets, services
from integrations.models import ChatSettings, DeliveryState, WebhookDelivery, WebhookEndpoint
from tests.factories import logged_in
from tests.htmlcheck import assert_inert
from tests.integrations.conftest import Receiver

pytestmark = pytest.mark.django_db

LIST = reverse("integrations:webhook_list", args=["acme"])
CHAT = reverse("integrations:chat_settings", args=["acme"])


def test_an_admin_adds_an_endpoint_and_sees_its_secret_exactly_once(
    admin: Any, workshop: Workshop, loopback_allowed: Any
) -> None:
    client = logged_in(admin)
    response = client.post(
        LIST,
        {
            "url": "http://127.0.0.1:9/hook",
            "description": "CRM",
            "events": ["version.published", "proposal.opened"],
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret in response.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["version.published", "proposal.opened"]
    assert secrets.decrypt(endpoint.secret_encrypted) == secret
    again = client.get(LIST).content.decode()
    assert secret not in again and "http://127.0.0.1:9/hook" in again
    detail = client.get(reverse("integrations:webhook_detail", args=["acme", endpoint.pk]))
    assert secret not in detail.content.decode()
    assert endpoint.secret_hint in detail.content.decode()


def test_a_bad_endpoint_is_refused_at_its_field_and_nothing_is_saved(
    admin: Any, workshop: Workshop
) -> None:
    client = logged_in(admin)
    response = client.post(LIST, {"url": "https://10.1.2.3/hook", "events": ["import.finished"]})
    assert response.status_code == 400
    assert "only public addresses can receive events" in str(response.context["form"].errors["url"])
    response = client.post(LIST, {"url": "https://93.184.216.34/x", "events": []})
    assert response.status_code == 400
    assert "Choose at least one event." in str(response.context["form"].errors["events"])
    response = client.post(LIST, {"url": "https://93.184.216.34/x", "events": ["nope"]})
    assert response.status_code == 400
    assert not WebhookEndpoint.objects.exists()


def test_the_endpoint_page_lists_deliveries_with_status_code_and_attempts(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    endpoint, _secret = services.endpoint_create(
        actor=admin,
        workshop=workshop,
        url=receiver.url,
        description="<script>alert(1)</script>",
        events=["version.published"],
    )
    receiver.statuses = [500]
    services.webhooks_fan_out("version.published", workshop_id=workshop.pk, data={"version": 3})
    delivery = WebhookDelivery.objects.get()
    services.delivery_attempt(delivery.pk, 1)
    client = logged_in(admin)
    page = client.get(reverse("integrations:webhook_detail", args=["acme", endpoint.pk]))
    html = page.content.decode()
    row = html[html.index(f'id="delivery-{delivery.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Retrying" in row and "500" in row and str(delivery.event_id) in row
    assert "<td>1</td>" in row  # attempts
    listing = client.get(LIST).content.decode()
    assert_inert(listing)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
    # Switch off and on again, then delete.
    url = reverse("integrations:webhook_detail", args=["acme", endpoint.pk])
    client.post(url, {"action": "disable"})
    endpoint.refresh_from_db()
    assert not endpoint.active
    client.post(url, {"action": "enable"})
    endpoint.refresh_from_db()
    assert endpoint.active
    client.post(reverse("integrations:webhook_delete", args=["acme", endpoint.pk]))
    assert not WebhookEndpoint.objects.exists()
    assert delivery.state == DeliveryState.PENDING  # the row as read before: it is gone now


def test_editing_an_endpoint_checks_its_url_again(
    admin: Any, workshop: Workshop, loopback_allowed: Any
) -> None:
    endpoint, _secret = services.endpoint_create(
        actor=admin,
        workshop=workshop,
        url="http://127.0.0.1:9/",
        description="",
        events=["version.published"],
    )
    loopback_allowed.INTEGRATIONS_ALLOW_PRIVATE_ADDRESSES = False
    url = reverse("integrations:webhook_detail", args=["acme", endpoint.pk])
    response = logged_in(admin).post(
        url, {"action": "update", "url": "http://127.0.0.2:9/", "events": ["version.published"]}
    )
    assert response.status_code == 400
    assert "only public addresses" in str(response.context["form"].errors["url"])
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:9/"


def test_only_admins_reach_the_integrations_pages(
    admin: Any, marketer: Any, outsider: Any, workshop: Workshop, loopback_allowed: Any
) -> None:
    endpoint, _secret = services.endpoint_create(
        actor=admin,
        workshop=workshop,
        url="http://127.0.0.1:9/",
        description="",
        events=["version.published"],
    )
    pages = [
        LIST,
        CHAT,
        reverse("integrations:webhook_detail", args=["acme", endpoint.pk]),
        reverse("integrations:webhook_delete", args=["acme", endpoint.pk]),
    ]
    for page in pages:
        assert logged_in(outsider).get(page).status_code == 404, page
        assert logged_in(marketer).get(page).status_code == 403, page
        assert logged_in(admin).get(page).status_code == 200, page
    assert logged_in(marketer).post(pages[3]).status_code == 403
    assert WebhookEndpoint.objects.exists()
    # The outsider's own workshop cannot reach acme's endpoint by its id.
    other = reverse("integrations:webhook_detail", args=["other", endpoint.pk])
    assert logged_in(outsider).get(other).status_code == 404


def test_the_chat_page_saves_the_language_and_urls_without_showing_them(
    admin: Any, workshop: Workshop, receiver: Receiver, loopback_allowed: Any
) -> None:
    client = logged_in(admin)
    response = client.post(
        CHAT,
        {"language": "ja", "slack_url": receiver.url + "/T0/B0/secret-part", "teams_url": ""},
    )
    assert response.status_code == 302
    chat = ChatSettings.objects.get()
    assert chat.language == "ja" and chat.slack_url_encrypted and not chat.teams_url_encrypted
    html = client.get(CHAT).content.decode()
    assert "secret-part" not in html and "posting to 127.0.0.1:" in html
    # A bad URL: the message at its field, nothing changed.
    loopback_allowed.INTEGRATIONS_ALLOW_PRIVATE_ADDRESSES = False
    response = client.post(CHAT, {"language": "it", "teams_url": "https://192.168.0.4/x"})
    assert response.status_code == 400
    assert "only public addresses" in str(response.context["form"].errors["teams_url"])
    assert ChatSettings.objects.get().language == "ja"
    # Removing one.
    client.post(CHAT, {"language": "ja", "slack_remove": "on"})
    assert not ChatSettings.objects.get().slack_url_encrypted
