"""The shadow panel of the proposal page (feedback/_shadow_panel.html), through the
page_context extension point (connected in feedback/apps.py), next to the backtest."""

from __future__ import annotations

from typing import Any

from definitions import roles
from definitions.models import Proposal, Workshop
from feedback.shadows import selectors
from feedback.shadows.services import MAX_RUNNING, STARTABLE_STATES


def on_proposal_page(
    sender: str, *, workshop: Workshop, proposal: Proposal, **_: Any
) -> dict[str, Any]:
    summary = selectors.shadow_summary(proposal)
    running_here = bool(summary and summary["running"])
    return {
        "shadow_panel": {
            "summary": summary,
            "sides": summary["definitions"] if summary else [],
            "can_start": roles.PROPOSE in workshop.user_perms
            and proposal.state in STARTABLE_STATES
            and not running_here,
            "can_stop": roles.PROPOSE in workshop.user_perms and running_here,
            "full": not running_here and selectors.running_count(workshop) >= MAX_RUNNING,
            "max_running": MAX_RUNNING,
            "shadow_days": workshop.shadow_days,
        }
    }
