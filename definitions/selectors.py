"""Reads for workshops, members and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet

from definitions.models import (
    ActivityKind,
    AuditLogEntry,
    CustomField,
    Membership,
    Proposal,
    ProposalState,
    Version,
    Workshop,
)
from definitions.permissions import visible_workshops

if TYPE_CHECKING:
    from definitions.permissions import AnyUser


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


def current_version(workshop: Workshop) -> Version | None:
    return Version.objects.filter(workshop=workshop).order_by("-number").first()


def versions_of(workshop: Workshop) -> QuerySet[Version]:
    return (
        Version.objects.filter(workshop=workshop).select_related("published_by").order_by("-number")
    )


def drafts_of(workshop: Workshop) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(workshop=workshop, state=ProposalState.DRAFT)
        .select_related("author", "parent")
        .order_by("-updated_at")
    )


def custom_fields_of(workshop: Workshop) -> QuerySet[CustomField]:
    return CustomField.objects.filter(workshop=workshop).order_by("label")


def activity_kinds_of(workshop: Workshop) -> QuerySet[ActivityKind]:
    return ActivityKind.objects.filter(workshop=workshop).order_by("label")
