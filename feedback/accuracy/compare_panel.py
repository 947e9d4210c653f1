"""The compare page's evidence: each version's or draft's latest finished backtest,
its counts per cut and its accuracy against outcomes at the handoff stage. Connected
to the page_context extension point in feedback/apps.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from definitions.models import HandoffStage, Workshop
from feedback.accuracy import metrics
from feedback.accuracy.selectors import outcome_counts
from feedback.backtests import selectors as backtest_selectors
from feedback.backtests import services as backtest_services
from feedback.models import EvaluationRun, RunState


@dataclass(frozen=True)
class Evidence:
    run: EvaluationRun
    stale: bool
    total: int
    qualified: int
    mql: int  # MQL or better
    sql: int
    junk: int
    outcomes: metrics.Confusion | None  # at the handoff stage


def _finished(workshop: Workshop, item: Any) -> EvaluationRun | None:
    if item.version is not None:
        return backtest_selectors.latest_done_run(workshop, version=item.version)
    run = backtest_selectors.latest_run(workshop, proposal=item.proposal)
    return run if run is not None and run.state == RunState.DONE else None


def evidence(workshop: Workshop, item: Any) -> Evidence | None:
    run = _finished(workshop, item)
    if run is None:
        return None
    run.workshop = workshop
    counts = run.stage_counts or {}
    cuts = (outcome_counts(run) or {}).get("cuts", {})
    cut = cuts.get(workshop.handoff_stage)
    return Evidence(
        run=run,
        stale=backtest_services.is_stale(run, workshop),
        total=run.leads_total or 0,
        qualified=sum(counts.get(s, 0) for s in ("lead", "mql", "sql")),
        mql=counts.get("mql", 0) + counts.get("sql", 0),
        sql=counts.get("sql", 0),
        junk=counts.get("junk", 0),
        outcomes=metrics.Confusion(**cut) if cut else None,
    )


def on_compare_page(
    sender: str, *, workshop: Workshop, items: list[Any], **_: Any
) -> dict[str, Any]:
    return {
        "evidence": [evidence(workshop, item) for item in items],
        "handoff_label": str(HandoffStage(workshop.handoff_stage).label),
    }
