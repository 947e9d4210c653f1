"""Reads of the integrations pages."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from definitions.models import Workshop
from integrations.models import DeliveryState, WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 100


def endpoints_of(workshop: Workshop) -> QuerySet[WebhookEndpoint]:
    """The workshop's endpoints with their delivery counts, in one query."""
    return (
        WebhookEndpoint.objects.filter(workshop=workshop)
        .annotate(
            delivered=Count("deliveries", filter=Q(deliveries__state=DeliveryState.DELIVERED)),
            failed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
            waiting=Count(
                "deliveries",
                filter=Q(deliveries__state__in=[DeliveryState.PENDING, DeliveryState.RETRYING]),
            ),
        )
        .order_by("-created_at", "-id")
    )


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first."""
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")[
        :RECENT_DELIVERIES
    ]
