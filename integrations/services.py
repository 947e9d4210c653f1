"""Writes of the integrations: webhook endpoints and their deliveries, chat settings
and chat messages. Events arrive through definitions.core.events (connected in
integrations/apps.py), after the change that caused them has committed."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from definitions import roles
from definitions.core import events, labels
from definitions.core.audit import log_action
from definitions.core.jobs import enqueue
from definitions.models import Membership, Workshop
from definitions.notifications.services import notify
from integrations import addresses, secrets, signing
from integrations.events import CHAT_EVENTS, WEBHOOK_EVENTS
from integrations.models import ChatSettings, DeliveryState, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

USER_AGENT = "LeadWorkshop-Webhooks/1"
DESCRIPTION_MAX = 200
URL_MAX = 500
ADMIN_ROLES = [role for role, perms in roles.ROLE_PERMISSIONS.items() if roles.CHANGE in perms]


# ------------------------------------------------------------------ endpoints


def _checked_url(url: str, field: str) -> str:
    url = url.strip()
    if not url:
        raise ValidationError({field: _("Enter the URL.")})
    if len(url) > URL_MAX:
        raise ValidationError({field: _("At most %(n)s characters.") % {"n": URL_MAX}})
    try:
        addresses.resolve(url)
    except addresses.AddressRefused as exc:
        raise ValidationError({field: str(exc)}) from exc
    return url


def _checked(url: str, description: str, chosen: list[str]) -> tuple[str, str, list[str]]:
    url = _checked_url(url, "url")
    description = description.strip()
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(
            {"description": _("At most %(n)s characters.") % {"n": DESCRIPTION_MAX}}
        )
    unknown = [name for name in chosen if name not in WEBHOOK_EVENTS]
    if unknown:
        raise ValidationError(
            {"events": _("Unknown event: %(name)s.") % {"name": ", ".join(unknown)}}
        )
    if not chosen:
        raise ValidationError({"events": _("Choose at least one event.")})
    # Kept in the form's order, so the list reads the same wherever it is shown.
    return url, description, [name for name in WEBHOOK_EVENTS if name in chosen]


@transaction.atomic
def endpoint_create(
    *, actor: User, workshop: Workshop, url: str, description: str, events: list[str]
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, which exists in clear only in the return
    value (stored encrypted): show it to the person now."""
    url, description, chosen = _checked(url, description, events)
    secret = secrets.new_signing_secret()
    endpoint = WebhookEndpoint.objects.create(
        workshop=workshop,
        url=url,
        description=description,
        events=chosen,
        secret_encrypted=secrets.encrypt(secret),
        secret_hint=secret[: len(secrets.SECRET_PREFIX) + 4],
        created_by=actor,
    )
    log_action("integrations.webhook.created", actor=actor, workshop=workshop, url=url)
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *, actor: User, endpoint: WebhookEndpoint, url: str, description: str, events: list[str]
) -> WebhookEndpoint:
    endpoint.url, endpoint.description, endpoint.events = _checked(url, description, events)
    endpoint.save(update_fields=["url", "description", "events"])
    log_action(
        "integrations.webhook.updated", actor=actor, workshop=endpoint.workshop, url=endpoint.url
    )
    return endpoint


@transaction.atomic
def endpoint_enable(*, actor: User, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Switch an endpoint (back) on; its failure clock starts again."""
    endpoint.active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = ""
    endpoint.failing_since = None
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason", "failing_since"])
    log_action(
        "integrations.webhook.enabled", actor=actor, workshop=endpoint.workshop, url=endpoint.url
    )
    return endpoint


@transaction.atomic
def endpoint_disable(*, actor: User, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.active = False
    endpoint.disabled_at = timezone.now()
    endpoint.disabled_reason = _("Switched off by %(user)s.") % {"user": actor.get_username()}
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason"])
    log_action(
        "integrations.webhook.disabled", actor=actor, workshop=endpoint.workshop, url=endpoint.url
    )
    return endpoint


@transaction.atomic
def endpoint_delete(*, actor: User, endpoint: WebhookEndpoint) -> None:
    log_action(
        "integrations.webhook.deleted", actor=actor, workshop=endpoint.workshop, url=endpoint.url
    )
    endpoint.delete()


# ------------------------------------------------------------------ events in


def on_domain_event(sender: str, *, workshop_id: int, data: dict[str, Any], **_kw: Any) -> None:
    """The receiver of every domain event: queue a delivery to each endpoint that chose
    it, and a message to each chat channel for the events chat carries."""
    webhooks_fan_out(sender, workshop_id=workshop_id, data=data)
    if sender in CHAT_EVENTS:
        chat_fan_out(sender, workshop_id=workshop_id, data=data)


def webhooks_fan_out(event: str, *, workshop_id: int, data: dict[str, Any]) -> list[int]:
    """One delivery per subscribed endpoint, all with the same event id; returns their
    ids. An endpoint's list of events is a short JSON list, read here rather than in
    SQL so SQLite (make run) does the same as PostgreSQL."""
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(workshop_id=workshop_id, active=True)
        if event in e.events
    ]
    if not endpoints:
        return []
    workshop = Workshop.objects.only("slug", "name").get(pk=workshop_id)
    event_id = uuid.uuid4()
    now = timezone.now()
    body = json.dumps(
        {
            "id": str(event_id),
            "type": event,
            "created_at": now.isoformat(),
            "workshop": {"slug": workshop.slug, "name": workshop.name},
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint, event_id=event_id, event=event, body=body, next_attempt_at=now
        )
        for endpoint in endpoints
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue_deliveries([(pk, 1) for pk in ids]))
    return ids


def _enqueue_deliveries(items: list[tuple[int, int]]) -> None:
    for delivery_id, attempt in items:
        try:
            enqueue("integrations.tasks.deliver_webhook", delivery_id, attempt)
        except Exception:  # the broker is down: webhooks_sweep queues it later
            logger.warning("could not queue webhook delivery %s", delivery_id, exc_info=True)


# ------------------------------------------------------------------ delivering


def retry_delay(attempt: int) -> int:
    """Seconds to wait after failed attempt number `attempt` (1, 2, …): doubling from
    WEBHOOK_RETRY_BASE_SECONDS, at most WEBHOOK_RETRY_MAX_SECONDS."""
    delay: int = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    return min(delay, settings.WEBHOOK_RETRY_MAX_SECONDS)


def delivery_attempt(delivery_id: int, attempt: int) -> int | None:
    """Attempt number `attempt` of a delivery. Returns the seconds after which to try
    again, or None when done (delivered, given up, or nothing to do). A message for an
    attempt already made (a broker that delivered it twice, or the sweep's copy) is
    ignored, so each attempt happens once. The row stays locked during the request:
    nobody else attempts it meanwhile."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "endpoint__workshop")
            .filter(pk=delivery_id)
            .first()
        )
        if (
            delivery is None
            or delivery.state in (DeliveryState.DELIVERED, DeliveryState.FAILED)
            or delivery.attempts != attempt - 1
        ):
            return None
        return _attempt(delivery)


def _attempt(delivery: WebhookDelivery) -> int | None:
    endpoint = delivery.endpoint
    code: int | None = None
    error = ""
    if not endpoint.active:
        error = _("The endpoint is switched off.")
    else:
        try:
            secret = secrets.decrypt(endpoint.secret_encrypted)
        except secrets.SecretUnreadable:
            secret = ""
            error = _(
                "The endpoint's secret cannot be read (the encryption key changed); "
                "create the endpoint again."
            )
        if secret:
            body = delivery.body.encode("utf-8")
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                signing.EVENT_ID_HEADER: str(delivery.event_id),
                signing.EVENT_HEADER: delivery.event,
                signing.SIGNATURE_HEADER: signing.signature_header(secret, int(time.time()), body),
            }
            try:
                answer = addresses.post(endpoint.url, body, headers)
            except addresses.AddressRefused as exc:
                error = str(exc)
            except OSError as exc:
                error = labels.DELIVERY_NO_CONNECTION % {"error": str(exc) or type(exc).__name__}
            else:
                code = answer.status
                if not 200 <= code < 300:
                    error = labels.DELIVERY_HTTP_STATUS % {"code": code}
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = code
    delivery.error = error[:300]
    retry_in: int | None = None
    if not error:
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
    elif endpoint.active and not _failing_too_long(endpoint, now):
        if delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
            retry_in = retry_delay(delivery.attempts)
            delivery.state = DeliveryState.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=retry_in)
        else:
            delivery.state = DeliveryState.FAILED
            delivery.next_attempt_at = None
    else:
        delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = None
    delivery.log = [
        *delivery.log,
        {"at": now.isoformat(), "code": code, "error": delivery.error, "retry_in": retry_in},
    ]
    delivery.save()
    return retry_in


def _failing_too_long(endpoint: WebhookEndpoint, now: datetime) -> bool:
    """Note the failure; True (and the endpoint switched off, its admins told) once it
    has failed without a single success for WEBHOOK_DISABLE_AFTER_HOURS."""
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
            failing_since=now
        )
        return False
    if now - endpoint.failing_since < timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS):
        return False
    webhook_disable_failing(endpoint, now=now)
    return True


def webhook_disable_failing(endpoint: WebhookEndpoint, *, now: datetime) -> None:
    hours = settings.WEBHOOK_DISABLE_AFTER_HOURS
    switched = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
        active=False,
        disabled_at=now,
        disabled_reason=_("Every delivery failed for %(hours)s hours.") % {"hours": hours},
    )
    endpoint.active = False
    if not switched:
        return
    workshop = endpoint.workshop
    log_action(
        "integrations.webhook.auto_disabled", actor=None, workshop=workshop, url=endpoint.url
    )
    admins = [
        m.user
        for m in Membership.objects.filter(workshop=workshop, role__in=ADMIN_ROLES).select_related(
            "user"
        )
    ]
    notify(
        workshop=workshop,
        recipients=admins,
        verb="webhook.disabled",
        url=reverse("integrations:webhook_detail", args=[workshop.slug, endpoint.pk]),
        endpoint=endpoint.url,
        hours=hours,
    )


def webhooks_sweep(*, now: datetime | None = None) -> int:
    """Queue again the deliveries whose message was lost (the broker was down when
    they were due, or a worker died): due for two minutes and not attempted. Returns
    how many. Each goes out with the attempt number it is at, so a late original
    message and this copy make one attempt between them."""
    now = now or timezone.now()
    lost = list(
        WebhookDelivery.objects.filter(
            state__in=[DeliveryState.PENDING, DeliveryState.RETRYING],
            next_attempt_at__lt=now - timedelta(minutes=2),
        ).values_list("pk", "attempts")[:500]
    )
    _enqueue_deliveries([(pk, attempts + 1) for pk, attempts in lost])
    return len(lost)


# ------------------------------------------------------------------ chat


class ChatFailed(OSError):
    """A chat service did not take the message; the task tries again."""


CHANNELS = ("slack", "teams")


def chat_settings_of(workshop: Workshop) -> ChatSettings:
    found = ChatSettings.objects.filter(workshop=workshop).first()
    return found if found is not None else ChatSettings(workshop=workshop)


@transaction.atomic
def chat_settings_update(
    *,
    actor: User,
    workshop: Workshop,
    language: str,
    slack_url: str | None,
    teams_url: str | None,
) -> ChatSettings:
    """Save the workshop's chat settings. A URL of None keeps the stored one, "" removes
    it; a new one must pass the address check."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the languages offered.")})
    chat = chat_settings_of(workshop)
    chat.language = language
    if slack_url is not None:
        chat.slack_url_encrypted = secrets.encrypt(
            _checked_url(slack_url, "slack_url") if slack_url.strip() else ""
        )
    if teams_url is not None:
        chat.teams_url_encrypted = secrets.encrypt(
            _checked_url(teams_url, "teams_url") if teams_url.strip() else ""
        )
    chat.updated_by = actor
    chat.save()
    log_action(
        "integrations.chat.updated",
        actor=actor,
        workshop=workshop,
        language=language,
        slack=bool(chat.slack_url_encrypted),
        teams=bool(chat.teams_url_encrypted),
    )
    return chat


def chat_fan_out(event: str, *, workshop_id: int, data: dict[str, Any]) -> int:
    chat = ChatSettings.objects.filter(workshop_id=workshop_id).first()
    if chat is None:
        return 0
    channels = [
        channel
        for channel, stored in (
            ("slack", chat.slack_url_encrypted),
            ("teams", chat.teams_url_encrypted),
        )
        if stored
    ]
    for channel in channels:
        try:
            enqueue("integrations.tasks.post_chat_message", workshop_id, channel, event, data)
        except Exception:  # the broker is down: a chat message is news, not a record
            logger.warning("could not queue the %s message of %s", channel, event, exc_info=True)
    return len(channels)


def _when(value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def chat_sentence(event: str, data: dict[str, Any]) -> str:
    """The message for `event`, in the active language."""
    title = str(data.get("title", ""))
    if event == events.PROPOSAL_OPENED:
        return _("“%(title)s” needs your vote: voting closes %(closes)s.") % {
            "title": title,
            "closes": _when(data.get("closes_at")),
        }
    if event == events.PROPOSAL_CLOSING_SOON:
        return _("Voting on “%(title)s” closes within 24 hours (%(closes)s).") % {
            "title": title,
            "closes": _when(data.get("closes_at")),
        }
    if event == events.VERSION_PUBLISHED:
        return _("Version v%(version)s of the lead definition is published.") % {
            "version": data.get("version", "?")
        }
    if event == events.REVIEW_READY:
        if data.get("version") is not None:
            return _("The review of version v%(version)s is ready.") % {"version": data["version"]}
        return _("A review is ready.")
    return event


def _slack_escape(text: str) -> str:
    # Slack's own rule: only these three are control characters in message text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _markdown_escape(text: str) -> str:
    for char in "\\`*_{}[]()#+-.!|<>":
        text = text.replace(char, "\\" + char)
    return text


def chat_payload(channel: str, workshop_name: str, sentence: str, url: str) -> dict[str, Any]:
    """What Slack or Teams is sent. Workshop names and titles are people's text, so
    they are escaped: they never become links or mentions."""
    label = _("Open in Lead Workshop")
    if channel == "slack":
        text = f"*{_slack_escape(workshop_name)}* · {_slack_escape(sentence)}"
        if url:
            text += f"\n<{url}|{_slack_escape(label)}>"
        return {"text": text, "unfurl_links": False}
    # Teams: an Adaptive Card, which both the Workflows webhooks and the older
    # connector webhooks accept.
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": _markdown_escape(workshop_name),
                "weight": "Bolder",
                "wrap": True,
            },
            {"type": "TextBlock", "text": _markdown_escape(sentence), "wrap": True},
        ],
    }
    if url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": label, "url": url}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def chat_post(*, workshop_id: int, channel: str, event: str, data: dict[str, Any]) -> bool:
    """Post `event` to the workshop's `channel`, written in the workshop's language.
    False when there is nothing to post to (the URL was removed meanwhile, or cannot
    be read); ChatFailed when the service refused it (the task retries)."""
    chat = ChatSettings.objects.select_related("workshop").filter(workshop_id=workshop_id).first()
    if chat is None or channel not in CHANNELS:
        return False
    try:
        url = secrets.decrypt(
            chat.slack_url_encrypted if channel == "slack" else chat.teams_url_encrypted
        )
    except secrets.SecretUnreadable:
        logger.warning("the %s URL of workshop %s cannot be read", channel, workshop_id)
        return False
    if not url:
        return False
    with translation.override(chat.language):
        payload = chat_payload(
            channel, chat.workshop.name, chat_sentence(event, data), str(data.get("url", ""))
        )
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    try:
        answer = addresses.post(
            url, body, {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        )
    except addresses.AddressRefused as exc:
        logger.warning("the %s URL of workshop %s is refused: %s", channel, workshop_id, exc)
        return False
    if not 200 <= answer.status < 300:
        raise ChatFailed(f"{channel} answered HTTP {answer.status}")
    return True
