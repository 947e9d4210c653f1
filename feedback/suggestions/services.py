"""Turning discovery's suggestions into a proposal draft whose backtest is queued."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.models import Proposal, Version, Workshop
from definitions.rules import edit
from feedback.backtests import services as backtest_services

from .types import Discovery, Suggestion

TITLE_CHARS = 200  # Proposal.title


def chosen_suggestions(discovery: Discovery, keys: Sequence[str]) -> list[Suggestion]:
    """The suggestions named by ``keys`` ("recommended" names the recommended draft);
    ValidationError names the first unknown key."""
    if not keys:
        raise ValidationError(_("Choose at least one suggestion."))
    chosen: list[Suggestion] = []
    for key in keys:
        found = discovery.find(key)
        if found is None:
            raise ValidationError(
                _("There is no suggestion %(key)s in this discovery.") % {"key": key}
            )
        if found not in chosen:
            chosen.append(found)
    return chosen


def combined_changes(chosen: Sequence[Suggestion]) -> list[dict[str, Any]]:
    """Every chosen change once, in the order chosen (the recommended draft already
    holds the single suggestions it is made of)."""
    changes: list[dict[str, Any]] = []
    for suggestion in chosen:
        changes.extend(c for c in suggestion.changes if c not in changes)
    return changes


def rationale(discovery: Discovery, chosen: Sequence[Suggestion], previous: str) -> str:
    target = {
        "outcome": _("the outcomes"),
        "verdict": _("the reps' verdicts"),
        "both": _("leads where outcome and verdicts agree"),
    }[discovery.goal.target]
    lines = [
        _(
            "Suggested by discovery on v%(version)s, measured against %(target)s at the "
            "handoff stage (%(stage)s). Learned from %(learning)s leads; every figure is "
            "from %(validation)s other leads it never learned from."
        )
        % {
            "version": discovery.version,
            "target": target,
            "stage": discovery.handoff,
            "learning": discovery.learning,
            "validation": discovery.validation,
        }
    ]
    for suggestion in chosen:
        lines.append(f"- {suggestion.title}: {suggestion.evidence}")
    text = "\n".join(lines)
    if previous.strip():
        text = f"{previous.rstrip()}\n\n{text}"
    return text[: rules.MAX_RATIONALE_CHARS]


@transaction.atomic
def suggestions_apply(
    *,
    actor: Any,
    workshop: Workshop,
    version: Version,
    discovery: Discovery,
    keys: Sequence[str],
) -> Proposal:
    """A proposal draft based on ``version`` with the chosen changes, its rationale
    carrying their evidence; its backtest is queued."""
    if discovery.version != version.number:
        raise ValidationError(_("These suggestions were found for another version."))
    chosen = chosen_suggestions(discovery, keys)
    try:
        document = edit.apply_changes(version.document, combined_changes(chosen))
    except edit.ChangeError as exc:
        raise ValidationError(
            _("These changes do not apply together: %(why)s") % {"why": exc}
        ) from exc
    document["rationale"] = rationale(discovery, chosen, str(document.get("rationale") or ""))
    if len(chosen) == 1:
        title = chosen[0].title
    else:
        title = _("%(n)s suggested changes to v%(version)s") % {
            "n": len(chosen),
            "version": version.number,
        }
    proposal = authoring_services.proposal_create(
        actor=actor,
        workshop=workshop,
        title=title[:TITLE_CHARS],
        document=document,
        parent=version,
    )
    backtest_services.backtest_start(actor=actor, workshop=workshop, proposal=proposal)
    return proposal
