"""Writes for sales feedback: a rep's verdict on a lead, undo, and fresh BANT data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.leads.services import leads_changed
from feedback.models import Lead, LeadFeedback, LeadResult, Reason, Verdict
from feedback.verdicts import tallies
from feedback.verdicts.selectors import queue_run

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NOTE_LIMIT = 2000
BANT_FIELDS = ("budget", "authority", "need", "timeline_days")


@transaction.atomic
def verdict_record(
    *, actor: User, lead: Lead, verdict: str, reason: str = "", note: str = ""
) -> LeadFeedback:
    """Record the rep's verdict on a lead, with the current version's judgement of it
    at this moment; the rep's previous verdict on the lead becomes history."""
    errors: dict[str, str] = {}
    if verdict not in Verdict.values:
        errors["verdict"] = _("Choose good lead, not a lead, or missed.")
    if verdict == Verdict.NOT_A_LEAD and reason not in Reason.values:
        errors["reason"] = _("Say why it is not a lead.")
    if verdict != Verdict.NOT_A_LEAD and reason:
        errors["reason"] = _("Only “not a lead” takes a reason.")
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        errors["note"] = _("Keep the note under %(n)s characters.") % {"n": NOTE_LIMIT}
    # What the rep was shown: the queue's version and run (the previous version's
    # while the current one's backtest is still running).
    version, run = queue_run(lead.workshop)
    result = None
    if run is not None:
        result = LeadResult.objects.filter(run=run, lead=lead).first()
    if verdict == Verdict.MISSED and result is not None and result.qualified:
        errors["verdict"] = _("The definition qualified this lead: it was not missed.")
    if errors:
        raise ValidationError(errors)
    tallies.verdicts_lock(lead.workshop_id)
    before = tallies.current_verdicts(lead.pk)
    # The rep's own verdict; an imported one stays current beside it (newer counts).
    previous = (
        LeadFeedback.objects.select_for_update()
        .filter(lead=lead, rep=actor, superseded_at__isnull=True, imported=False)
        .first()
    )
    if previous is not None:
        previous.superseded_at = timezone.now()
        previous.save(update_fields=["superseded_at"])
    feedback = LeadFeedback.objects.create(
        workshop=lead.workshop,
        lead=lead,
        rep=actor,
        verdict=verdict,
        reason=reason,
        note=note,
        version=version,
        qualified=result.qualified if result else None,
        stage=result.stage if result else "",
        score=result.score if result else None,
        replaces=previous,
    )
    # The new verdict is the newest, so it is the one that counts for the lead now.
    tallies.tally_lead(
        workshop_id=lead.workshop_id,
        lead_id=lead.pk,
        before=before,
        after=tallies.current_verdicts(lead.pk),
    )
    return feedback


@transaction.atomic
def verdict_undo(*, actor: User, workshop: Any) -> LeadFeedback | None:
    """Take back the rep's latest verdict in the workshop; the verdict it replaced (if
    any) is current again. Returns the verdict taken back, or None if there is none."""
    tallies.verdicts_lock(workshop.pk)
    last = (
        LeadFeedback.objects.select_for_update()
        .filter(workshop=workshop, rep=actor, superseded_at__isnull=True, imported=False)
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None:
        return None
    before = tallies.current_verdicts(last.lead_id)
    replaced = last.replaces
    last.delete()
    if replaced is not None:
        replaced.superseded_at = None
        replaced.save(update_fields=["superseded_at"])
    tallies.tally_lead(
        workshop_id=last.workshop_id,
        lead_id=last.lead_id,
        before=before,
        after=tallies.current_verdicts(last.lead_id),
    )
    return last


@transaction.atomic
def lead_bant_update(*, actor: User, lead: Lead, values: dict[str, Any]) -> Lead:
    """Update the BANT fields a rep learnt in a conversation (already validated)."""
    changed = [key for key in BANT_FIELDS if key in values and getattr(lead, key) != values[key]]
    for key in changed:
        setattr(lead, key, values[key])
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])
        leads_changed(workshop_id=lead.workshop_id)
    return lead
