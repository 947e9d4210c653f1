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
from definitions.core import events, labels
from definitions.core.audit import log_action
from definitions.core.extensions import version_created
from definitions.models import Proposal, ProposalState, Version, Workshop
from definitions.notifications.services import notify
from definitions.versions.signals import version_published
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
    restored_from: Version | None = None,
    proposal: Proposal | None = None,
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
        restored_from=restored_from,
    )
    log_action(
        "definitions.version.published",
        actor=actor,
        workshop=workshop,
        version=version.number,
    )
    # Every new version, however it came (feedback.reviews keeps what it was promised).
    version_created.send(sender=Version, version=version, proposal=proposal, source=restored_from)
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
    current = Version.objects.filter(workshop=proposal.workshop).order_by("-number").first()
    if is_stale(proposal, current):
        raise ValidationError(
            _(
                "v%(n)s was published after this proposal was written: rebase it onto "
                "v%(n)s before publishing."
            )
            % {"n": current.number if current else 0},
            code="stale",
        )
    restores = proposal.restores
    version = version_publish_document(
        actor=actor,
        workshop=proposal.workshop,
        document=proposal.document,
        parent=proposal.parent,
        note=proposal.title,
        restored_from=restores
        if restores is not None
        and restores.document == validated_document(proposal.workshop, proposal.document)
        else None,
        proposal=proposal,
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
    _mark_stale(actor, version)
    version_published.send(sender=Version, version=version)
    return version


def is_stale(proposal: Proposal, current: Version | None) -> bool:
    """A proposal still in discussion whose base is no longer the current version:
    what was published since is not in its text."""
    return (
        proposal.state in (ProposalState.DRAFT, ProposalState.OPEN, ProposalState.ACCEPTED)
        and proposal.parent_id is not None
        and current is not None
        and proposal.parent_id != current.pk
    )


def _mark_stale(actor: User, version: Version) -> None:
    """Tell the authors of the proposals the new version leaves behind: staleness is
    read from the base (proposal.parent against the current version), so nothing is
    stored, only announced."""
    stale = (
        Proposal.objects.filter(
            workshop=version.workshop,
            state__in=[ProposalState.DRAFT, ProposalState.OPEN, ProposalState.ACCEPTED],
            parent__isnull=False,
        )
        .exclude(parent=version)
        .select_related("author")
    )
    for proposal in stale:
        if proposal.author is None:
            continue
        notify(
            workshop=version.workshop,
            recipients=[proposal.author],
            verb="proposal.stale",
            url=reverse("definitions:proposal_detail", args=[version.workshop.slug, proposal.pk]),
            exclude=actor,
            title=proposal.title,
            version=version.number,
        )


@transaction.atomic
def version_rollback(*, actor: User, version: Version, reason: str) -> Version:
    """An admin's emergency rollback: the older version's content published again at
    once, as a new number (history only grows), without a vote. Recorded as such in
    the audit log with its reason and announced to every member."""
    if roles.PUBLISH not in workshop_perms(actor, version.workshop):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the definition must be rolled back.")})
    Workshop.objects.select_for_update().filter(pk=version.workshop_id).first()
    current = Version.objects.filter(workshop=version.workshop).order_by("-number").first()
    if current is not None and current.pk == version.pk:
        raise ValidationError(_("This is already the current version."))
    new = version_publish_document(
        actor=actor,
        workshop=version.workshop,
        document=version.document,
        parent=current,
        note=labels.EMERGENCY_ROLLBACK % {"n": version.number, "reason": reason},
        restored_from=version,
    )
    log_action(
        "definitions.version.emergency_rollback",
        actor=actor,
        workshop=version.workshop,
        version=new.number,
        restored=version.number,
        replaced=current.number if current else 0,
        reason=reason[:1000],
    )
    notify(
        workshop=version.workshop,
        recipients=member_users(version.workshop),
        verb="version.emergency_rollback",
        url=reverse("definitions:version_detail", args=[version.workshop.slug, new.number]),
        exclude=actor,
        version=new.number,
        restored=version.number,
        actor=actor.get_username(),
        reason=reason[:300],
    )
    _mark_stale(actor, new)
    version_published.send(sender=Version, version=new)
    return new
