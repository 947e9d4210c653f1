"""Backtests as other pages show them: the panel of feedback/_backtest_panel.html and
the run page's summary, and what each version says about one lead. The proposal,
version and lead pages get them through the page_context extension point (receivers
at the end, connected in feedback/apps.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from definitions import roles, rules
from definitions.models import Proposal, Version, Workshop
from feedback.backtests import selectors as backtest_selectors
from feedback.backtests import services as backtest_services
from feedback.models import EvaluationRun, Lead, LeadResult, RunState


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
    if run is None and version is not None:
        # A restored version shows the restored version's run while it still holds.
        run = backtest_services.run_for_version(workshop, version)
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


def on_restore_page(
    sender: str, *, workshop: Workshop, versions: list[Version], **_: Any
) -> dict[str, Any]:
    """The backtests of the current version and of the one to restore, side by side."""
    rows = []
    for version in versions:
        run = backtest_services.run_for_version(workshop, version)
        if run is not None:
            run.workshop = workshop
        rows.append((version, run_summary(run)))
    return {"restore_runs": rows}


@dataclass(frozen=True)
class Classification:
    run: EvaluationRun
    result: LeadResult | None
    matched: list[tuple[str, str]]  # (section label, criterion in plain language)
    unmatched: list[tuple[str, str]]
    # Matched rules with negative points: they count against the lead, so they are
    # listed apart from the ones that helped it qualify.
    subtracted: list[tuple[str, str]] = field(default_factory=list)


def classifications_of(lead: Lead, catalog: rules.Catalog) -> list[Classification]:
    """For each version's latest backtest: the result and, criterion by criterion in
    the reader's language, why."""
    sections = {
        rules.Section.QUALIFY: _("Qualify"),
        rules.Section.DISQUALIFY: _("Junk rule"),
        rules.Section.SCORING: _("Scoring"),
        rules.Section.SALES_READY: _("Sales-ready action"),
    }
    out = []
    for run, result in backtest_selectors.lead_verdicts(lead):
        definition = rules.parse(run.document, catalog).definition
        matched: list[tuple[str, str]] = []
        unmatched: list[tuple[str, str]] = []
        subtracted: list[tuple[str, str]] = []
        hits = set(result.matched_ids) if result else set()
        if definition is not None:
            for located in rules.walk(definition):
                node = located.node
                if isinstance(node, rules.Group):
                    continue
                line = (
                    str(sections[located.section]),
                    rules.render_criterion_with_points(node, catalog, _, ngettext),
                )
                if node.id not in hits:
                    unmatched.append(line)
                elif node.points is not None and node.points < 0:
                    subtracted.append(line)
                else:
                    matched.append(line)
        out.append(
            Classification(
                run=run,
                result=result,
                matched=matched,
                unmatched=unmatched,
                subtracted=subtracted,
            )
        )
    return out


def on_lead_page(sender: str, *, lead: Lead, catalog: rules.Catalog, **_: Any) -> dict[str, Any]:
    return {"classifications": classifications_of(lead, catalog)}
