"""Accuracy counted from a run's results: against outcomes (stored on the run once it
settles) and against the reps' verdicts (from the verdict tallies)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q
from django.utils.translation import ngettext

from definitions import rules
from definitions.catalog.selectors import catalog_for
from definitions.models import HandoffStage, Proposal, ProposalState, Version, Workshop
from definitions.versions.selectors import versions_of
from feedback.accuracy import metrics
from feedback.backtests.selectors import latest_done_run, matched_criterion
from feedback.models import (
    EvaluationRun,
    LeadResult,
    RunState,
    Verdict,
    VerdictOrigin,
)
from feedback.verdicts.selectors import queue_run, tallied_verdict_rows

GOOD_OUTCOME = Q(lead__converted=True) | Q(lead__reached_stage__in=["opportunity", "customer"])

KNOWN_OUTCOME = Q(lead__converted__isnull=False) | Q(lead__reached_stage__isnull=False)

SCORE_EDGES = (0, 20, 40, 60, 80, 100)


@dataclass(frozen=True)
class CriterionStats:
    id: str
    text: str
    matched: metrics.Rate  # conversion of leads it matched
    unmatched: metrics.Rate  # conversion of leads it did not match
    rejected: metrics.Rate  # share of reviewed leads it matched that reps rejected
    reasons: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Cut:
    """The measures with the leads that reach one stage taken as handed to sales."""

    stage: str  # "qualified", "mql" or "sql"
    outcomes: metrics.Confusion
    verdicts: metrics.Confusion

    def as_dict(self) -> dict[str, Any]:
        return {"outcomes": self.outcomes.as_dict(), "verdicts": self.verdicts.as_dict()}


@dataclass(frozen=True)
class Accuracy:
    run: EvaluationRun
    # The headline: measured at the workshop's handoff stage (``handoff``).
    outcomes: metrics.Confusion
    verdicts: metrics.Confusion
    qualified_share: metrics.Rate
    coverage: metrics.Rate  # qualified leads with a rep verdict
    bands: list[metrics.Band]
    # (score, good, not good) of qualified leads with a known outcome, for sweeps.
    qualified_by_score: list[tuple[int, int, int]]
    sweep: list[metrics.SweepPoint]
    best: metrics.SweepPoint | None
    criteria: list[CriterionStats]
    # Reviewed qualified leads per (verdict, reason).
    qualified_verdicts: Counter[tuple[str, str]] = field(default_factory=Counter)
    handoff: str = "qualified"
    # Every cut, in order (qualified, mql, sql); the headline is cuts[handoff].
    cuts: dict[str, Cut] = field(default_factory=dict)

    @property
    def handoff_label(self) -> str:
        """The handoff stage the headline is measured at, in the reader's language."""
        return str(HandoffStage(self.handoff).label)

    @property
    def cut_rows(self) -> list[tuple[str, Cut]]:
        """Every cut with its label, in order, for the page's table."""
        return [(str(HandoffStage(stage).label), cut) for stage, cut in self.cuts.items()]

    @property
    def qualified_outcomes(self) -> metrics.Confusion:
        """Against outcomes with every qualified lead taken as handed over: what the
        score sweep and the suggestions (which change what qualifies) measure."""
        return self.cuts["qualified"].outcomes if self.cuts else self.outcomes


def outcome_counts(run: EvaluationRun) -> dict[str, Any]:
    """Everything measured against outcomes: stored on the run once it is done (see
    backtest_services.backtest_after_done). A done run without them (settled before
    the cuts were counted, or its after-work not run yet) is counted now and they are
    stored on it; any other run is counted and cached."""
    if run.outcome_stats and "cuts" in run.outcome_stats:
        stored: dict[str, Any] = run.outcome_stats
        return stored
    if run.state == RunState.DONE:
        # A done run's results never change, so it is counted once for good, as its
        # after-work would: a count costs seconds at a million leads, and a cache per
        # process that forgets it every hour or on any import made the accuracy page
        # pay it again for each such run it shows.
        stats = count_outcomes(run)
        EvaluationRun.objects.filter(pk=run.pk, state=RunState.DONE).update(outcome_stats=stats)
        run.outcome_stats = stats
        return stats
    key = f"accuracy-outcomes:{run.pk}:{run.workshop.leads_changed_at}:cuts"
    return cache.get_or_set(key, lambda: count_outcomes(run), timeout=3600) or {}


def count_outcomes(run: EvaluationRun) -> dict[str, Any]:
    results = LeadResult.objects.filter(run=run)
    known = results.filter(KNOWN_OUTCOME)
    # Each cut's confusion in the same pass: predicted = the lead reached the stage.
    reached = {cut: _reaches(cut) for cut in rules.CUTS}
    row = known.aggregate(
        **{
            f"{cut}_{name}": Count("lead_id", filter=test)
            for cut, hit in reached.items()
            for name, test in (
                ("tp", hit & GOOD_OUTCOME),
                ("fp", hit & ~GOOD_OUTCOME),
                ("fn", ~hit & GOOD_OUTCOME),
                ("tn", ~hit & ~GOOD_OUTCOME),
            )
        }
    )
    cuts = {
        cut: {name: row[f"{cut}_{name}"] for name in ("tp", "fp", "fn", "tn")} for cut in rules.CUTS
    }
    confusion = cuts["qualified"]
    by_score = list(
        known.values("score")
        .annotate(
            n=Count("lead_id"),
            good=Count("lead_id", filter=GOOD_OUTCOME),
            q=Count("lead_id", filter=Q(qualified=True)),
            q_good=Count("lead_id", filter=Q(qualified=True) & GOOD_OUTCOME),
        )
        .order_by("score")
    )
    ids = [cid for cid in (run.criterion_counts or {})]
    per_criterion: dict[str, dict[str, int]] = {}
    if ids:
        aggregates: dict[str, Any] = {}
        for i, cid in enumerate(ids):
            hit = Q(matched_criterion(cid))
            aggregates[f"m{i}"] = Count("lead_id", filter=hit)
            aggregates[f"mg{i}"] = Count("lead_id", filter=hit & GOOD_OUTCOME)
        row = known.aggregate(
            total=Count("lead_id"), good=Count("lead_id", filter=GOOD_OUTCOME), **aggregates
        )
        for i, cid in enumerate(ids):
            per_criterion[cid] = {
                "m": row[f"m{i}"],
                "mg": row[f"mg{i}"],
                "u": row["total"] - row[f"m{i}"],
                "ug": row["good"] - row[f"mg{i}"],
            }
    return {
        "confusion": confusion,
        "cuts": cuts,
        "by_score": by_score,
        "criteria": per_criterion,
    }


def _reaches(cut: str) -> Q:
    """Results that reach the cut (qualified: the qualified flag; else by stage)."""
    if cut == "qualified":
        return Q(qualified=True)
    return Q(stage__in=rules.cut_stages(cut))


def _predicted(cut: str, qualified: bool, stage: str) -> bool:
    return qualified if cut == "qualified" else rules.reaches(stage, cut)


VERDICT_ORIGINS = ("", VerdictOrigin.IMPORTED.value, VerdictOrigin.APP.value)


def verdict_counts(run: EvaluationRun, origin: str = "") -> dict[str, Any]:
    """Everything measured against the reps' verdicts, from the run's tallies: all of
    them ("") or only the imported ones or those given in the app."""
    cuts = {cut: {"tp": 0, "fp": 0, "fn": 0, "tn": 0} for cut in rules.CUTS}
    ids = set(run.criterion_counts or {})
    per_criterion: dict[str, dict[str, Any]] = {}
    reviewed = dict.fromkeys(rules.CUTS, 0)
    qualified_verdicts: Counter[tuple[str, str]] = Counter()
    for criterion, verdict, reason, qualified, stage, n in tallied_verdict_rows(run, origin):
        if not criterion:
            good = verdict in (Verdict.GOOD, Verdict.MISSED)
            for cut, confusion in cuts.items():
                hit = _predicted(cut, qualified, stage)
                confusion[("t" if good == hit else "f") + ("p" if hit else "n")] += n
                if hit:
                    reviewed[cut] += n
            if qualified:
                qualified_verdicts[(verdict, reason)] += n
        elif criterion in ids:
            entry = per_criterion.setdefault(
                criterion, {"n": 0, "rejected": 0, "reasons": Counter()}
            )
            entry["n"] += n
            if verdict == Verdict.NOT_A_LEAD:
                entry["rejected"] += n
                entry["reasons"][reason] += n
    return {
        "confusion": cuts["qualified"],
        "cuts": cuts,
        "criteria": per_criterion,
        "reviewed": reviewed,
        "qualified_verdicts": qualified_verdicts,
    }


def accuracy_of(
    run: EvaluationRun,
    catalog: rules.Catalog,
    translate: Any,
    *,
    handoff: str | None = None,
    origin: str = "",
    ntranslate: rules.NTranslate = ngettext,
) -> Accuracy:
    """The run's accuracy; the headline at ``handoff`` (the workshop's handoff stage
    unless given), every cut beside it; against the verdicts of ``origin``."""
    cut = handoff or run.workshop.handoff_stage
    outcomes = outcome_counts(run)
    verdicts = verdict_counts(run, origin)
    cuts = {
        stage: Cut(
            stage=stage,
            outcomes=metrics.Confusion(**outcomes["cuts"][stage]),
            verdicts=metrics.Confusion(**verdicts["cuts"][stage]),
        )
        for stage in rules.CUTS
    }
    by_score = outcomes["by_score"]
    qualified_rows = [
        (row["score"], row["q_good"], row["q"] - row["q_good"]) for row in by_score if row["q"]
    ]
    out = cuts["qualified"].outcomes
    thresholds = sorted({0, *(s for s, _g, _b in qualified_rows)})[:200]
    sweep = metrics.sweep(qualified_rows, out.fn, out.tn, thresholds)
    definition = rules.parse(run.document, catalog).definition
    texts = (
        {
            c.id: rules.render_criterion(c, catalog, translate, ntranslate)
            for c in rules.criteria(definition)
        }
        if definition
        else {}
    )
    criteria = []
    for cid, counts in outcomes["criteria"].items():
        judged = verdicts["criteria"].get(cid, {"n": 0, "rejected": 0, "reasons": Counter()})
        criteria.append(
            CriterionStats(
                id=cid,
                text=texts.get(cid, cid),
                matched=metrics.Rate(counts["mg"], counts["m"]),
                unmatched=metrics.Rate(counts["ug"], counts["u"]),
                rejected=metrics.Rate(judged["rejected"], judged["n"]),
                reasons=judged["reasons"].most_common(3),
            )
        )
    counts = run.stage_counts or {}
    qualified = counts.get("qualified", 0)
    handed = (
        qualified if cut == "qualified" else sum(counts.get(s, 0) for s in rules.cut_stages(cut))
    )
    return Accuracy(
        run=run,
        outcomes=cuts[cut].outcomes,
        verdicts=cuts[cut].verdicts,
        qualified_share=metrics.Rate(qualified, run.leads_total),
        # One verdict counts per lead: the handed-over ones counted are the reviewed leads.
        coverage=metrics.Rate(verdicts["reviewed"][cut], handed),
        bands=metrics.score_bands(
            [(row["score"], row["n"], row["good"]) for row in by_score], SCORE_EDGES
        ),
        qualified_by_score=qualified_rows,
        sweep=sweep,
        best=metrics.best_f1(sweep),
        criteria=criteria,
        qualified_verdicts=verdicts["qualified_verdicts"],
        handoff=cut,
        cuts=cuts,
    )


def current_accuracy(workshop: Workshop, translate: Any) -> Accuracy | None:
    """The current published version's accuracy, for the workshop's dashboard."""

    _version, run = queue_run(workshop)
    if run is None:
        return None
    run.workshop = workshop
    return accuracy_of(run, catalog_for(workshop), translate)


def draft_accuracies(
    workshop: Workshop, catalog: rules.Catalog, translate: Any, origin: str = ""
) -> list[tuple[Proposal, Accuracy]]:
    """Drafts and proposals in discussion with a finished backtest of their current
    revision, measured before anyone votes on them."""
    out = []
    for proposal in Proposal.objects.filter(
        workshop=workshop, state__in=[ProposalState.DRAFT, ProposalState.OPEN]
    ).order_by("-updated_at")[:6]:
        run = (
            EvaluationRun.objects.filter(
                workshop=workshop,
                proposal=proposal,
                proposal_revision=proposal.revision,
                state=RunState.DONE,
            )
            .order_by("-id")
            .first()
        )
        if run is not None:
            run.workshop = workshop
            out.append((proposal, accuracy_of(run, catalog, translate, origin=origin)))
    return out


def version_accuracies(
    workshop: Workshop, catalog: rules.Catalog, translate: Any, origin: str = ""
) -> list[tuple[Version, Accuracy]]:
    """The accuracy of the twelve newest versions that have a finished backtest."""
    rows = []
    for version in versions_of(workshop)[:12]:
        run = latest_done_run(workshop, version=version)
        if run is not None:
            run.workshop = workshop
            rows.append((version, accuracy_of(run, catalog, translate, origin=origin)))
    return rows


def chosen_row(
    rows: list[tuple[Version, Accuracy]], number: int | None
) -> tuple[Version, Accuracy] | None:
    """The row of version `number`, else the newest."""
    chosen = rows[0] if rows else None
    if number is not None:
        chosen = next((r for r in rows if r[0].number == number), chosen)
    return chosen
