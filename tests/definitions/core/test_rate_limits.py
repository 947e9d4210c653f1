"""Per-account limits on the expensive actions: past the limit the action is refused
with "try again in N minutes", leaves nothing behind, and other accounts are not
affected; once the window has passed the action works again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from definitions import rules
from definitions.core.ratelimits import RateLimited, rate_limit_take
from definitions.models import RateLimitEvent, Workshop
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.models import EvaluationRun, ImportJob

pytestmark = pytest.mark.django_db

CSV = b"Lead Id,Company\nL1,Acme\n"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client) -> Any:
    return client.post(
        reverse("feedback:import_list", args=["acme"]),
        {"kind": "leads", "file": SimpleUploadedFile("l.csv", CSV)},
    )


def test_uploads_past_the_hourly_limit_are_refused_at_the_file_field(
    admin: Any, workshop: Workshop, settings: Any
) -> None:
    settings.RATE_LIMIT_UPLOADS_PER_HOUR = 2
    client = _client(admin)
    assert _upload(client).status_code == 302
    assert _upload(client).status_code == 302
    refused = _upload(client)
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "limit of 2" in page and "Try again in 60 minutes" in page
    assert ImportJob.objects.filter(workshop=workshop).count() == 2


def test_workshop_creation_past_the_daily_limit_says_when_to_try_again(
    outsider: Any, settings: Any
) -> None:
    # The fixture made the outsider's own workshop already: one more is allowed.
    settings.RATE_LIMIT_WORKSHOPS_PER_DAY = 2
    client = _client(outsider)
    url = reverse("definitions:workshop_create")
    assert client.post(url, {"name": "First", "department": "other"}).status_code == 302
    refused = client.post(url, {"name": "Second", "department": "other"})
    assert refused.status_code == 400
    assert "Try again in 24 hours" in refused.content.decode()
    assert not Workshop.objects.filter(name="Second").exists()


def test_backtests_past_the_limit_are_refused_and_nothing_is_started(
    admin: Any, workshop: Workshop, settings: Any
) -> None:
    settings.RATE_LIMIT_BACKTESTS_PER_HOUR = 1
    v1 = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    runs_before = EvaluationRun.objects.count()
    backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=v1, enqueue=False, reuse=False
    )
    with pytest.raises(RateLimited) as refused:
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, version=v1, enqueue=False, reuse=False
        )
    assert refused.value.retry_after > 3500
    assert EvaluationRun.objects.count() == runs_before + 1
    # The system's own runs (actor None) are never limited.
    backtest_services.backtest_start(
        actor=None, workshop=workshop, version=v1, enqueue=False, reuse=False
    )


def test_a_limit_counts_per_account_and_frees_up_when_the_window_passes(
    admin: Any, marketer: Any, settings: Any
) -> None:
    settings.RATE_LIMIT_INVITATIONS_PER_DAY = 1
    RateLimitEvent.objects.all().delete()  # the fixtures' own workshops
    rate_limit_take(user=admin, action="invitation")
    with pytest.raises(RateLimited):
        rate_limit_take(user=admin, action="invitation")
    rate_limit_take(user=marketer, action="invitation")  # another account: its own count
    RateLimitEvent.objects.filter(user=admin).update(
        at=timezone.now() - timedelta(days=1, seconds=1)
    )
    rate_limit_take(user=admin, action="invitation")
    # The expired event was dropped; only the new one is kept.
    assert RateLimitEvent.objects.filter(user=admin).count() == 1


def test_invitations_past_the_daily_limit_are_refused_alike_for_any_address(
    admin: Any, workshop: Workshop, marketer: Any, settings: Any
) -> None:
    settings.RATE_LIMIT_INVITATIONS_PER_DAY = 1
    client = _client(admin)
    url = reverse("definitions:member_invite", args=[workshop.slug])
    form = {"invite-role": "stakeholder", "invite-department": "sales"}
    sent = client.post(url, {**form, "invite-email": "first@example.com"})
    assert sent.status_code == 302
    # Past the limit, an existing member's address and an unknown one get the same refusal.
    member = client.post(url, {**form, "invite-email": marketer.email})
    unknown = client.post(url, {**form, "invite-email": "nobody@example.com"})
    assert member.status_code == unknown.status_code == 400
    assert "Try again in 24 hours" in member.content.decode()
    assert "Try again in 24 hours" in unknown.content.decode()
