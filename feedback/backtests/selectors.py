"""Reads for backtests: runs, their results, the change against the parent version,
and one lead as the reference evaluator sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet, TextField, Value
from django.db.models.functions import Concat, StrIndex
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext_lazy

from definitions import rules
from definitions.models import HandoffStage, Proposal, Version, Workshop
from feedback.models import EvaluationRun, Lead, LeadActivity, LeadResult, RunState

STAGES = ("subscriber", "lead", "mql", "sql", "junk")
RESULT_FILTERS = ("qualified", "not_qualified", *STAGES)
CHANGES = ("gained", "lost")

# How a stage reads on screen (the stage codes are the results' own).
STAGE_LABELS = {
    "subscriber": gettext_lazy("Subscriber (not qualified)"),
    "lead": gettext_lazy("Lead"),
    "mql": gettext_lazy("MQL"),
    "sql": gettext_lazy("SQL"),
    "junk": gettext_lazy("Junk"),
}


def latest_run(
    workshop: Workshop, *, version: Version | None = None, proposal: Proposal | None = None
) -> EvaluationRun | None:
    """The newest run of a version, or of a proposal's current revision."""
    qs = EvaluationRun.objects.filter(workshop=workshop)
    if version is not None:
        qs = qs.filter(version=version)
    else:
        assert proposal is not None
        qs = qs.filter(proposal=proposal, proposal_revision=proposal.revision)
    return qs.order_by("-id").first()


def latest_done_run(workshop: Workshop, *, version: Version) -> EvaluationRun | None:
    return (
        EvaluationRun.objects.filter(workshop=workshop, version=version, state=RunState.DONE)
        .order_by("-id")
        .first()
    )


def base_run(run: EvaluationRun) -> EvaluationRun | None:
    """The run to compare with: the parent version's latest finished run."""
    parent: Version | None
    if run.proposal_id is not None:
        parent = run.proposal.parent if run.proposal else None
    else:
        parent = run.version.parent if run.version else None
    if parent is None:
        return None
    return latest_done_run(run.workshop, version=parent)


def runs_of(workshop: Workshop) -> QuerySet[EvaluationRun]:
    return (
        EvaluationRun.objects.filter(workshop=workshop)
        .select_related("version", "proposal", "created_by")
        .order_by("-id")
    )


@dataclass(frozen=True)
class Change:
    base: EvaluationRun
    gained: int
    lost: int
    cut: str  # the handoff stage measured at: "qualified", "mql" or "sql"

    @property
    def cut_label(self) -> str:
        return str(HandoffStage(self.cut).label)


def run_change(run: EvaluationRun, base: EvaluationRun | None) -> Change | None:
    """How many leads reach the workshop's handoff stage now and did not under the base
    run, and the reverse.

    Both runs' results are read in primary-key order, so this is one merge of two
    ordered ranges, not a lookup per lead. A lead the base run never saw (imported
    since) counts as not handed over there."""
    if base is None or run.state != RunState.DONE or base.state != RunState.DONE:
        return None
    cut = run.workshop.handoff_stage
    # Two finished runs never change, so their comparison (a second over a million
    # leads) is computed once per process and kept, per handoff stage.
    counts: tuple[int, int] = cache.get_or_set(
        f"run-change:{run.pk}:{base.pk}:{cut}",
        lambda: _count_change(run, base, cut),
        timeout=None,
    ) or _count_change(run, base, cut)
    return Change(base=base, gained=counts[0], lost=counts[1], cut=cut)


def _count_change(run: EvaluationRun, base: EvaluationRun, cut: str) -> tuple[int, int]:
    table = LeadResult._meta.db_table
    stages = rules.cut_stages(cut)
    marks = ", ".join(["%s"] * len(stages))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT "  # noqa: S608
            f"SUM(CASE WHEN a.stage IN ({marks}) AND (b.stage IS NULL OR b.stage NOT IN ({marks})) "
            "THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN a.stage NOT IN ({marks}) AND b.stage IN ({marks}) THEN 1 ELSE 0 END) "
            f"FROM {table} a LEFT JOIN {table} b ON b.run_id = %s AND b.lead_id = a.lead_id "
            "WHERE a.run_id = %s",
            [*stages, *stages, *stages, *stages, base.pk, run.pk],
        )
        gained, lost = cursor.fetchone()
    return gained or 0, lost or 0


def run_leads(
    run: EvaluationRun,
    *,
    result: str = "",
    criterion: str = "",
    change: str = "",
    base: EvaluationRun | None = None,
    entered: str = "",
    left: str = "",
) -> QuerySet[Lead]:
    """The run's leads, filtered by result, by a matched criterion, by their change
    against the base run at the handoff stage, or by the stage they ``entered`` or
    ``left`` since the base run; newest first. Only a finished run has leads to show."""
    if run.state != RunState.DONE:
        return Lead.objects.none()
    mine = LeadResult.objects.filter(run=run, lead=OuterRef("pk"))
    if result == "qualified":
        mine = mine.filter(qualified=True)
    elif result == "not_qualified":
        mine = mine.filter(qualified=False)
    elif result in STAGES:
        mine = mine.filter(stage=result)
    if criterion:
        mine = mine.filter(matched_criterion(criterion))
    qs = Lead.objects.filter(workshop_id=run.workshop_id).filter(Exists(mine))
    if change in CHANGES and base is not None:
        # Handed over at the workshop's handoff stage, as run_change counts.
        stages = rules.cut_stages(run.workshop.handoff_stage)
        before = LeadResult.objects.filter(run=base, lead=OuterRef("pk"), stage__in=stages)
        now = LeadResult.objects.filter(run=run, lead=OuterRef("pk"), stage__in=stages)
        qs = (
            qs.filter(Exists(now), ~Exists(before))
            if change == "gained"
            else qs.filter(~Exists(now), Exists(before))
        )
    for stage, into in ((entered, True), (left, False)):
        if stage in STAGES and base is not None:
            now = LeadResult.objects.filter(run=run, lead=OuterRef("pk"), stage=stage)
            before = LeadResult.objects.filter(run=base, lead=OuterRef("pk"), stage=stage)
            qs = (
                qs.filter(Exists(now), ~Exists(before))
                if into
                else qs.filter(~Exists(now), Exists(before))
            )
    return qs.order_by("-id")


def matched_criterion(criterion_id: str) -> GreaterThan:
    """Results whose matched list holds the id: ids never hold a comma, so ",id,"
    inside ",a,b," finds exactly that id."""
    wrapped = Concat(Value(","), "matched", Value(","), output_field=TextField())
    return GreaterThan(StrIndex(wrapped, Value(f",{criterion_id},")), 0)


def results_for_leads(run: EvaluationRun, lead_ids: list[int]) -> dict[int, LeadResult]:
    """One page's results, by lead id (a primary-key lookup each)."""
    if run.state != RunState.DONE or not lead_ids:
        return {}
    return {r.lead_id: r for r in LeadResult.objects.filter(run=run, lead_id__in=lead_ids)}


def lead_verdicts(lead: Lead) -> list[tuple[EvaluationRun, LeadResult | None]]:
    """This lead in the latest finished run of each version, newest version first."""
    runs: dict[int, EvaluationRun] = {}
    for run in (
        EvaluationRun.objects.filter(
            workshop_id=lead.workshop_id, state=RunState.DONE, version__isnull=False
        )
        .select_related("version")
        .order_by("-id")
    ):
        runs.setdefault(run.version_id or 0, run)
    ordered = sorted(runs.values(), key=lambda r: -(r.version.number if r.version else 0))
    results = {
        r.run_id: r
        for r in LeadResult.objects.filter(run_id__in=[r.pk for r in ordered], lead=lead)
    }
    return [(run, results.get(run.pk)) for run in ordered]


# ----------------------------------------------------------- one lead, as evaluated


def custom_for_evaluator(spec: rules.FieldSpec, raw: object) -> object:
    # Custom dates are stored as "YYYY-MM-DD"; the evaluator compares dates.
    if spec.type == rules.FieldType.DATE and isinstance(raw, str):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return raw
    return raw


def lead_moment(run: EvaluationRun, lead: Lead) -> datetime:
    """The moment the run judged the lead at: its decision moment (its creation plus
    the run's decision days, never after the run's as_of), or as_of for a run from
    before decision moments."""
    if run.decision_days is None:
        return run.as_of
    return rules.decision_moment(lead.created_at, run.decision_days, run.as_of)


def lead_data(lead: Lead, catalog: rules.Catalog, *, limit: int = 100_000) -> rules.LeadData:
    """The lead as the reference evaluator takes it: built-in columns, custom values
    typed by the catalog, and its activities (oldest first)."""
    fields: dict[str, object] = {}
    for key, spec in catalog.fields.items():
        if spec.builtin:
            fields[key] = getattr(lead, key, None)
        elif isinstance(lead.custom, dict) and key in lead.custom:
            fields[key] = custom_for_evaluator(spec, lead.custom[key])
    activities = tuple(
        rules.Activity(kind=kind, at=at if at.tzinfo else at.replace(tzinfo=UTC))
        for kind, at in LeadActivity.objects.filter(lead=lead)
        .order_by("at")
        .values_list("kind", "at")[:limit]
    )
    return rules.LeadData(fields=fields, activities=activities)
