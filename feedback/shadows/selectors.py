"""Reads of shadow runs: which run, its report (counts, agreement, accuracy, where the
definitions disagree and why), the reps' disagreement queue, and shadow_summary, the
plain data other parts show (the proposal panel; a decision record at publish time).

Every count is one grouped query over the run's results, whatever their number: the
results are grouped by (published sends to sales, shadow sends to sales, outcome,
verdict) and the few groups are summed here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from definitions import rules
from definitions.catalog.selectors import catalog_for
from definitions.models import Proposal, Workshop
from feedback.accuracy import metrics
from feedback.accuracy.selectors import GOOD_OUTCOME, KNOWN_OUTCOME
from feedback.models import (
    Lead,
    LeadFeedback,
    ShadowProbe,
    ShadowResult,
    ShadowRun,
    ShadowStop,
    Verdict,
)
from feedback.shadows.services import RUNNING_STATES, running
from feedback.verdicts.selectors import handoff_stages

EXAMPLES = 10
QUEUE_FILTERS = ("unreviewed", "all")


def shadow_runs_of(proposal: Proposal) -> list[ShadowRun]:
    return list(ShadowRun.objects.filter(proposal=proposal).order_by("-started_at", "-id"))


def running_count(workshop: Workshop) -> int:
    return running(workshop.pk).count()


def is_running(shadow: ShadowRun, proposal: Proposal, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return shadow.stopped_at is None and shadow.ends_at > now and proposal.state in RUNNING_STATES


def stop_reason(shadow: ShadowRun, proposal: Proposal, now: datetime | None = None) -> str:
    """Why it is not running (the sweep may not have written it down yet), or ""."""
    now = now or timezone.now()
    if shadow.stop_reason:
        return str(ShadowStop(shadow.stop_reason).label)
    if proposal.state not in RUNNING_STATES:
        reason = {
            "published": ShadowStop.PUBLISHED,
            "withdrawn": ShadowStop.WITHDRAWN,
            "rejected": ShadowStop.REJECTED,
        }.get(proposal.state, ShadowStop.STOPPED)
        return str(reason.label)
    if shadow.ends_at <= now:
        return str(ShadowStop.EXPIRED.label)
    return ""


def _sent(column: str, stages: tuple[str, ...]) -> Case:
    return Case(
        When(**{f"{column}__in": stages}, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def current_verdict() -> Subquery:
    """The lead's newest current verdict (when reps disagree, the newest counts, as on
    the accuracy page)."""
    return Subquery(
        LeadFeedback.objects.filter(lead=OuterRef("lead_id"), superseded_at__isnull=True)
        .order_by("-id")
        .values("verdict")[:1],
        output_field=CharField(),
    )


@dataclass(frozen=True)
class Side:
    """One definition's figures in a shadow run: the published version or the shadow."""

    label: str
    to_sales: int
    outcomes: metrics.Confusion
    verdicts: metrics.Confusion

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "to_sales": self.to_sales,
            "outcomes": self.outcomes.as_dict(),
            "verdicts": self.verdicts.as_dict(),
        }


def _confusion(pairs: Counter[tuple[bool, bool]]) -> metrics.Confusion:
    """(predicted, actual) counts → a confusion matrix."""
    return metrics.Confusion(
        tp=pairs[(True, True)],
        fp=pairs[(True, False)],
        fn=pairs[(False, True)],
        tn=pairs[(False, False)],
    )


@dataclass(frozen=True)
class Figures:
    leads_seen: int
    compared: int  # seen while a version was published: both sides known
    agree: int
    published_only: int  # the published version sends it to sales, the shadow does not
    shadow_only: int
    judged_disagreements: int  # disagreements with a current verdict
    published: Side
    shadow: Side

    @property
    def disagree(self) -> int:
        return self.published_only + self.shadow_only

    @property
    def agreement(self) -> metrics.Rate:
        return metrics.Rate(self.agree, self.compared)


def figures(shadow: ShadowRun, workshop: Workshop, version_label: str) -> Figures:
    stages = handoff_stages(workshop)
    truth = Case(
        When(GOOD_OUTCOME, then=Value("good")),
        When(KNOWN_OUTCOME, then=Value("bad")),
        default=Value(""),
        output_field=CharField(),
    )
    groups = (
        ShadowResult.objects.filter(shadow=shadow)
        .annotate(
            p=_sent("published_stage", stages),
            s=_sent("stage", stages),
            known=Case(
                When(version__isnull=True, then=Value(False)),
                default=Value(True),
                output_field=BooleanField(),
            ),
            truth=truth,
        )
        .values("p", "s", "known", "truth")
        .annotate(n=Count("lead_id"))
        .order_by()
    )
    seen = compared = agree = p_only = s_only = judged = 0
    to_sales: Counter[str] = Counter()
    outcome_pairs: dict[str, Counter[tuple[bool, bool]]] = {"p": Counter(), "s": Counter()}
    verdict_pairs: dict[str, Counter[tuple[bool, bool]]] = {"p": Counter(), "s": Counter()}
    for row in groups:
        n = row["n"]
        seen += n
        sides = {"s": row["s"]}
        if row["known"]:
            sides["p"] = row["p"]
            compared += n
            if row["p"] == row["s"]:
                agree += n
            else:
                p_only += n if row["p"] else 0
                s_only += n if row["s"] else 0
        for side, sent in sides.items():
            to_sales[side] += n if sent else 0
            if row["truth"]:
                outcome_pairs[side][(sent, row["truth"] == "good")] += n
    for published_stage, stage, known, verdict, n in verdict_groups(shadow):
        sent = {"s": stage in stages}
        if known:
            sent["p"] = published_stage in stages
            judged += n if sent["p"] != sent["s"] else 0
        good = verdict in (Verdict.GOOD, Verdict.MISSED)
        for side, sends in sent.items():
            verdict_pairs[side][(sends, good)] += n
    return Figures(
        leads_seen=seen,
        compared=compared,
        agree=agree,
        published_only=p_only,
        shadow_only=s_only,
        judged_disagreements=judged,
        published=Side(
            version_label,
            to_sales["p"],
            _confusion(outcome_pairs["p"]),
            _confusion(verdict_pairs["p"]),
        ),
        shadow=Side(
            _("Shadow (revision %(n)s)") % {"n": shadow.proposal_revision},
            to_sales["s"],
            _confusion(outcome_pairs["s"]),
            _confusion(verdict_pairs["s"]),
        ),
    )


def verdict_groups(shadow: ShadowRun) -> list[tuple[str, str, bool, str, int]]:
    """The run's judged leads, grouped by (published stage, shadow stage, compared,
    verdict): one verdict per lead, the newest current one. It starts from the verdicts
    (a few thousand) and reads each one's result by primary key, never the run's every
    result (feedback.verdicts.selectors.counted_verdict_groups does the same)."""
    feedback, result = LeadFeedback._meta.db_table, ShadowResult._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.published_stage, r.stage, r.version_id IS NOT NULL, f.verdict, count(*)"  # noqa: S608
            f" FROM {feedback} f JOIN {result} r ON r.shadow_id = %s AND r.lead_id = f.lead_id"
            " WHERE f.workshop_id = %s AND f.superseded_at IS NULL AND NOT EXISTS ("
            f"  SELECT 1 FROM {feedback} newer WHERE newer.lead_id = f.lead_id"
            "   AND newer.superseded_at IS NULL AND newer.id > f.id)"
            " GROUP BY r.published_stage, r.stage, r.version_id IS NOT NULL, f.verdict",
            [shadow.pk, shadow.workshop_id],
        )
        return [(str(a), str(b), bool(c), str(d), int(n)) for a, b, c, d, n in cursor.fetchall()]


def probe_counts(shadow: ShadowRun, workshop: Workshop) -> dict[str, int]:
    """The classify endpoint's leads (not stored) the shadow judged too."""
    stages = handoff_stages(workshop)
    counts = ShadowProbe.objects.filter(shadow=shadow).aggregate(
        total=Count("id"),
        published=Count("id", filter=Q(published_stage__in=stages)),
        shadow=Count("id", filter=Q(stage__in=stages)),
        disagree=Count(
            "id",
            filter=~Q(published_stage="") & (Q(published_stage__in=stages) ^ Q(stage__in=stages)),
        ),
    )
    return {key: int(value or 0) for key, value in counts.items()}


def days_running(shadow: ShadowRun, now: datetime | None = None) -> float:
    end = min(now or timezone.now(), shadow.stopped_at or shadow.ends_at, shadow.ends_at)
    return max((end - shadow.started_at).total_seconds() / 86400, 0.0)


def disagreeing(workshop: Workshop) -> Q:
    """The results where the published version and the shadow send the lead to sales
    differently (leads seen while a version was published)."""
    stages = handoff_stages(workshop)
    return Q(version__isnull=False) & (Q(published_stage__in=stages) ^ Q(stage__in=stages))


# ---------------------------------------------------------------- why they disagree


@dataclass(frozen=True)
class Difference:
    """One criterion that one definition matched and the other did not, in words."""

    side: str  # "published" or "shadow": the definition that matched it
    text: str


class Explainer:
    """The criteria that made the difference between two definitions' verdicts on a
    lead, in the reader's language: matched by one and not the other (a criterion the
    shadow changed counts on the side that matched it)."""

    def __init__(self, workshop: Workshop, published_doc: Any, shadow_doc: Any) -> None:
        self.catalog = catalog_for(workshop)
        self.texts: dict[str, dict[str, str]] = {}
        for side, document in (("published", published_doc), ("shadow", shadow_doc)):
            definition = rules.parse(document, self.catalog).definition if document else None
            self.texts[side] = (
                {
                    c.id: rules.render_criterion_with_points(c, self.catalog, _, ngettext)
                    for c in rules.criteria(definition)
                }
                if definition is not None
                else {}
            )

    def differences(self, published_matched: str, shadow_matched: str) -> list[Difference]:
        ours = {"published": published_matched, "shadow": shadow_matched}
        hits = {side: {m for m in text.split(",") if m} for side, text in ours.items()}
        out: list[Difference] = []
        for side, other in (("published", "shadow"), ("shadow", "published")):
            texts, other_texts = self.texts[side], self.texts[other]
            for cid in hits[side]:
                text = texts.get(cid, cid)
                # Matched by both under the same words is no difference.
                if cid in hits[other] and other_texts.get(cid) == text:
                    continue
                out.append(Difference(side, text))
        return sorted(out, key=lambda d: (d.side, d.text))


def criteria_counts(
    shadow: ShadowRun, workshop: Workshop, explainer: Explainer, limit: int = 8
) -> list[tuple[Difference, int]]:
    """Over every disagreement: how often each criterion made the difference. Grouped
    by the pair of matched lists in SQL (a few dozen patterns), explained here."""
    patterns = (
        ShadowResult.objects.filter(disagreeing(workshop), shadow=shadow)
        .values("published_matched", "matched")
        .annotate(n=Count("lead_id"))
        .order_by("-n")[:200]
    )
    counts: Counter[Difference] = Counter()
    for row in patterns:
        for difference in explainer.differences(row["published_matched"], row["matched"]):
            counts[difference] += row["n"]
    return counts.most_common(limit)


@dataclass(frozen=True)
class Example:
    result: ShadowResult
    lead: Lead
    published_sends: bool
    shadow_sends: bool
    differences: list[Difference]
    verdict: str


def examples(
    shadow: ShadowRun, workshop: Workshop, explainer: Explainer, limit: int = EXAMPLES
) -> list[Example]:
    stages = handoff_stages(workshop)
    rows = list(
        ShadowResult.objects.filter(disagreeing(workshop), shadow=shadow)
        .select_related("lead")
        .annotate(current=current_verdict())
        .order_by("-classified_at", "-lead_id")[:limit]
    )
    return [
        Example(
            result=row,
            lead=row.lead,
            published_sends=row.published_stage in stages,
            shadow_sends=row.stage in stages,
            differences=explainer.differences(row.published_matched, row.matched),
            verdict=getattr(row, "current", "") or "",
        )
        for row in rows
    ]


def explainer_for(shadow: ShadowRun, workshop: Workshop) -> Explainer:
    """Published side: the newest version the run's results were compared with."""
    latest = (
        ShadowResult.objects.filter(shadow=shadow, version__isnull=False)
        .select_related("version")
        .order_by("-classified_at")
        .first()
    )
    document = latest.version.document if latest is not None and latest.version else None
    return Explainer(workshop, document, shadow.document)


def version_label(shadow: ShadowRun) -> str:
    numbers = sorted(
        set(
            ShadowResult.objects.filter(shadow=shadow, version__isnull=False)
            .values_list("version__number", flat=True)
            .distinct()
        )
    )
    if not numbers:
        return _("Published version")
    return _("Published (%(versions)s)") % {"versions": ", ".join(f"v{n}" for n in numbers)}


def shadow_report(shadow: ShadowRun, workshop: Workshop) -> dict[str, Any]:
    """Everything the report page shows."""
    proposal = shadow.proposal
    explainer = explainer_for(shadow, workshop)
    numbers = figures(shadow, workshop, version_label(shadow))
    return {
        "shadow": shadow,
        "proposal": proposal,
        "running": is_running(shadow, proposal),
        "stop_reason": stop_reason(shadow, proposal),
        "days": days_running(shadow),
        "figures": numbers,
        "sides": [numbers.published, numbers.shadow],
        "probes": probe_counts(shadow, workshop),
        "examples": examples(shadow, workshop, explainer),
        "criteria": criteria_counts(shadow, workshop, explainer),
        "handoff": workshop.get_handoff_stage_display(),
        "amended": proposal.revision != shadow.proposal_revision,
        "min_sample": metrics.MIN_SAMPLE,
    }


def shadow_summary(proposal: Proposal) -> dict[str, Any] | None:
    """The proposal's latest shadow run as plain data (numbers, text, ISO moments), for
    the proposal panel and for whoever records the evidence at publish time; None when
    it never ran in shadow."""
    shadow = ShadowRun.objects.filter(proposal=proposal).order_by("-started_at", "-id").first()
    if shadow is None:
        return None
    workshop = proposal.workshop
    numbers = figures(shadow, workshop, version_label(shadow))
    return {
        "shadow_id": shadow.pk,
        "proposal_revision": shadow.proposal_revision,
        "running": is_running(shadow, proposal),
        "stop_reason": stop_reason(shadow, proposal),
        "started_at": shadow.started_at.isoformat(),
        "ends_at": shadow.ends_at.isoformat(),
        "stopped_at": shadow.stopped_at.isoformat() if shadow.stopped_at else None,
        "days": round(days_running(shadow), 1),
        "handoff_stage": workshop.handoff_stage,
        "leads_seen": numbers.leads_seen,
        "compared": numbers.compared,
        "agreement": {
            "agree": numbers.agree,
            "disagree": numbers.disagree,
            "published_only": numbers.published_only,
            "shadow_only": numbers.shadow_only,
            "judged_disagreements": numbers.judged_disagreements,
            "rate": numbers.agreement.value,
        },
        "definitions": [numbers.published.as_dict(), numbers.shadow.as_dict()],
        "classify_calls": probe_counts(shadow, workshop),
    }


# ------------------------------------------------------------- disagreement queue


def disagreement_leads(workshop: Workshop, *, show: str = "unreviewed") -> QuerySet[Lead]:
    """Leads on which the published version and a shadow of a proposal still under
    discussion disagree, newest first; by default those nobody has judged yet."""
    results = ShadowResult.objects.filter(
        disagreeing(workshop),
        lead=OuterRef("pk"),
        shadow__workshop=workshop,
        shadow__proposal__state__in=RUNNING_STATES,
    )
    qs = Lead.objects.filter(workshop=workshop).filter(Exists(results))
    if show == "unreviewed":
        qs = qs.filter(
            ~Exists(LeadFeedback.objects.filter(lead=OuterRef("pk"), superseded_at__isnull=True))
        )
    return qs.order_by("-id")


def disagreement_cards(workshop: Workshop, leads: list[Lead], rep: Any) -> list[dict[str, Any]]:
    """For each lead of a queue page: each disagreeing shadow with the criteria that made
    the difference, and the rep's own current verdict."""
    stages = handoff_stages(workshop)
    rows = (
        ShadowResult.objects.filter(
            disagreeing(workshop),
            lead__in=leads,
            shadow__workshop=workshop,
            shadow__proposal__state__in=RUNNING_STATES,
        )
        .select_related("shadow__proposal", "version")
        .order_by("shadow_id")
    )
    explainers: dict[tuple[int, int | None], Explainer] = {}
    per_lead: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        key = (row.shadow_id, row.version_id)
        if key not in explainers:
            explainers[key] = Explainer(
                workshop, row.version.document if row.version else None, row.shadow.document
            )
        per_lead.setdefault(row.lead_id, []).append(
            {
                "proposal": row.shadow.proposal,
                "version": row.version,
                "published_stage": row.published_stage,
                "stage": row.stage,
                "published_sends": row.published_stage in stages,
                "shadow_sends": row.stage in stages,
                "differences": explainers[key].differences(row.published_matched, row.matched),
            }
        )
    mine = {
        f.lead_id: f
        for f in LeadFeedback.objects.filter(rep=rep, lead__in=leads, superseded_at__isnull=True)
    }
    return [
        {"lead": lead, "shadows": per_lead.get(lead.pk, []), "verdict": mine.get(lead.pk)}
        for lead in leads
    ]
