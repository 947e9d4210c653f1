"""Reads of drafts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from definitions.models import (
    Proposal,
    ProposalState,
    Workshop,
)

if TYPE_CHECKING:
    pass


def drafts_of(workshop: Workshop) -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(workshop=workshop, state=ProposalState.DRAFT)
        .select_related("author", "parent")
        .order_by("-updated_at")
    )
