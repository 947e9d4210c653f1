"""API keys: the admins' lookups of a workshop's keys, and what a key may reach.
A key stands for one workshop; anything outside it is 404, as for an outsider. The
workshop rights come from definitions.workshops.access."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from api import keys
from api.models import ApiKey
from definitions import roles
from definitions.models import (
    Version,
)
from feedback.models import Lead

if TYPE_CHECKING:
    from definitions.core.http import AnyUser

from definitions.workshops.access import get_workshop_for_user, one_or_404


def get_api_key_for_user(user: AnyUser, slug: str, key_id: int) -> ApiKey:
    """An API key of workshop `slug`, for those who may manage keys (admins)."""

    workshop = get_workshop_for_user(user, slug, roles.IMPORT_LEADS)
    key: ApiKey = one_or_404(
        ApiKey.objects.select_related("created_by"), pk=key_id, workshop=workshop
    )
    key.workshop = workshop
    return key


def get_api_key_for_token(token: str) -> ApiKey | None:
    """The active API key `token` is, with its workshop; None for a malformed, unknown
    or revoked token, which the API answers alike (401)."""

    prefix = keys.prefix_of(token)
    if prefix is None:
        return None
    key = (
        ApiKey.objects.select_related("workshop")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or not keys.matches(token, key.digest):
        return None
    return key


def get_version_for_api_key(key: ApiKey, slug: str, number: int | None) -> Version:
    """A version of the key's workshop (the current one when `number` is None); 404
    for another workshop's slug, as for an outsider."""
    if key.workshop.slug != slug:
        raise Http404
    versions = Version.objects.filter(workshop=key.workshop).order_by("-number")
    if number is not None:
        versions = versions.filter(number=number)
    version = versions.first()
    if version is None:
        raise Http404
    return version


def get_lead_for_api_key(key: ApiKey, external_id: str) -> Lead:
    """A lead of the key's workshop by external id; another workshop's lead is 404."""

    lead: Lead = one_or_404(Lead.objects, workshop_id=key.workshop_id, external_id=external_id)
    lead.workshop = key.workshop
    return lead
