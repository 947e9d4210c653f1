"""Reads of proposals, comments and votes, and the live page's change tokens."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from definitions import roles
from definitions.models import (
    Amendment,
    Comment,
    Membership,
    Proposal,
    ProposalState,
    Vote,
    Workshop,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def proposals_of(workshop: Workshop, state: str | None = None) -> QuerySet[Proposal]:
    qs = Proposal.objects.filter(workshop=workshop).select_related("author", "parent")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-updated_at")


def needs_vote(user: User, workshop: Workshop | None = None) -> QuerySet[Proposal]:
    """Open proposals the user may vote on and has not: no vote yet, or a vote cast on
    an earlier text that waits for confirmation. Soonest closing first."""
    voter_roles = [r for r, perms in roles.ROLE_PERMISSIONS.items() if roles.VOTE in perms]
    qs = Proposal.objects.filter(
        Exists(
            Membership.objects.filter(
                workshop=OuterRef("workshop"), user=user, role__in=voter_roles
            )
        ),
        state=ProposalState.OPEN,
        closes_at__gt=timezone.now(),
    ).exclude(
        Exists(
            Vote.objects.filter(
                proposal=OuterRef("pk"), voter=user, revision__gte=OuterRef("revision")
            )
        )
    )
    if workshop is not None:
        qs = qs.filter(workshop=workshop)
    return qs.select_related("workshop").order_by("closes_at", "pk")


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
