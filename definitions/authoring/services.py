"""Writes to drafts: create one (from the current version, a document or a blank start),
save the builder's document (refused when someone saved since), import a JSON file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from definitions import rules
from definitions.core.audit import log_action
from definitions.models import (
    Proposal,
    ProposalState,
    Version,
    Workshop,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User
from definitions.catalog.documents import load_json_document, validated_document


class StaleRevision(Exception):
    """Someone saved the draft since this editor loaded it."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the draft is at revision {current}")
        self.current = current


# What a brand-new draft starts from when there is no published version to derive from:
# the smallest valid definition, one placeholder criterion to edit.
BLANK_DOCUMENT: dict[str, object] = {
    "schema_version": rules.SCHEMA_VERSION,
    "rationale": "",
    "qualify": {
        "id": "g-root",
        "any": [
            {
                "id": "c-source",
                "category": "format",
                "field": "source",
                "op": "is_set",
                "value": None,
                "points": None,
            }
        ],
    },
    "disqualify": [],
    "scoring": [],
    "stages": {"mql": 0, "sql": 0, "sales_ready": []},
}


@transaction.atomic
def proposal_create(
    *,
    actor: User,
    workshop: Workshop,
    title: str,
    document: object | None = None,
    parent: Version | None = None,
) -> Proposal:
    """A new draft. Without a document it starts from `parent` (the current version by
    default) or, in a workshop with no version yet, from a one-criterion skeleton."""
    if parent is None:
        parent = Version.objects.filter(workshop=workshop).order_by("-number").first()
    if document is None:
        document = parent.document if parent is not None else BLANK_DOCUMENT
    canonical = validated_document(workshop, document)
    title = title.strip() or _("Untitled draft")
    proposal = Proposal.objects.create(
        workshop=workshop,
        title=title[:200],
        document=canonical,
        parent=parent,
        author=actor,
        updated_by=actor,
    )
    log_action(
        "definitions.proposal.created",
        actor=actor,
        workshop=workshop,
        proposal=proposal.pk,
        title=proposal.title,
    )
    return proposal


@transaction.atomic
def proposal_save_document(
    *,
    actor: User,
    proposal: Proposal,
    document: object,
    expected_revision: int,
    title: str | None = None,
) -> Proposal:
    """Save the builder's document. Refused (StaleRevision) when someone else saved
    since `expected_revision`; the conditional UPDATE makes the check and the write
    one atomic step, so two simultaneous saves cannot both pass."""
    if proposal.state != ProposalState.DRAFT:
        raise ValidationError(
            _("Only a draft can be edited; this proposal is %(state)s.")
            % {"state": proposal.get_state_display()},
            code="not_draft",
        )
    canonical = validated_document(proposal.workshop, document)
    new_title = (title or proposal.title).strip()[:200] or proposal.title
    updated = Proposal.objects.filter(
        pk=proposal.pk, revision=expected_revision, state=ProposalState.DRAFT
    ).update(
        document=canonical,
        title=new_title,
        revision=F("revision") + 1,
        updated_by=actor,
        updated_at=timezone.now(),
    )
    if updated == 0:
        current = Proposal.objects.values_list("revision", flat=True).get(pk=proposal.pk)
        raise StaleRevision(current)
    proposal.refresh_from_db()
    log_action(
        "definitions.proposal.saved",
        actor=actor,
        workshop=proposal.workshop,
        proposal=proposal.pk,
        title=proposal.title,
        revision=proposal.revision,
    )
    return proposal


def proposal_import(*, actor: User, workshop: Workshop, raw: bytes | str, title: str) -> Proposal:
    """Create a draft from a JSON file: ValidationError for unreadable JSON,
    DefinitionInvalid with every error for an invalid definition; nothing is saved
    in either case."""
    document = load_json_document(raw)
    return proposal_create(actor=actor, workshop=workshop, title=title, document=document)
