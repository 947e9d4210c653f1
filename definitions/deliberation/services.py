"""Writes of deliberation: open, withdraw and close a proposal, cast a vote, comment,
suggest, accept or decline an amendment, change the consensus policy; closing due
proposals and reminding voters (run by beat)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from definitions import roles, rules
from definitions.authoring import services as authoring_services
from definitions.catalog.documents import validated_document
from definitions.catalog.selectors import catalog_for
from definitions.core import events, labels
from definitions.core.audit import log_action
from definitions.deliberation import consensus
from definitions.models import (
    Amendment,
    AmendmentState,
    Comment,
    ConsensusPolicy,
    Membership,
    Proposal,
    ProposalRevision,
    ProposalState,
    Version,
    Vote,
    VoteChoice,
    Workshop,
)
from definitions.notifications.services import notify
from definitions.roles import Department
from definitions.rules.merge import MergeResult, Side, merge
from definitions.versions.selectors import current_version
from definitions.versions.services import is_stale
from definitions.workshops.access import workshop_perms
from definitions.workshops.selectors import member_users

if TYPE_CHECKING:
    from django.contrib.auth.models import User


MAX_VOTING_DAYS = 90

COMMENT_EDIT_WINDOW = timedelta(minutes=15)

VOTER_ROLES = [role for role, perms in roles.ROLE_PERMISSIONS.items() if roles.VOTE in perms]


def _url(proposal: Proposal) -> str:
    return reverse("definitions:proposal_detail", args=[proposal.workshop.slug, proposal.pk])


def _event_data(proposal: Proposal, **extra: Any) -> dict[str, Any]:
    """A proposal as the webhooks' and chat's events describe it."""
    return {
        "workshop": proposal.workshop.slug,
        "proposal": proposal.pk,
        "title": proposal.title,
        "state": str(proposal.state),
        "revision": proposal.revision,
        "closes_at": proposal.closes_at.isoformat() if proposal.closes_at else None,
        "url": events.absolute_url(_url(proposal)),
        **extra,
    }


def _voters(workshop: Workshop) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(workshop=workshop, role__in=VOTER_ROLES).select_related(
            "user"
        )
    ]


def _locked(proposal: Proposal) -> Proposal:
    """Re-read the proposal under a row lock: two requests acting on it queue up."""
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    locked.workshop = proposal.workshop
    return locked


def _require_author_or_admin(actor: User, proposal: Proposal) -> None:
    if proposal.author_id == actor.pk:
        return
    if roles.CHANGE not in workshop_perms(actor, proposal.workshop):
        raise PermissionDenied


def policy_of(workshop: Workshop) -> ConsensusPolicy:
    policy = ConsensusPolicy.objects.filter(workshop=workshop).first()
    return policy if policy is not None else ConsensusPolicy(workshop=workshop)


@transaction.atomic
def policy_update(
    *,
    actor: User,
    workshop: Workshop,
    quorum_percent: int,
    required_departments: list[str],
    majority_percent: int,
    block_vetoes: bool,
    default_voting_days: int,
    hide_tallies: bool = False,
) -> ConsensusPolicy:
    if not 0 <= quorum_percent <= 100:
        raise ValidationError({"quorum_percent": _("Between 0 and 100.")})
    if not 0 <= majority_percent < 100:
        raise ValidationError({"majority_percent": _("From 0 up to 99.")})
    if not 1 <= default_voting_days <= MAX_VOTING_DAYS:
        raise ValidationError(
            {"default_voting_days": _("From 1 to %(max)s days.") % {"max": MAX_VOTING_DAYS}}
        )
    policy, _created = ConsensusPolicy.objects.update_or_create(
        workshop=workshop,
        defaults={
            "quorum_percent": quorum_percent,
            "required_departments": sorted(set(required_departments)),
            "majority_percent": majority_percent,
            "block_vetoes": block_vetoes,
            "default_voting_days": default_voting_days,
            "hide_tallies": hide_tallies,
        },
    )
    log_action(
        "definitions.policy.updated",
        actor=actor,
        workshop=workshop,
        quorum=quorum_percent,
        majority=majority_percent,
    )
    return policy


@transaction.atomic
def proposal_open(
    *, actor: User, proposal: Proposal, closes_at: datetime, rationale: str | None = None
) -> Proposal:
    _require_author_or_admin(actor, proposal)
    proposal = _locked(proposal)
    if proposal.state != ProposalState.DRAFT:
        raise ValidationError(_("Only a draft can be opened for votes."), code="state")
    now = timezone.now()
    if closes_at <= now + timedelta(minutes=5):
        raise ValidationError({"closes_at": _("The closing time must be in the future.")})
    if closes_at > now + timedelta(days=MAX_VOTING_DAYS):
        raise ValidationError(
            {"closes_at": _("Voting may last at most %(days)s days.") % {"days": MAX_VOTING_DAYS}}
        )
    canonical = validated_document(proposal.workshop, proposal.document)
    if rationale is not None:
        proposal.rationale = rationale.strip()
    if not proposal.rationale:
        raise ValidationError({"rationale": _("Say why this change is needed before the vote.")})
    proposal.document = canonical
    proposal.state = ProposalState.OPEN
    proposal.opened_at = now
    proposal.closes_at = closes_at
    proposal.save(
        update_fields=["document", "rationale", "state", "opened_at", "closes_at", "updated_at"]
    )
    ProposalRevision.objects.create(
        proposal=proposal,
        number=proposal.revision,
        document=canonical,
        created_by=actor,
        note=labels.OPENED_FOR_VOTES,
    )
    log_action(
        "definitions.proposal.opened",
        actor=actor,
        workshop=proposal.workshop,
        proposal=proposal.pk,
        title=proposal.title,
    )
    notify(
        workshop=proposal.workshop,
        recipients=member_users(proposal.workshop),
        verb="proposal.opened",
        url=_url(proposal),
        exclude=actor,
        title=proposal.title,
        closes=closes_at,  # a time: each reader gets it in their language
    )
    events.emit(
        events.PROPOSAL_OPENED,
        workshop_id=proposal.workshop.pk,
        data=_event_data(proposal, opened_by=actor.get_username()),
    )
    return proposal


@transaction.atomic
def proposal_withdraw(*, actor: User, proposal: Proposal) -> Proposal:
    _require_author_or_admin(actor, proposal)
    proposal = _locked(proposal)
    if proposal.state not in (ProposalState.DRAFT, ProposalState.OPEN):
        raise ValidationError(_("Only a draft or an open proposal can be withdrawn."), code="state")
    proposal.state = ProposalState.WITHDRAWN
    proposal.closed_at = timezone.now()
    proposal.save(update_fields=["state", "closed_at", "updated_at"])
    log_action(
        "definitions.proposal.withdrawn",
        actor=actor,
        workshop=proposal.workshop,
        proposal=proposal.pk,
        title=proposal.title,
    )
    return proposal


def _require_open(proposal: Proposal, now: datetime) -> None:
    if proposal.state != ProposalState.OPEN or (
        proposal.closes_at is not None and proposal.closes_at <= now
    ):
        raise ValidationError(_("Voting on this proposal is closed."), code="closed")


@transaction.atomic
def vote_cast(
    *, actor: User, proposal: Proposal, choice: str, reason: str = "", now: datetime | None = None
) -> Vote:
    """Cast or change the actor's vote; one per member per proposal."""
    now = now or timezone.now()
    if roles.VOTE not in workshop_perms(actor, proposal.workshop):
        raise PermissionDenied
    proposal = _locked(proposal)
    _require_open(proposal, now)
    if choice not in VoteChoice.values:
        raise ValidationError({"choice": _("Choose agree, abstain, disagree or block.")})
    reason = reason.strip()
    if choice in (VoteChoice.DISAGREE, VoteChoice.BLOCK) and not reason:
        raise ValidationError({"reason": _("Say why you disagree or block: others need to know.")})
    membership = Membership.objects.get(workshop=proposal.workshop, user=actor)
    vote, created = Vote.objects.update_or_create(
        proposal=proposal,
        voter=actor,
        defaults={
            "choice": choice,
            "reason": reason,
            "revision": proposal.revision,
            "department": membership.department,
        },
    )
    log_action(
        "definitions.vote.cast" if created else "definitions.vote.changed",
        actor=actor,
        workshop=proposal.workshop,
        proposal=proposal.pk,
        title=proposal.title,
        choice=choice,
    )
    return vote


@transaction.atomic
def comment_add(
    *,
    actor: User,
    proposal: Proposal,
    body: str,
    parent: Comment | None = None,
    criterion_id: str = "",
) -> Comment:
    if roles.COMMENT not in workshop_perms(actor, proposal.workshop):
        raise PermissionDenied
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    if parent is not None and parent.proposal_id != proposal.pk:
        raise ValidationError(_("You can only reply to a comment on the same proposal."))
    if criterion_id and criterion_id not in criterion_ids(proposal.document):
        raise ValidationError({"criterion_id": _("This criterion is not in the proposal.")})
    comment = Comment.objects.create(
        proposal=proposal,
        author=actor,
        parent=parent,
        body=body,
        criterion_id=criterion_id if parent is None else parent.criterion_id,
    )
    log_action(
        "definitions.comment.added",
        actor=actor,
        workshop=proposal.workshop,
        proposal=proposal.pk,
        title=proposal.title,
        comment=comment.pk,
    )
    if parent is not None and parent.author is not None and parent.deleted_at is None:
        notify(
            workshop=proposal.workshop,
            recipients=[parent.author],
            verb="comment.reply",
            url=f"{_url(proposal)}#comment-{comment.pk}",
            exclude=actor,
            author=actor.get_username(),
            title=proposal.title,
        )
    return comment


@transaction.atomic
def comment_edit(
    *, actor: User, comment: Comment, body: str, now: datetime | None = None
) -> Comment:
    now = now or timezone.now()
    if comment.author_id != actor.pk:
        raise PermissionDenied
    if comment.deleted_at is not None:
        raise ValidationError(_("A deleted comment cannot be edited."))
    if now - comment.created_at > COMMENT_EDIT_WINDOW:
        raise ValidationError(_("Comments can be edited for 15 minutes; reply instead."))
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("Write something first.")})
    comment.body = body
    comment.edited_at = now
    comment.save(update_fields=["body", "edited_at"])
    log_action(
        "definitions.comment.edited",
        actor=actor,
        workshop=comment.proposal.workshop,
        proposal=comment.proposal_id,
        comment=comment.pk,
    )
    return comment


@transaction.atomic
def comment_delete(*, actor: User, comment: Comment) -> Comment:
    """Leave a tombstone: replies keep their place in the thread."""
    if comment.author_id != actor.pk and roles.CHANGE not in workshop_perms(
        actor, comment.proposal.workshop
    ):
        raise PermissionDenied
    comment.body = ""
    comment.deleted_at = timezone.now()
    comment.save(update_fields=["body", "deleted_at"])
    log_action(
        "definitions.comment.deleted",
        actor=actor,
        workshop=comment.proposal.workshop,
        proposal=comment.proposal_id,
        comment=comment.pk,
    )
    return comment


def criterion_ids(document: Any) -> set[str]:
    ids: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if ("field" in node or "activity" in node) and isinstance(node.get("id"), str):
                ids.add(node["id"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return ids


def replace_criterion(document: Any, criterion_id: str, replacement: dict[str, Any]) -> Any:
    """A copy of `document` with the criterion `criterion_id` replaced."""
    result = copy.deepcopy(document)
    stack = [result]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            for i, item in enumerate(node):
                if (
                    isinstance(item, dict)
                    and item.get("id") == criterion_id
                    and ("field" in item or "activity" in item)
                ):
                    node[i] = {**replacement, "id": criterion_id}
                    return result
                stack.append(item)
        elif isinstance(node, dict):
            stack.extend(node.values())
    raise ValidationError(_("This criterion is not in the proposal."))


@transaction.atomic
def amendment_suggest(
    *, actor: User, proposal: Proposal, criterion_id: str, replacement: dict[str, Any], reason: str
) -> Amendment:
    if roles.PROPOSE not in workshop_perms(actor, proposal.workshop):
        raise PermissionDenied
    _require_open(proposal, timezone.now())
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this change is better.")})
    amended = replace_criterion(proposal.document, criterion_id, replacement)
    result = rules.parse(amended, _catalog(proposal.workshop))
    if result.definition is None:
        raise ValidationError([e.render(_) for e in result.errors])
    if amended == proposal.document:
        raise ValidationError(_("The suggestion changes nothing."))
    amendment = Amendment.objects.create(
        proposal=proposal,
        author=actor,
        criterion_id=criterion_id,
        replacement={**replacement, "id": criterion_id},
        reason=reason,
    )
    log_action(
        "definitions.amendment.suggested",
        actor=actor,
        workshop=proposal.workshop,
        proposal=proposal.pk,
        title=proposal.title,
        criterion=criterion_id,
    )
    return amendment


def _catalog(workshop: Workshop) -> rules.Catalog:

    return catalog_for(workshop, translated=False)


@transaction.atomic
def amendment_accept(*, actor: User, amendment: Amendment) -> Proposal:
    """The author takes the change: a new revision; votes so far stay, marked as cast
    on the earlier revision so voters can look again."""
    proposal = amendment.proposal
    _require_author_or_admin(actor, proposal)
    proposal = _locked(proposal)
    _require_open(proposal, timezone.now())
    if amendment.state != AmendmentState.PENDING:
        raise ValidationError(_("This suggestion was already decided."))
    amended = validated_document(
        proposal.workshop,
        replace_criterion(proposal.document, amendment.criterion_id, amendment.replacement),
    )
    proposal.document = amended
    proposal.revision = F("revision") + 1
    proposal.save(update_fields=["document", "revision", "updated_at"])
    proposal.refresh_from_db()
    ProposalRevision.objects.create(
        proposal=proposal,
        number=proposal.revision,
        document=amended,
        created_by=actor,
        note=labels.AMENDMENT_ACCEPTED
        % {"author": amendment.author.get_username() if amendment.author else "—"},
    )
    Amendment.objects.filter(pk=amendment.pk).update(
        state=AmendmentState.ACCEPTED, decided_by=actor, decided_at=timezone.now()
    )
    log_action(
        "definitions.amendment.accepted",
        actor=actor,
        workshop=proposal.workshop,
        proposal=proposal.pk,
        title=proposal.title,
        revision=proposal.revision,
    )
    _ask_to_confirm(actor, proposal)
    return proposal


def _ask_to_confirm(actor: User, proposal: Proposal) -> None:
    """The text changed under votes already cast: they stay, marked as cast on an
    earlier text and left out of the count until their voters confirm or change them."""
    earlier = Vote.objects.filter(proposal=proposal, revision__lt=proposal.revision)
    notify(
        workshop=proposal.workshop,
        recipients=[v.voter for v in earlier.select_related("voter")],
        verb="vote.earlier_text",
        url=f"{_url(proposal)}#vote-panel",
        exclude=actor,
        title=proposal.title,
    )


def rebase_preview(proposal: Proposal) -> tuple[Version | None, MergeResult | None]:
    """The version the proposal would be rebased onto and the merge so far (None when
    the proposal is not stale)."""
    current = current_version(proposal.workshop)
    if not is_stale(proposal, current) or proposal.parent is None or current is None:
        return current, None
    return current, merge(proposal.parent.document, current.document, proposal.document)


@transaction.atomic
def proposal_rebase(
    *, actor: User, proposal: Proposal, resolutions: dict[str, Side] | None = None
) -> Proposal:
    """Carry the proposal onto the current version: a criterion-level three-way merge
    (base: the version it was drafted on; theirs: the current version; ours: its text),
    each conflict settled by ``resolutions``. On an open proposal, votes cast before
    become votes on an earlier text."""
    _require_author_or_admin(actor, proposal)
    proposal = _locked(proposal)
    if proposal.state not in (ProposalState.DRAFT, ProposalState.OPEN, ProposalState.ACCEPTED):
        raise ValidationError(
            _("Only a draft, an open or an accepted proposal can be rebased."), code="state"
        )
    current = current_version(proposal.workshop)
    if not is_stale(proposal, current) or current is None or proposal.parent is None:
        raise ValidationError(_("This proposal is already based on the current version."))
    result = merge(proposal.parent.document, current.document, proposal.document, resolutions)
    if result.document is None:
        raise ValidationError(
            {"resolutions": _("Choose which text to keep for every conflicting criterion.")}
        )
    merged = validated_document(proposal.workshop, result.document)
    fields = ["document", "parent", "revision", "updated_by", "updated_at"]
    if proposal.state == ProposalState.ACCEPTED:
        # The vote accepted another text: the rebased one goes back to the vote, for
        # the workshop's usual period, and the votes cast wait for confirmation.
        days = policy_of(proposal.workshop).default_voting_days
        proposal.state = ProposalState.OPEN
        proposal.closes_at = timezone.now() + timedelta(days=days)
        proposal.closed_at = None
        proposal.reminded_at = None
        proposal.outcome = ""
        fields += ["state", "closes_at", "closed_at", "reminded_at", "outcome"]
    proposal.document = merged
    proposal.parent = current
    proposal.revision = F("revision") + 1
    proposal.updated_by = actor
    proposal.save(update_fields=fields)
    proposal.refresh_from_db()
    if proposal.state == ProposalState.OPEN:
        ProposalRevision.objects.create(
            proposal=proposal,
            number=proposal.revision,
            document=merged,
            created_by=actor,
            note=labels.REBASED_ONTO % {"n": current.number},
        )
    log_action(
        "definitions.proposal.rebased",
        actor=actor,
        workshop=proposal.workshop,
        proposal=proposal.pk,
        title=proposal.title,
        version=current.number,
        conflicts=len(result.conflicts),
    )
    _ask_to_confirm(actor, proposal)
    return proposal


@transaction.atomic
def restore_propose(*, actor: User, version: Version, reason: str) -> Proposal:
    """Propose restoring an earlier version: a proposal with its text, based on the
    current version, opened at once for the workshop's usual voting period."""
    workshop = version.workshop
    if roles.PROPOSE not in workshop_perms(actor, workshop):
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the definition should go back.")})
    current = current_version(workshop)
    if current is None or current.pk == version.pk:
        raise ValidationError(_("This is already the current version."))
    proposal = authoring_services.proposal_create(
        actor=actor,
        workshop=workshop,
        title=_("Restore v%(n)s") % {"n": version.number},
        document=version.document,
        parent=current,
    )
    Proposal.objects.filter(pk=proposal.pk).update(restores=version)
    proposal.restores = version
    days = policy_of(workshop).default_voting_days
    return proposal_open(
        actor=actor,
        proposal=proposal,
        closes_at=timezone.now() + timedelta(days=days),
        rationale=reason,
    )


@transaction.atomic
def amendment_decline(*, actor: User, amendment: Amendment, response: str) -> Amendment:
    _require_author_or_admin(actor, amendment.proposal)
    if amendment.state != AmendmentState.PENDING:
        raise ValidationError(_("This suggestion was already decided."))
    response = response.strip()
    if not response:
        raise ValidationError({"response": _("Say why you decline it.")})
    amendment.state = AmendmentState.DECLINED
    amendment.response = response
    amendment.decided_by = actor
    amendment.decided_at = timezone.now()
    amendment.save(update_fields=["state", "response", "decided_by", "decided_at"])
    log_action(
        "definitions.amendment.declined",
        actor=actor,
        workshop=amendment.proposal.workshop,
        proposal=amendment.proposal_id,
        title=amendment.proposal.title,
    )
    return amendment


def outcome_of(
    proposal: Proposal, ballots: list[consensus.Ballot] | None = None
) -> consensus.Outcome:
    """The outcome if voting closed now (``ballots``: the votes, when already read)."""
    policy = policy_of(proposal.workshop)
    if ballots is None:
        ballots = [
            consensus.Ballot(choice, department, revision >= proposal.revision)
            for choice, department, revision in Vote.objects.filter(proposal=proposal).values_list(
                "choice", "department", "revision"
            )
        ]
    eligible = Membership.objects.filter(workshop=proposal.workshop, role__in=VOTER_ROLES).count()
    return consensus.decide(
        consensus.Policy(
            quorum_percent=policy.quorum_percent,
            required_departments=tuple(policy.required_departments),
            majority_percent=policy.majority_percent,
            block_vetoes=policy.block_vetoes,
        ),
        ballots,
        eligible,
    )


def outcome_statement(outcome: consensus.Outcome) -> str:

    params = {"voted": outcome.voted, "eligible": outcome.eligible, **outcome.counts}
    if outcome.accepted:
        head = _(
            "Accepted: %(voted)s of %(eligible)s voters took part; %(agree)s agree, "
            "%(disagree)s disagree, %(abstain)s abstain, %(block)s block."
        )
    else:
        head = _(
            "Rejected: %(voted)s of %(eligible)s voters took part; %(agree)s agree, "
            "%(disagree)s disagree, %(abstain)s abstain, %(block)s block."
        )
    head = head % params
    why = []
    for reason in outcome.reasons:
        if reason.failure == consensus.Failure.NO_ELIGIBLE_VOTERS:
            why.append(_("nobody in the workshop may vote"))
        elif reason.failure == consensus.Failure.QUORUM:
            why.append(_("the quorum was not reached"))
        elif reason.failure == consensus.Failure.DEPARTMENT:
            label = (
                Department(reason.department).label
                if reason.department in Department.values
                else reason.department
            )
            why.append(_("nobody from %(department)s agreed") % {"department": label})
        elif reason.failure == consensus.Failure.MAJORITY:
            why.append(_("agree was not a majority"))
        elif reason.failure == consensus.Failure.BLOCKED:
            why.append(_("a block was standing"))
    if why:
        reasons = _("Why: %(reasons)s.") % {"reasons": "; ".join(why)}
        return f"{head} {reasons}"
    return head


@transaction.atomic
def proposal_close(
    *, actor: User | None, proposal: Proposal, now: datetime | None = None
) -> Proposal:
    """Close the vote and record the outcome. `actor` None: the scheduled closing; an
    admin may close early."""
    now = now or timezone.now()
    if actor is not None and roles.CHANGE not in workshop_perms(actor, proposal.workshop):
        raise PermissionDenied
    proposal = _locked(proposal)
    if proposal.state != ProposalState.OPEN:
        raise ValidationError(_("Only an open proposal can be closed."), code="state")
    if actor is None and proposal.closes_at is not None and proposal.closes_at > now:
        raise ValidationError(_("Voting is still open."), code="early")
    outcome = outcome_of(proposal)
    proposal.state = ProposalState.ACCEPTED if outcome.accepted else ProposalState.REJECTED
    proposal.outcome = outcome_statement(outcome)
    proposal.closed_at = now
    proposal.save(update_fields=["state", "outcome", "closed_at", "updated_at"])
    log_action(
        "definitions.proposal.closed",
        actor=actor,
        workshop=proposal.workshop,
        proposal=proposal.pk,
        title=proposal.title,
        state=proposal.state,
    )
    notify(
        workshop=proposal.workshop,
        recipients=member_users(proposal.workshop),
        verb="proposal.closed",
        url=_url(proposal),
        title=proposal.title,
        outcome=proposal.state,  # the code: each reader gets its label in their language
    )
    events.emit(
        events.PROPOSAL_CLOSED,
        workshop_id=proposal.workshop.pk,
        data=_event_data(
            proposal,
            accepted=proposal.state == ProposalState.ACCEPTED,
            outcome=proposal.outcome,
            closed_at=now.isoformat(),
            closed_by=actor.get_username() if actor is not None else None,
        ),
    )
    return proposal


def proposals_close_due(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    closed = 0
    due = Proposal.objects.filter(state=ProposalState.OPEN, closes_at__lte=now).select_related(
        "workshop"
    )
    for proposal in due:
        try:
            proposal_close(actor=None, proposal=proposal, now=now)
        except ValidationError:
            continue  # closed by someone else in the meantime
        closed += 1
    return closed


@transaction.atomic
def proposals_remind_closing(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    soon = Proposal.objects.select_for_update(skip_locked=True).filter(
        state=ProposalState.OPEN,
        closes_at__gt=now,
        closes_at__lte=now + timedelta(hours=24),
        reminded_at__isnull=True,
    )
    count = 0
    for proposal in soon.select_related("workshop"):
        voted = set(Vote.objects.filter(proposal=proposal).values_list("voter_id", flat=True))
        voters = _voters(proposal.workshop)
        voter_ids = {u.pk for u in voters}
        notify(
            workshop=proposal.workshop,
            recipients=[u for u in voters if u.pk not in voted],
            verb="proposal.closing_soon",
            url=_url(proposal),
            title=proposal.title,
            closes=proposal.closes_at,
        )
        Proposal.objects.filter(pk=proposal.pk).update(reminded_at=now)
        events.emit(
            events.PROPOSAL_CLOSING_SOON,
            workshop_id=proposal.workshop.pk,
            data=_event_data(proposal, not_voted=len(voters) - len(voted & voter_ids)),
        )
        count += 1
    return count
