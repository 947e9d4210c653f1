"""Reads of workshops, members, invitations and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet
from django.utils import timezone

from definitions.models import (
    AuditLogEntry,
    Invitation,
    InvitationState,
    Membership,
    Workshop,
)
from definitions.workshops.access import visible_workshops

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from definitions.core.http import AnyUser


def workshops_for_user(user: AnyUser) -> QuerySet[Workshop]:
    return visible_workshops(user).annotate(member_count=Count("memberships")).order_by("name")


def members_of(workshop: Workshop) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(workshop=workshop)
        .select_related("user")
        .order_by("user__username")
    )


def membership_of(user: AnyUser, workshop: Workshop) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(workshop=workshop, user=user).first()


def audit_entries(workshop: Workshop) -> QuerySet[AuditLogEntry]:
    return AuditLogEntry.objects.filter(workshop=workshop).order_by("-created_at", "-id")


def pending_invitations_of(workshop: Workshop) -> QuerySet[Invitation]:
    """The workshop's invitations still waiting for an answer (expired ones included,
    so an admin sees them and can invite again or withdraw)."""
    return (
        Invitation.objects.filter(workshop=workshop, state=InvitationState.PENDING)
        .select_related("invited_by")
        .order_by("email")
    )


def pending_invitations_for(user: AnyUser) -> QuerySet[Invitation]:
    """Invitations `user` can still answer: to their account's e-mail, not expired."""
    email = (getattr(user, "email", "") or "").strip().lower()
    if not user.is_authenticated or not email:
        return Invitation.objects.none()
    return (
        Invitation.objects.filter(
            email=email, state=InvitationState.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("workshop", "invited_by")
        .order_by("-created_at")
    )


def member_users(workshop: Workshop) -> list[User]:
    """Every member's account: the recipients of news about the whole workshop."""
    return [m.user for m in Membership.objects.filter(workshop=workshop).select_related("user")]
