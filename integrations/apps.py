from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Outbound webhooks and chat notifications (Slack, Microsoft Teams)."""

    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The services below the integrations announce events through a signal of
        # their own layer; this app listens (an import inside a function, allowed
        # for ready() by tests/test_architecture.py).
        from definitions.core.events import domain_event
        from integrations.services import on_domain_event

        domain_event.connect(on_domain_event, dispatch_uid="integrations.on_domain_event")
