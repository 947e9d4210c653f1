"""The verdicts package's part of the lead page, through the page_context extension
point (connected in feedback/apps.py): the lead's verdict history and whether the rep
may flag it as missed."""

from __future__ import annotations

from typing import Any

from definitions import roles
from feedback.backtests.selectors import results_for_leads
from feedback.models import Lead
from feedback.verdicts.selectors import queue_run, verdict_history


def on_lead_page(sender: str, *, lead: Lead, **_: Any) -> dict[str, Any]:
    """What a rep may do here: flag a lead the current version rejected as missed."""
    version, run = queue_run(lead.workshop)
    result = results_for_leads(run, [lead.pk]).get(lead.pk) if run else None
    return {
        "can_flag_missed": roles.GIVE_FEEDBACK in lead.workshop.user_perms
        and result is not None
        and not result.qualified,
        "current_version": version,
        "feedback_history": verdict_history(lead)[:20],
    }
