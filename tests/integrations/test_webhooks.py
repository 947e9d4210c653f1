"""Outbound webhooks delivered to a real HTTP server on loopback: signed, retried with
exponential backoff under one event id, refused for private addresses by default,
switched off after a day of failures; and every event emitted where it happens, once
its transaction commits."""

from __future__ import annotations

import itertools
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from definitions import rules
from definitions.deliberation import services as deliberation_services
from definitions.models import Notification, Workshop
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from integrations import addresses, secrets, services, signing
from integrations.events import WEBHOOK_EVENTS
from integrations.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from leadworkshop.celery import app
from tests.conftest import start_worker, stop_worker
from tests.factories import UserFactory, WorkshopFactory, open_for_vote
from tests.feedback.imports.test_imports import HEADER, ROWS
from tests.feedback.imports.test_imports import run as import_file
from tests.integrations.conftest import Receiver, publish_worked_example

pytestmark = pytest.mark.django_db

ALL_EVENTS = list(WEBHOOK_EVENTS)


def _endpoint(admin: Any, workshop: Workshop, url: str, events: list[str] | None = None) -> Any:
    return services.endpoint_create(
        actor=admin,
        workshop=workshop,
        url=url,
        description="CRM",
        events=events or ["version.published"],
    )


def test_a_published_version_is_delivered_signed_with_the_endpoint_secret(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    endpoint, secret = _endpoint(admin, workshop, receiver.url)
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)

    [request] = receiver.wait_for(1)
    assert request.path == "/hooks/lead-workshop"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    header = request.headers[signing.SIGNATURE_HEADER]
    assert signing.verify(secret, header, request.body, now=int(time.time()))
    assert not signing.verify("whsec_wrong", header, request.body, now=int(time.time()))
    assert not signing.verify(secret, header, request.body + b" ", now=int(time.time()))
    # The signature is HMAC-SHA256 over "<t>.<body>", as docs/webhooks.md shows.
    t = int(header.split(",")[0].removeprefix("t="))
    assert header == f"t={t},v1={signing.signature(secret, t, request.body)}"
    payload = json.loads(request.body)
    assert payload["type"] == "version.published"
    assert request.headers[signing.EVENT_ID_HEADER] == payload["id"]
    assert request.headers[signing.EVENT_HEADER] == "version.published"
    assert payload["workshop"] == {"slug": "acme", "name": "Acme Instruments"}
    assert payload["data"]["version"] == 1
    assert payload["data"]["url"] == "http://127.0.0.1:8000/w/acme/versions/1/"
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.state, delivery.response_code, delivery.attempts) == (
        DeliveryState.DELIVERED,
        200,
        1,
    )


def test_the_secret_is_stored_encrypted_and_readable_only_with_the_key(
    admin: Any, workshop: Workshop, loopback_allowed: Any, settings: Any
) -> None:
    endpoint, secret = _endpoint(admin, workshop, "http://127.0.0.1:9/")
    stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert secret.startswith("whsec_") and len(secret) > 40
    assert secret not in stored.secret_encrypted
    assert stored.secret_hint == secret[:10]
    assert secrets.decrypt(stored.secret_encrypted) == secret
    settings.INTEGRATIONS_SECRET_KEY = "another key"
    with pytest.raises(secrets.SecretUnreadable):
        secrets.decrypt(stored.secret_encrypted)


def test_a_500_is_retried_with_exponential_backoff_under_the_same_event_id(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.statuses = [500, 500, 503]
    endpoint, secret = _endpoint(admin, workshop, receiver.url)
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)

    # Eager tasks retry at once; the countdowns the worker would wait are in the log.
    requests = receiver.wait_for(4)
    assert len({r.headers[signing.EVENT_ID_HEADER] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1
    for request in requests:
        assert signing.verify(
            secret, request.headers[signing.SIGNATURE_HEADER], request.body, now=int(time.time())
        )
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.attempts == 4
    assert delivery.response_code == 200
    assert [entry["retry_in"] for entry in delivery.log] == [30, 60, 120, None]
    assert [entry["code"] for entry in delivery.log] == [500, 500, 503, 200]
    assert str(delivery.event_id) == json.loads(requests[0].body)["id"]


def test_the_backoff_doubles_up_to_its_ceiling() -> None:
    assert [services.retry_delay(n) for n in range(1, 11)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
        3600,
    ]


def test_a_message_for_an_attempt_already_made_sends_nothing_again(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    endpoint, _secret = _endpoint(admin, workshop, receiver.url)
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)
    receiver.wait_for(1)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    # The broker delivering the first attempt's message twice, or the sweep's copy.
    assert services.delivery_attempt(delivery.pk, 1) is None
    assert services.delivery_attempt(delivery.pk, 2) is None  # already delivered
    assert len(receiver.requests) == 1


def test_each_endpoint_gets_the_events_it_chose_and_all_share_one_event_id(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _endpoint(admin, workshop, receiver.url + "/a")
    _endpoint(admin, workshop, receiver.url + "/b")
    _endpoint(admin, workshop, receiver.url + "/c", events=["import.finished"])
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)
    requests = receiver.wait_for(2)
    time.sleep(0.2)
    assert sorted(r.path for r in receiver.requests) == [
        "/hooks/lead-workshop/a",
        "/hooks/lead-workshop/b",
    ]
    assert len({r.headers[signing.EVENT_ID_HEADER] for r in requests}) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.8/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fd00::1]/hook",
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_refused_by_default(
    admin: Any, workshop: Workshop, url: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _endpoint(admin, workshop, url)
    [message] = refused.value.message_dict["url"]
    assert "only public addresses can receive events" in message
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_and_credentials_in_the_url_are_refused_by_default(
    admin: Any, workshop: Workshop
) -> None:
    for url, expected in [
        ("http://hooks.example.com/x", "The URL must start with https://."),
        ("ftp://hooks.example.com/x", "The URL must start with https://."),
        ("https://user:pw@hooks.example.com/x", "must not contain a user name or password"),
        ("https://", "The URL has no host name."),
        ("https://no-such-host.invalid/x", "could not be resolved"),
    ]:
        with pytest.raises(ValidationError) as refused:
            _endpoint(admin, workshop, url)
        assert expected in refused.value.message_dict["url"][0], url


def test_the_loopback_receiver_is_refused_by_default_even_at_delivery_time(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    endpoint, _secret = _endpoint(admin, workshop, receiver.url)
    # Allowed when saved, refused when sent: the check runs again at each delivery, as
    # a name that resolved to a public address may resolve to a private one later.
    loopback_allowed.INTEGRATIONS_ALLOW_PRIVATE_ADDRESSES = False
    loopback_allowed.WEBHOOK_MAX_ATTEMPTS = 3
    with pytest.raises(addresses.AddressRefused):
        addresses.resolve(receiver.url)
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)
    time.sleep(0.2)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.response_code is None
    assert "only public addresses can receive events" in delivery.error
    # Eager tasks retry at once: every attempt was refused, none reached the server.
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, 3)


def test_an_endpoint_failing_for_a_day_is_switched_off_and_its_admins_told(
    admin: Any,
    marketer: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver.statuses = [500] * 5
    endpoint, _secret = _endpoint(admin, workshop, receiver.url)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(hours=24, minutes=1)
    )
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)

    assert len(receiver.wait_for(1)) == 1
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "24 hours" in endpoint.disabled_reason
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.state, delivery.response_code) == (DeliveryState.FAILED, 500)
    [notice] = Notification.objects.filter(verb="webhook.disabled")
    assert notice.recipient == admin  # admins only, not the marketer
    assert notice.url == f"/w/acme/webhooks/{endpoint.pk}/"
    # Switched off, it is sent nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        deliberation_services.policy_update(
            actor=admin,
            workshop=workshop,
            quorum_percent=0,
            required_departments=[],
            majority_percent=0,
            block_vetoes=False,
            default_voting_days=7,
        )
        version_services.version_publish_document(
            actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
        )
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
    # An admin switches it on again; its failure clock starts afresh.
    services.endpoint_enable(actor=admin, endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is None


def test_a_success_resets_the_failure_clock(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    receiver.statuses = [500]
    endpoint, _secret = _endpoint(admin, workshop, receiver.url)
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)
    receiver.wait_for(2)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is None


def test_a_rolled_back_publish_announces_nothing(
    admin: Any, workshop: Workshop, receiver: Receiver, loopback_allowed: Any
) -> None:
    _endpoint(admin, workshop, receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        version_services.version_publish_document(
            actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
        )
        raise RuntimeError("the caller failed after publishing")
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_the_proposal_lifecycle_import_and_backtest_emit_their_events(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _endpoint(admin, workshop, receiver.url, events=ALL_EVENTS)
    # The leads are there before publishing: publishing queues the new version's
    # backtest at once, and the backtest below is that run.
    leads_insert_generated(workshop=workshop, leads=generate(30, seed=5))
    with django_capture_on_commit_callbacks(execute=True):
        proposal = open_for_vote(admin, workshop, title="Stricter BANT")
    deliberation_services.vote_cast(actor=admin, proposal=proposal, choice="agree")
    with django_capture_on_commit_callbacks(execute=True):
        deliberation_services.proposal_close(actor=admin, proposal=proposal)
    proposal.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        version = version_services.version_publish(actor=admin, proposal=proposal)
    with django_capture_on_commit_callbacks(execute=True):
        run = backtest_services.backtest_start(
            actor=admin, workshop=workshop, version=version, enqueue=False
        )
    with django_capture_on_commit_callbacks(execute=True):
        backtest_services.backtest_run_inline(run)

    requests = receiver.wait_for(6)
    events = [json.loads(r.body) for r in requests]
    types = [e["type"] for e in events]
    assert types[:5] == [
        "version.published",
        "proposal.opened",
        "proposal.closed",
        "version.published",
        "proposal.published",
    ]
    assert "backtest.finished" in types
    opened = events[1]["data"]
    assert opened["title"] == "Stricter BANT"
    assert opened["state"] == "open"
    assert opened["url"].endswith(f"/w/acme/proposals/{proposal.pk}/")
    closed = events[2]["data"]
    assert closed["accepted"] is True and closed["state"] == "accepted"
    assert events[4]["data"]["version"] == 2
    finished = next(e["data"] for e in events if e["type"] == "backtest.finished")
    assert finished["run"] == run.pk
    assert finished["state"] == "done"
    assert finished["leads"] == 30
    assert finished["version"] == 2
    assert len({e["id"] for e in events}) == len(events)


def test_a_finished_import_is_announced_with_its_counts(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _endpoint(admin, workshop, receiver.url, events=["import.finished"])
    with django_capture_on_commit_callbacks(execute=True):
        job = import_file(admin, workshop, (HEADER + ROWS).encode())
    [request] = receiver.wait_for(1)
    payload = json.loads(request.body)
    assert payload["type"] == "import.finished"
    assert payload["data"]["import"] == job.pk
    assert payload["data"]["state"] == "done"
    assert payload["data"]["imported"] == 3
    assert payload["data"]["file"] == "leads.csv"


def test_lost_deliveries_are_queued_again_by_the_sweep(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
) -> None:
    endpoint, _secret = _endpoint(admin, workshop, receiver.url)
    # The event fanned out while the broker was down: the rows exist, no message does.
    services.webhooks_fan_out("version.published", workshop_id=workshop.pk, data={"version": 9})
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=3))
    assert services.webhooks_sweep() == 1
    [request] = receiver.wait_for(1)
    assert json.loads(request.body)["data"] == {"version": 9}
    assert WebhookDelivery.objects.get(endpoint=endpoint).state == DeliveryState.DELIVERED
    assert services.webhooks_sweep() == 0


@pytest.mark.services
def test_a_real_worker_waits_the_doubling_backoff_between_attempts(
    transactional_db: None, receiver: Receiver, loopback_allowed: Any
) -> None:
    """Through Redis and a worker process: the retries arrive 1 s and then 2 s apart
    (WEBHOOK_RETRY_BASE_SECONDS=1), each with the same event id."""
    key = "integrations-test-key"  # the worker must read the secret the test stored
    loopback_allowed.INTEGRATIONS_SECRET_KEY = key
    worker = start_worker(
        INTEGRATIONS_ALLOW_HTTP="1",
        INTEGRATIONS_ALLOW_PRIVATE_ADDRESSES="1",
        INTEGRATIONS_SECRET_KEY=key,
        WEBHOOK_RETRY_BASE_SECONDS="1",
    )
    app.conf.task_always_eager = False
    try:
        admin: Any = UserFactory(username="hooks-admin")
        workshop = WorkshopFactory(actor=admin, name="Hooks Co", slug="hooks-co")
        receiver.statuses = [500, 500]
        _created, secret = _endpoint(admin, workshop, receiver.url)
        version_services.version_publish_document(
            actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
        )
        requests = receiver.wait_for(3, timeout=90)
    finally:
        app.conf.task_always_eager = True
        stop_worker(worker)
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(requests)]
    assert 1.0 <= gaps[0] < 4.0, gaps
    assert 2.0 <= gaps[1] < 6.0, gaps
    assert len({r.headers[signing.EVENT_ID_HEADER] for r in requests}) == 1
    for request in requests:
        assert signing.verify(
            secret, request.headers[signing.SIGNATURE_HEADER], request.body, now=int(time.time())
        )
    delivery = WebhookDelivery.objects.get(endpoint__workshop=workshop)
    assert [e["retry_in"] for e in delivery.log] == [1, 2, None]


def test_the_verification_snippet_in_the_docs_accepts_a_real_delivery(
    admin: Any,
    workshop: Workshop,
    receiver: Receiver,
    loopback_allowed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "docs/webhooks.md", "exec"), namespace)  # noqa: S102  (our own docs)
    _endpoint_created, secret = _endpoint(admin, workshop, receiver.url)
    publish_worked_example(admin, workshop, django_capture_on_commit_callbacks)
    [request] = receiver.wait_for(1)
    header = request.headers[signing.SIGNATURE_HEADER]
    assert namespace["verify"](secret, header, request.body)
    assert not namespace["verify"](secret, header, request.body.replace(b"1", b"2"))
    assert not namespace["verify"]("whsec_other", header, request.body)
