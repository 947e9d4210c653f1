"""Reads of a user's notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from definitions.models import (
    Notification,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from definitions.core.http import AnyUser


def unread_count(user: AnyUser) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("workshop")
