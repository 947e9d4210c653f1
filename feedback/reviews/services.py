"""Writes of the version reviews: the promise snapshot at publish time, the count of
what happened since (set-based: one aggregate query per version), and the one-time
notification of the members.

When it runs: the promise inside the publishing transaction (definitions' signal
``version_created``); the count when a version's backtest settles (after an import
or an API change the housekeeping re-runs the current version's backtest, so new leads
get their result) and from the housekeeping sweep every minute, which recounts only a
review whose inputs changed (another run, leads changed, a verdict given or changed)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from definitions import rules
from definitions.core import events
from definitions.models import Proposal, Version, Workshop
from definitions.notifications.services import notify
from definitions.workshops.selectors import member_users
from feedback.accuracy.selectors import GOOD_OUTCOME, KNOWN_OUTCOME, outcome_counts, verdict_counts
from feedback.backtests import services as backtest_services
from feedback.backtests.selectors import latest_done_run, latest_run
from feedback.models import (
    EvaluationRun,
    LeadFeedback,
    LeadResult,
    RunState,
    Verdict,
    VersionReview,
)
from feedback.reviews.figures import review_of

log = logging.getLogger(__name__)

CONFUSION = ("tp", "fp", "fn", "tn")


# ------------------------------------------------------------------------ promise


def promise_run(
    version: Version, *, proposal: Proposal | None = None, source: Version | None = None
) -> EvaluationRun | None:
    """The backtest the vote saw: the accepted proposal's newest finished run (of its
    last revision if there is one), or for a rollback the republished version's."""
    if proposal is not None:
        runs = EvaluationRun.objects.filter(
            workshop_id=version.workshop_id, proposal=proposal, state=RunState.DONE
        )
        return (
            runs.filter(proposal_revision=proposal.revision).order_by("-id").first()
            or runs.order_by("-id").first()
        )
    if source is not None:
        return latest_done_run(version.workshop, version=source)
    return None


def promise_of(run: EvaluationRun, handoff: str) -> dict[str, Any]:
    """The run's counts at the handoff stage, against outcomes and against verdicts,
    and at every other cut too: if the workshop later moves its handoff stage, the
    review compares like with like."""
    outcomes = outcome_counts(run)["cuts"]
    verdicts = verdict_counts(run)["cuts"]
    cuts = {
        cut: {
            "outcomes": {k: int(outcomes[cut][k]) for k in CONFUSION},
            "verdicts": {k: int(verdicts[cut][k]) for k in CONFUSION},
        }
        for cut in rules.CUTS
    }
    return {
        "run": run.pk,
        "as_of": run.as_of.isoformat(),
        "handoff": handoff,
        "leads": run.leads_total,
        "stages": dict(run.stage_counts or {}),
        **cuts[handoff],
        "cuts": cuts,
    }


def review_snapshot_promise(
    version: Version, *, proposal: Proposal | None = None, source: Version | None = None
) -> VersionReview:
    """Keep what the vote was promised, once: later runs replace the proposal's."""
    workshop = version.workshop
    run = promise_run(version, proposal=proposal, source=source)
    promise: dict[str, Any] = {}
    if run is not None:
        run.workshop = workshop
        promise = promise_of(run, workshop.handoff_stage)
    review, _created = VersionReview.objects.get_or_create(
        version=version, defaults={"workshop": workshop, "promise": promise}
    )
    return review


def on_version_published(
    sender: type,
    *,
    version: Version,
    proposal: Proposal | None = None,
    source: Version | None = None,
    **_kwargs: Any,
) -> None:
    """definitions' ``version_created``: in the publishing transaction. A failure
    here must not stop the publication: the sweep snapshots what it can later."""
    try:
        with transaction.atomic():
            review_snapshot_promise(version, proposal=proposal, source=source)
    except Exception:
        log.exception("could not keep the promise of v%s", version.number)


# ------------------------------------------------------------------------ observed


def live_window(version: Version) -> tuple[datetime, datetime | None]:
    """From the version's publication to the next one's (None: it is current)."""
    following = (
        Version.objects.filter(workshop_id=version.workshop_id, number__gt=version.number)
        .order_by("number")
        .values_list("published_at", flat=True)
        .first()
    )
    return version.published_at, following


def observed_counts(
    run: EvaluationRun, handoff: str, since: datetime, until: datetime | None
) -> dict[str, Any]:
    """What the version said of the leads that arrived while it was live (its run's
    results) against their outcomes and the reps' current verdicts: two aggregates,
    one over the window's results, one over those of them with a verdict (a few
    thousand, found through the verdicts rather than probed lead by lead)."""
    results = LeadResult.objects.filter(run=run).alias(
        arrived=Coalesce("lead__created_at", "lead__imported_at")
    )
    results = results.filter(arrived__gte=since)
    if until is not None:
        results = results.filter(arrived__lt=until)
    hit = Q(qualified=True) if handoff == "qualified" else Q(stage__in=rules.cut_stages(handoff))
    known = KNOWN_OUTCOME
    outcome_row = results.aggregate(
        known=Count("lead_id", filter=known),
        o_tp=Count("lead_id", filter=known & hit & GOOD_OUTCOME),
        o_fp=Count("lead_id", filter=known & hit & ~GOOD_OUTCOME),
        o_fn=Count("lead_id", filter=known & ~hit & GOOD_OUTCOME),
        o_tn=Count("lead_id", filter=known & ~hit & ~GOOD_OUTCOME),
    )
    current = LeadFeedback.objects.filter(workshop_id=run.workshop_id, superseded_at__isnull=True)
    judged = results.filter(lead_id__in=current.values("lead_id")).annotate(
        judged_good=Exists(
            current.filter(lead=OuterRef("lead_id"), verdict__in=[Verdict.GOOD, Verdict.MISSED])
        )
    )
    good = Q(judged_good=True)
    verdict_row = judged.aggregate(
        unknown=Count("lead_id", filter=~known),
        v_tp=Count("lead_id", filter=hit & good),
        v_fp=Count("lead_id", filter=hit & ~good),
        v_fn=Count("lead_id", filter=~hit & good),
        v_tn=Count("lead_id", filter=~hit & ~good),
    )
    return {
        "run": run.pk,
        "handoff": handoff,
        "since": since.isoformat(),
        "until": until.isoformat() if until is not None else None,
        # Decided: a known outcome, or a verdict on a lead whose outcome is unknown.
        "decided": outcome_row["known"] + verdict_row["unknown"],
        "outcomes": {k: outcome_row[f"o_{k}"] for k in CONFUSION},
        "verdicts": {k: verdict_row[f"v_{k}"] for k in CONFUSION},
    }


@transaction.atomic
def review_compute(version: Version, *, now: datetime | None = None) -> VersionReview | None:
    """Count the version's review now and, the first time it has enough decided leads,
    tell every member (once: the review row is locked and marked)."""
    now = now or timezone.now()
    workshop = Workshop.objects.get(pk=version.workshop_id)
    version.workshop = workshop
    review = VersionReview.objects.select_for_update().filter(version=version).first()
    if review is None:
        # Published before reviews existed, or by a path that sent no signal: the
        # promise is whatever finished run the version's proposal still has.
        proposal = Proposal.objects.filter(published_version=version).first()
        review_snapshot_promise(version, proposal=proposal)
        review = VersionReview.objects.select_for_update().get(version=version)
    run = latest_done_run(workshop, version=version)
    if run is None:
        return review
    since, until = live_window(version)
    observed = observed_counts(run, workshop.handoff_stage, since, until)
    review.observed = observed
    review.decided = observed["decided"]
    review.computed_at = now
    figures = review_of(review, number=version.number, minimum=workshop.review_min_leads)
    review.drift = figures.drift
    fields = ["observed", "decided", "computed_at", "drift"]
    if figures.ready and review.notified_at is None:
        review.notified_at = now
        fields.append("notified_at")
        url = reverse("feedback:decision_record", args=[workshop.slug, version.number])
        notify(
            workshop=workshop,
            recipients=member_users(workshop),
            verb="version.drift" if figures.drift else "version.reviewed",
            url=url + "#review",
            **figures.notification_params(),
        )
        # Webhooks and chat (integrations) hear of it too, once, like the members.
        headline = figures.headline
        seen = headline.observed if headline else None
        promised = headline.promised if headline else None
        events.emit(
            events.REVIEW_READY,
            workshop_id=workshop.pk,
            data={
                "workshop": workshop.slug,
                "version": version.number,
                "decided": review.decided,
                "drift": figures.drift,
                "observed_f1": seen.f1 if seen else None,
                "promised_f1": promised.f1 if promised else None,
                "url": events.absolute_url(url + "#review"),
            },
        )
    review.save(update_fields=fields)
    return review


def _needs_count(
    review: VersionReview | None, run: EvaluationRun, version: Version, workshop: Workshop
) -> bool:
    if review is None or review.computed_at is None:
        return True
    if (review.observed or {}).get("run") != run.pk:
        return True
    if (review.observed or {}).get("handoff") != workshop.handoff_stage:
        return True
    if workshop.leads_changed_at is not None and workshop.leads_changed_at > review.computed_at:
        return True
    # A verdict given, changed or taken back since the last count, on a lead that
    # arrived while the version was live (verdicts on other leads change nothing here).
    since, until = live_window(version)
    changed = LeadFeedback.objects.filter(
        Q(created_at__gt=review.computed_at) | Q(superseded_at__gt=review.computed_at),
        workshop=workshop,
    ).alias(arrived=Coalesce("lead__created_at", "lead__imported_at"))
    changed = changed.filter(arrived__gte=since)
    if until is not None:
        changed = changed.filter(arrived__lt=until)
    return changed.exists()


def reviews_refresh() -> int:
    """The housekeeping sweep: recount each published version's review whose inputs
    changed since it was last counted; start the current version's first backtest
    when it has none. Returns how many it counted."""
    counted = 0
    for workshop in Workshop.objects.filter(versions__isnull=False).distinct():
        versions = list(Version.objects.filter(workshop=workshop).order_by("-number"))
        reviews = {r.version_id: r for r in VersionReview.objects.filter(workshop=workshop)}
        for index, version in enumerate(versions):
            version.workshop = workshop
            run = latest_done_run(workshop, version=version)
            if run is None:
                if index == 0 and latest_run(workshop, version=version) is None:
                    _start_backtest(workshop, version)
                continue
            if _needs_count(reviews.get(version.pk), run, version, workshop):
                review_compute(version)
                counted += 1
    return counted


def _start_backtest(workshop: Workshop, version: Version) -> None:
    try:
        backtest_services.backtest_start(actor=None, workshop=workshop, version=version)
    except Exception:  # an unevaluable document or a broker outage: try next sweep
        log.warning("could not start the backtest of v%s for its review", version.number)


def on_run_settled(sender: type, *, run: EvaluationRun, **_kwargs: Any) -> dict[str, Any]:
    """A version's backtest settled: its review counts the new results at once."""
    if run.version_id is not None and run.state == RunState.DONE:
        version = Version.objects.filter(pk=run.version_id).first()
        if version is not None:
            try:
                review_compute(version)
            except Exception:  # the sweep counts it again; the run's after-work goes on
                log.exception("could not count the review of v%s", version.number)
    return {}
