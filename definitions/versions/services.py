"""Writes to the version history: publishing a document or an accepted proposal as
the next version, and rolling back (an old version's content published again as a new
number). Published versions never change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils.translation import gettext as _

from definitions import roles
from definitions.catalog.documents import validated_document
from definitions.core import events
from definitions.core.audit import log_action
from definitions.models import Proposal, ProposalState, Version, Workshop
from definitions.notifications.services import notify
from definitions.workshops.access import workshop_perms
from definitions.workshops.selectors import member_users

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def version_publish_document(
    *,
    actor: User,
    workshop: Workshop,
    document: object,
    parent: Version | None,
    note: str = "",
) -> Version:
    """Make `document` the workshop's next version and its current definition.

    The workshop row is locked so two publishers get consecutive numbers, never the same
    one (the unique constraint is the second line of defence)."""
    Workshop.objects.select_for_update().filter(pk=workshop.pk).first()
    canonical = validated_document(workshop, document)
    last = Version.objects.filter(workshop=workshop).aggregate(n=Max("number"))["n"] or 0
    version = Version.objects.create(
        workshop=workshop,
        number=last + 1,
        document=canonical,
        parent=parent,
        author=actor,
        published_by=actor,
        note=note[:300],
    )
    log_action(
        "definitions.version.published",
        actor=actor,
        workshop=workshop,
        version=version.number,
    )
    events.emit(
        events.VERSION_PUBLISHED,
        workshop_id=workshop.pk,
        data={
            "workshop": workshop.slug,
            "version": version.number,
            "note": version.note,
            "published_by": actor.get_username(),
            "published_at": version.published_at.isoformat(),
            "url": events.absolute_url(
                reverse("definitions:version_detail", args=[workshop.slug, version.number])
            ),
        },
    )
    return version


@transaction.atomic
def version_publish(*, actor: User, proposal: Proposal) -> Version:
    """Publish an accepted proposal as the next version, once. The proposal row is
    locked, so of two admins publishing at the same moment one wins and the other is
    told it is already published."""
    if roles.PUBLISH not in workshop_perms(actor, proposal.workshop):
        raise PermissionDenied
    # Under a row lock: of two admins publishing at once, one wins.
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    locked.workshop = proposal.workshop
    proposal = locked
    if proposal.state == ProposalState.PUBLISHED:
        raise ValidationError(_("This proposal is already published."), code="published")
    if proposal.state != ProposalState.ACCEPTED:
        raise ValidationError(
            _("Only an accepted proposal can be published; this one is %(state)s.")
            % {"state": proposal.get_state_display()},
            code="state",
        )
    version = version_publish_document(
        actor=actor,
        workshop=proposal.workshop,
        document=proposal.document,
        parent=proposal.parent,
        note=proposal.title,
    )
    proposal.state = ProposalState.PUBLISHED
    proposal.published_version = version
    proposal.save(update_fields=["state", "published_version", "updated_at"])
    events.emit(
        events.PROPOSAL_PUBLISHED,
        workshop_id=proposal.workshop.pk,
        data={
            "workshop": proposal.workshop.slug,
            "proposal": proposal.pk,
            "title": proposal.title,
            "version": version.number,
            "url": events.absolute_url(
                reverse("definitions:proposal_detail", args=[proposal.workshop.slug, proposal.pk])
            ),
        },
    )
    notify(
        workshop=proposal.workshop,
        recipients=member_users(proposal.workshop),
        verb="version.published",
        url=reverse("definitions:version_detail", args=[proposal.workshop.slug, version.number]),
        exclude=actor,
        version=version.number,
    )
    return version


@transaction.atomic
def version_rollback(*, actor: User, version: Version) -> Version:
    """Publish an older version's content again, as a new number: history only grows."""
    if roles.PUBLISH not in workshop_perms(actor, version.workshop):
        raise PermissionDenied
    current = Version.objects.filter(workshop=version.workshop).order_by("-number").first()
    if current is not None and current.pk == version.pk:
        raise ValidationError(_("This is already the current version."))
    new = version_publish_document(
        actor=actor,
        workshop=version.workshop,
        document=version.document,
        parent=current,
        note=_("Rollback to v%(n)s") % {"n": version.number},
    )
    notify(
        workshop=version.workshop,
        recipients=member_users(version.workshop),
        verb="version.published",
        url=reverse("definitions:version_detail", args=[version.workshop.slug, new.number]),
        exclude=actor,
        version=new.number,
    )
    return new
