"""Lookups of a workshop's webhook endpoints for the people who manage them (admins);
the workshop rights come from definitions.workshops.access (outsiders 404, members
without the right 403)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from definitions import roles
from definitions.models import Workshop
from definitions.workshops.access import get_workshop_for_user, one_or_404
from integrations.models import WebhookEndpoint

if TYPE_CHECKING:
    from definitions.core.http import AnyUser

MANAGE = roles.CHANGE  # webhooks and chat are the admins' business


def get_integrations_workshop_for_user(user: AnyUser, slug: str) -> Workshop:
    return get_workshop_for_user(user, slug, MANAGE)


def get_endpoint_for_user(user: AnyUser, slug: str, endpoint_id: int) -> WebhookEndpoint:
    workshop = get_workshop_for_user(user, slug, MANAGE)
    endpoint: WebhookEndpoint = one_or_404(
        WebhookEndpoint.objects, pk=endpoint_id, workshop=workshop
    )
    endpoint.workshop = workshop
    return endpoint
