from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookEndpoint(models.Model):
    """An HTTPS address of a workshop's that receives the events it chose, signed with
    its secret. The secret is needed in clear to sign, so it is stored encrypted
    (integrations.secrets), never hashed, and shown once when created."""

    workshop = models.ForeignKey(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    secret_encrypted = models.TextField()
    # The secret's first characters, so people can tell which one a receiver holds.
    secret_hint = models.CharField(max_length=16)
    active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Set by the first failed attempt after a success; a day later the endpoint is
    # switched off and its workshop's admins told.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one endpoint, with every attempt. Retries send the same body and
    the same event id, so a receiver that saw it already can ignore it."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField()
    event = models.CharField(max_length=60)
    # The exact bytes signed and sent (as text): every retry sends the same body.
    body = models.TextField()
    state = models.CharField(
        max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    # One entry per attempt: {"at", "code", "error", "retry_in"} (seconds, or null).
    log = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="one_delivery_per_event_and_endpoint"
            )
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_recent")
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.state})"


class ChatSettings(models.Model):
    """A workshop's chat channels (incoming-webhook URLs of Slack and Microsoft Teams)
    and the language its messages are written in. The URLs are secrets of a kind
    (whoever has one can post to the channel), so they are stored encrypted."""

    workshop = models.OneToOneField(
        "definitions.Workshop", on_delete=models.CASCADE, related_name="chat_settings"
    )
    language = models.CharField(
        _("workshop language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    slack_url_encrypted = models.TextField(blank=True)
    teams_url_encrypted = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"chat of {self.workshop_id}"
