"""Reads of verdicts: the queue's run and leads, a rep's verdicts, a lead's history,
and the verdicts counted afresh or from the tallies."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet, Sum

from definitions import rules
from definitions.models import Version, Workshop
from definitions.versions.selectors import current_version
from feedback.backtests.services import run_for_version
from feedback.models import (
    EvaluationRun,
    Lead,
    LeadFeedback,
    LeadResult,
    RunState,
    VerdictOrigin,
    VerdictTally,
)

QUEUE_FILTERS = ("unreviewed", "mine", "all")


def queue_run(workshop: Workshop) -> tuple[Version | None, EvaluationRun | None]:
    """The version whose judgements the reps' queue shows, and its finished backtest.

    Normally the current version and its run (or, for a restored version, the restored
    version's run while the leads are unchanged). While a newly published version's
    backtest is still running, the queue keeps the newest earlier version that has
    one: it never goes empty for lack of a run."""
    version = current_version(workshop)
    if version is None:
        return None, None
    run = run_for_version(workshop, version)
    if run is None:
        previous = (
            EvaluationRun.objects.filter(
                workshop=workshop, version__isnull=False, state=RunState.DONE
            )
            .select_related("version")
            .order_by("-version__number", "-id")
            .first()
        )
        if previous is not None:
            return previous.version, previous
    return version, run


def feedback_queue(
    workshop: Workshop,
    run: EvaluationRun,
    *,
    rep: Any,
    show: str = "unreviewed",
    stage: str = "",
    source: str = "",
) -> QuerySet[Lead]:
    """Leads the run handed to sales (at or beyond the workshop's handoff stage), newest
    first: not reviewed by anyone yet, reviewed by this rep ("mine"), or all;
    optionally of one stage or source."""
    results = LeadResult.objects.filter(
        run=run, lead=OuterRef("pk"), stage__in=handoff_stages(workshop)
    )
    if stage:
        results = results.filter(stage=stage)
    qs = Lead.objects.filter(workshop=workshop).filter(Exists(results))
    current = LeadFeedback.objects.filter(lead=OuterRef("pk"), superseded_at__isnull=True)
    if show == "unreviewed":
        qs = qs.filter(~Exists(current))
    elif show == "mine":
        qs = qs.filter(Exists(current.filter(rep=rep)))
    if source:
        qs = qs.filter(source=source)
    return qs.order_by("-id")


def handoff_stages(workshop: Workshop) -> tuple[str, ...]:
    """The stages at or beyond the workshop's handoff stage: the leads sales gets."""
    return rules.cut_stages(workshop.handoff_stage)


def unreviewed_count(run: EvaluationRun, workshop: Workshop) -> int:
    """How many leads the run handed to sales that nobody has judged yet: the unfiltered
    queue's length, from the run's counts and its verdict tallies (counting the queue
    itself reads a lead, its result and its verdicts per lead)."""
    stages = handoff_stages(workshop)
    reviewed = VerdictTally.objects.filter(
        run=run, criterion="", origin="", stage__in=stages
    ).aggregate(n=Sum("n"))["n"]
    counts = run.stage_counts or {}
    handed: int = sum(counts.get(stage, 0) for stage in stages)
    return handed - (reviewed or 0)


def my_verdicts(rep: Any, lead_ids: list[int]) -> dict[int, LeadFeedback]:
    """The rep's own current verdicts given in the app (not those imported in their
    name: the queue's keys change the rep's own)."""
    return {
        f.lead_id: f
        for f in LeadFeedback.objects.filter(
            rep=rep, lead_id__in=lead_ids, superseded_at__isnull=True, imported=False
        )
    }


def imported_verdicts(lead_ids: list[int]) -> dict[int, LeadFeedback]:
    """The leads' current imported verdicts (at most one each), with their rep."""
    return {
        f.lead_id: f
        for f in LeadFeedback.objects.filter(
            lead_id__in=lead_ids, superseded_at__isnull=True, imported=True
        ).select_related("rep")
    }


def verdicts_of(workshop: Workshop) -> QuerySet[LeadFeedback]:
    """Every verdict of the workshop, history included, oldest first."""
    return (
        LeadFeedback.objects.filter(workshop=workshop)
        .select_related("rep", "lead", "version")
        .order_by("created_at", "id")
    )


def verdict_history(lead: Lead) -> QuerySet[LeadFeedback]:
    return (
        LeadFeedback.objects.filter(lead=lead)
        .select_related("rep", "version")
        .order_by("-created_at", "-id")
    )


Group = tuple[str, str, bool, str, str, int]  # verdict, reason, qualified, stage, matched, n


def counted_verdict_groups(run: EvaluationRun, origin: str = "") -> list[Group]:
    """The run's reviewed leads counted afresh from the verdicts, grouped by (verdict,
    reason, qualified, stage, matched): what a run's tallies start from, and what they must
    always equal. One verdict per lead, the newest current one (when reps disagree,
    the newest counts). It starts from the verdicts, not from the run's million
    results, and reads each reviewed lead's result by primary key. Plain SQL: the ORM
    would join through the lead table to reach the result, for nothing."""
    feedback, result = LeadFeedback._meta.db_table, LeadResult._meta.db_table
    # Only those of one origin ("" for any): the newest imported, or given in the app.
    only, newer_only, params = "", "", [run.pk, run.workshop_id]
    if origin:
        only, newer_only = " AND f.imported = %s", " AND newer.imported = %s"
        params += [origin == VerdictOrigin.IMPORTED] * 2
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.verdict, f.reason, r.qualified, r.stage, r.matched, count(*)"  # noqa: S608
            f" FROM {feedback} f JOIN {result} r ON r.run_id = %s AND r.lead_id = f.lead_id"
            f" WHERE f.workshop_id = %s AND f.superseded_at IS NULL{only} AND NOT EXISTS ("
            f"  SELECT 1 FROM {feedback} newer WHERE newer.lead_id = f.lead_id"
            f"   AND newer.superseded_at IS NULL AND newer.id > f.id{newer_only})"
            " GROUP BY f.verdict, f.reason, r.qualified, r.stage, r.matched",
            params,
        )
        return [tuple(row) for row in cursor.fetchall()]


# criterion ("" for all), verdict, reason, qualified, stage, n
TallyRow = tuple[str, str, str, bool, str, int]


def tallied_verdict_rows(run: EvaluationRun, origin: str = "") -> list[TallyRow]:
    """The run's verdict tallies, as the verdict services keep them
    (feedback.verdicts.tallies): a few hundred rows however many verdicts there are.
    `origin`: only imported verdicts, only those given in the app, or "" for both."""
    return list(
        VerdictTally.objects.filter(run=run, origin=origin, n__gt=0).values_list(
            "criterion", "verdict", "reason", "qualified", "stage", "n"
        )
    )
