"""A backtest as a panel: the context of feedback/_backtest_panel.html and of the run
page's summary. The proposal and version pages of the definitions app show the panel
through its page_context extension point (receivers below, connected in
feedback/apps.py)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from definitions import roles
from definitions.models import Proposal, Version, Workshop
from feedback.backtests import selectors as backtest_selectors
from feedback.backtests import services as backtest_services
from feedback.models import EvaluationRun, RunState


def _label(run: EvaluationRun) -> str:
    if run.version is not None:
        return _("Version v%(n)s") % {"n": run.version.number}
    if run.proposal is not None:
        return _("Proposal “%(title)s”, revision %(n)s") % {
            "title": run.proposal.title,
            "n": run.proposal_revision,
        }
    return _("Backtest %(n)s") % {"n": run.pk}


def run_summary(run: EvaluationRun | None) -> dict[str, Any]:
    """The numbers shown wherever a run is summed up (run page, version, proposal)."""
    if run is None:
        return {"run": None}
    counts = run.stage_counts or {}
    total = run.leads_total or 0
    qualified = counts.get("qualified", 0)
    mql = counts.get("mql", 0) + counts.get("sql", 0)
    sql = counts.get("sql", 0)
    funnel = [
        (_("All leads"), total),
        (_("Qualified"), qualified),
        (_("MQL or better"), mql),
        (_("SQL"), sql),
    ]
    percent = 100 if run.state == RunState.DONE else int(100 * run.leads_done / max(total, 1))
    return {
        "run": run,
        "run_label": _label(run),
        "stale": backtest_services.is_stale(run, run.workshop),
        "percent": min(percent, 100),
        "funnel": funnel,
        "total": total,
        "stages": [(stage, counts.get(stage, 0)) for stage in backtest_selectors.STAGES],
    }


def backtest_panel(
    workshop: Workshop, *, version: Version | None = None, proposal: Proposal | None = None
) -> dict[str, Any]:
    """Context of feedback/_backtest_panel.html on a version's or a proposal's page."""
    run = backtest_selectors.latest_run(workshop, version=version, proposal=proposal)
    if run is not None:
        run.workshop = workshop
    return {
        **run_summary(run),
        "can_backtest": roles.PROPOSE in workshop.user_perms,
        "target": "version" if version is not None else "proposal",
        "target_id": version.number if version is not None else proposal.pk,  # type: ignore[union-attr]
    }


def on_proposal_page(
    sender: str, *, workshop: Workshop, proposal: Proposal, **_: Any
) -> dict[str, Any]:
    return backtest_panel(workshop, proposal=proposal)


def on_version_page(
    sender: str, *, workshop: Workshop, version: Version, **_: Any
) -> dict[str, Any]:
    return backtest_panel(workshop, version=version)
