"""Reads for workshops, members and the audit log."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from definitions.models import (
    ActivityKind,
    Amendment,
    AuditLogEntry,
    Comment,
    CustomField,
    Invitation,
    InvitationState,
    Membership,
    Notification,
    Proposal,
    ProposalState,
    Version,
    Vote,
    Workshop,
)
from definitions.permissions import visible_workshops

if TYPE_CHECKING:
    from django.contrib.auth.models import User

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


def proposals_of(workshop: Workshop, state: str | None = None) -> QuerySet[Proposal]:
    qs = Proposal.objects.filter(workshop=workshop).select_related("author", "parent")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-updated_at")


def comments_of(proposal: Proposal) -> list[Comment]:
    """Top-level comments in order, each with `.thread` = its replies in order."""
    comments = list(
        Comment.objects.filter(proposal=proposal)
        .select_related("author")
        .order_by("created_at", "id")
    )
    by_id = {c.pk: c for c in comments}
    roots: list[Comment] = []
    for comment in comments:
        comment.thread = []  # type: ignore[attr-defined]
    for comment in comments:
        parent = by_id.get(comment.parent_id) if comment.parent_id else None
        if parent is not None:
            parent.thread.append(comment)  # type: ignore[attr-defined]
        else:
            roots.append(comment)
    return roots


def votes_of(proposal: Proposal) -> QuerySet[Vote]:
    return Vote.objects.filter(proposal=proposal).select_related("voter").order_by("cast_at")


@dataclass(frozen=True)
class LiveTokens:
    """Versions of the two live parts of a proposal page. The votes change often in a
    meeting; the text, amendments and discussion less so. A poll re-renders only the
    part whose version moved."""

    votes: str
    discussion: str


@functools.cache
def _live_sql() -> str:
    """Small aggregates of the proposal's votes, comments and amendments, each its own
    subquery on its proposal index (one join would multiply votes by comments). Plain
    SQL: polled by everyone following a vote, it would spend more time being compiled
    by the ORM than being answered by the database."""
    parts = {
        Vote: ("count(*)", "max(updated_at)"),
        Comment: ("count(*)", "max(created_at)", "max(edited_at)", "max(deleted_at)"),
        Amendment: ("count(*)", "max(decided_at)"),
    }
    columns = [
        f"(SELECT {aggregate} FROM {model._meta.db_table} WHERE proposal_id = p.id)"  # noqa: S608
        for model, aggregates in parts.items()
        for aggregate in aggregates
    ]
    return (
        f"SELECT p.state, p.revision, {', '.join(columns)}"  # noqa: S608  (names only)
        f" FROM {Proposal._meta.db_table} p WHERE p.id = %s"
    )


def live_tokens(proposal: Proposal) -> LiveTokens:
    """One query of small aggregates: "nothing changed" costs almost nothing."""
    with connection.cursor() as cursor:
        cursor.execute(_live_sql(), [proposal.pk])
        row = cursor.fetchone()
    if row is None:
        raise Proposal.DoesNotExist
    # Opening, closing or revising the proposal changes both parts.
    state, votes, discussion = row[:2], row[2:4], row[4:]
    return LiveTokens(votes=_digest(*votes, *state), discussion=_digest(*discussion, *state))


def _digest(*values: object) -> str:
    return hashlib.sha256("|".join(str(v) for v in values).encode()).hexdigest()[:16]


def unread_count(user: AnyUser) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("workshop")


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
