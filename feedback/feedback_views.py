"""Sales feedback and accuracy pages: the reps' triage queue (htmx, keyboard), a
missed-lead flag, fresh BANT data, and accuracy per version."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from definitions import roles, rules
from definitions.authoring import services as authoring_services
from definitions.catalog.selectors import catalog_for
from definitions.core.http import AuthedRequest
from definitions.core.querystring import whole_number
from definitions.versions.selectors import versions_of
from definitions.workshops.access import get_workshop_for_user, require
from feedback import accuracy_selectors as selectors
from feedback import feedback_services as svc
from feedback.access import get_lead_for_user, get_run_for_user
from feedback.backtest_selectors import latest_done_run, results_for_leads
from feedback.models import Lead, LeadActivity, LeadResult, Reason, RunState
from feedback.selectors import CappedPaginator
from feedback.suggestions import Suggestion, suggestions_for
from feedback.tabular import csv_safe

PER_PAGE = 20
# A rep works through pages in order: counting further than 50 pages helps nobody.
QUEUE_COUNT_CAP = 50 * PER_PAGE


def _bant_choices() -> dict[str, list[tuple[str, str]]]:
    return {
        key: [(code, _(label)) for code, label in rules.CHOICE_LABELS[key].items()]
        for key in ("budget", "authority", "need")
    }


def _reasons() -> list[tuple[str, str, int]]:
    """(code, label, keyboard digit): 1 to 9, then 0, then the rest by click only (-1)."""
    digits = [*range(1, 10), 0]
    return [
        (code, str(label), digits[i] if i < len(digits) else -1)
        for i, (code, label) in enumerate(Reason.choices)
    ]


def _cards(workshop: Any, run: Any, leads: list[Lead], rep: Any) -> list[dict[str, Any]]:
    catalog = catalog_for(workshop)
    definition = rules.parse(run.document, catalog).definition if run else None
    texts = (
        {c.id: rules.render_criterion(c, catalog, _, ngettext) for c in rules.criteria(definition)}
        if definition
        else {}
    )
    results = results_for_leads(run, [lead.pk for lead in leads]) if run else {}
    verdicts = selectors.my_verdicts(rep, [lead.pk for lead in leads])
    recent: dict[int, list[LeadActivity]] = {}
    for activity in LeadActivity.objects.filter(lead__in=leads).order_by("-at")[: 40 * len(leads)]:
        bucket = recent.setdefault(activity.lead_id, [])
        if len(bucket) < 3:
            bucket.append(activity)
    return [
        {
            "lead": lead,
            "url": reverse("feedback:lead_detail", args=[workshop.slug, lead.pk]),
            "result": results.get(lead.pk),
            "why": [texts[m] for m in results[lead.pk].matched_ids if m in texts]
            if lead.pk in results
            else [],
            "verdict": verdicts.get(lead.pk),
            # Looked up here, not as card.verdict.reason in the template: a missing
            # verdict would make every lookup through it a failed, costly one.
            "reason": verdicts[lead.pk].reason if lead.pk in verdicts else "",
            "note": verdicts[lead.pk].note if lead.pk in verdicts else "",
            "activities": recent.get(lead.pk, []),
            "source": catalog.fields["source"].choice_label(lead.source) if lead.source else "",
        }
        for lead in leads
    ]


@require_GET
def feedback_queue(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.GIVE_FEEDBACK)
    version, run = selectors.queue_run(workshop)
    show = request.GET.get("show", "unreviewed")
    show = show if show in selectors.QUEUE_FILTERS else "unreviewed"
    stage = request.GET.get("stage", "")
    stage = stage if stage in ("lead", "mql", "sql") else ""
    source = request.GET.get("source", "")
    source_spec = rules.DEFAULT_CATALOG.fields["source"]
    # Like the stage: one of the select's options, or no filter.
    source = source if source in source_spec.choices else ""
    page = None
    cards: list[dict[str, Any]] = []
    if run is not None:
        qs = selectors.feedback_queue(
            workshop, run, rep=request.user, show=show, stage=stage, source=source
        )
        unfiltered = show == "unreviewed" and not stage and not source
        page = CappedPaginator(
            qs,
            PER_PAGE,
            allow_empty_first_page=True,
            cap=QUEUE_COUNT_CAP,
            known=selectors.unreviewed_count(run) if unfiltered else None,
        ).get_page(request.GET.get("page"))
        cards = _cards(workshop, run, list(page.object_list), request.user)
    return render(
        request,
        "feedback/queue.html",
        {
            "workshop": workshop,
            "version": version,
            "run": run,
            "cards": cards,
            "page": page,
            "show": show,
            "stage": stage,
            "source": source,
            "sources": [(c, _(source_spec.choice_label(c))) for c in source_spec.choices],
            "reasons": _reasons(),
            "bant_choices": _bant_choices(),
            "query": request.GET.urlencode(),
        },
    )


def _card_response(
    request: AuthedRequest, lead: Lead, *, oob: bool = False, error: str = ""
) -> HttpResponse:
    _version, run = selectors.queue_run(lead.workshop)
    [card] = _cards(lead.workshop, run, [lead], request.user)
    return render(
        request,
        "feedback/queue.html#lead-card",
        {
            "workshop": lead.workshop,
            "card": card,
            "reasons": _reasons(),
            "bant_choices": _bant_choices(),
            "oob": oob,
            "error": error,
            "query": request.POST.get("query", ""),
        },
    )


@require_POST
def verdict_record(request: AuthedRequest, slug: str, lead_id: int) -> HttpResponse:
    lead = get_lead_for_user(request.user, slug, lead_id)
    require(lead.workshop, roles.GIVE_FEEDBACK)
    try:
        svc.verdict_record(
            actor=request.user,
            lead=lead,
            verdict=request.POST.get("verdict", ""),
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        if request.htmx:
            response = _card_response(request, lead, error=" ".join(exc.messages))
            response.status_code = 400
            response["HX-Trigger"] = "lw-error"
            return response
        messages.error(request, " ".join(exc.messages))
    if request.htmx:
        return _card_response(request, lead)
    if request.POST.get("next") == "lead":
        return redirect("feedback:lead_detail", slug=slug, lead_id=lead.pk)
    return redirect(f"{_queue_url(slug)}?{request.POST.get('query', '')}")


def _queue_url(slug: str) -> str:
    return reverse("feedback:feedback_queue", args=[slug])


@require_POST
def verdict_undo(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.GIVE_FEEDBACK)
    undone = svc.verdict_undo(actor=request.user, workshop=workshop)
    if request.htmx:
        if undone is None:
            return HttpResponse(status=204)
        lead = Lead.objects.get(pk=undone.lead_id)
        lead.workshop = workshop
        return _card_response(request, lead, oob=True)
    if undone is None:
        messages.info(request, _("Nothing to undo."))
    else:
        messages.success(request, _("Your last verdict was taken back."))
    return redirect(f"{_queue_url(slug)}?{request.POST.get('query', '')}")


@require_POST
def lead_bant(request: AuthedRequest, slug: str, lead_id: int) -> HttpResponse:
    lead = get_lead_for_user(request.user, slug, lead_id)
    require(lead.workshop, roles.GIVE_FEEDBACK)
    catalog = rules.DEFAULT_CATALOG
    values: dict[str, Any] = {}
    error = ""
    for key in ("budget", "authority", "need"):
        raw = request.POST.get(key, "")
        if raw == "":
            values[key] = None
        elif raw in catalog.fields[key].choices:
            values[key] = raw
        else:
            error = _("Choose one of the listed values.")
    timeline = request.POST.get("timeline_days", "").strip()
    if timeline:
        try:
            days = float(timeline)
            if not 0 <= days <= 36500:
                raise ValueError
            values["timeline_days"] = days
        except ValueError:
            error = _("The timeline is a number of days from 0 to 36500.")
    else:
        values["timeline_days"] = None
    if error:
        if request.htmx:
            response = _card_response(request, lead, error=error)
            response.status_code = 400
            return response
        messages.error(request, error)
    else:
        svc.lead_bant_update(actor=request.user, lead=lead, values=values)
    if request.htmx:
        return _card_response(request, lead)
    return redirect(f"{_queue_url(slug)}?{request.POST.get('query', '')}")


def _accuracy_context(
    request: AuthedRequest, workshop: Any, wanted: str | None = None
) -> dict[str, Any]:
    catalog = catalog_for(workshop)
    rows = []
    for version in versions_of(workshop)[:12]:
        run = latest_done_run(workshop, version=version)
        if run is not None:
            run.workshop = workshop
            rows.append((version, selectors.accuracy_of(run, catalog, _)))
    chosen = rows[0] if rows else None
    number = whole_number(request.GET.get("version") if wanted is None else wanted)
    if number is not None:
        chosen = next((r for r in rows if r[0].number == number), chosen)
    drafts = selectors.draft_accuracies(workshop, catalog, _)
    suggestions: list[Suggestion] = []
    if chosen is not None:
        definition = rules.parse(chosen[1].run.document, catalog).definition
        if definition is not None:
            suggestions = suggestions_for(chosen[1], definition, catalog)
    return {
        "workshop": workshop,
        "rows": rows,
        "chosen": chosen,
        "drafts": drafts,
        "charts": _charts(rows, chosen),
        "suggestions": suggestions,
        "can_propose": roles.PROPOSE in workshop.user_perms,
    }


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _charts(rows: list[Any], chosen: Any) -> dict[str, Any]:
    """The accuracy charts' numbers (the tables on the page show the same)."""
    if chosen is None:
        return {}
    trend = list(reversed(rows))
    acc = chosen[1]
    best = acc.best.threshold if acc.best else None
    return {
        "trend": {
            "type": "line",
            "labels": [f"v{version.number}" for version, _acc in trend],
            "y": "%",
            "max": 100,
            "datasets": [
                {
                    "label": _("Precision (outcomes)"),
                    "data": [_percent(a.outcomes.precision.value) for _v, a in trend],
                },
                {
                    "label": _("Recall (outcomes)"),
                    "data": [_percent(a.outcomes.recall.value) for _v, a in trend],
                },
                {
                    "label": _("Precision (reps)"),
                    "data": [
                        _percent(a.verdicts.precision.value)
                        if a.verdicts.precision.enough
                        else None
                        for _v, a in trend
                    ],
                },
            ],
        },
        "bands": {
            "type": "bar",
            "labels": [
                f"{b.low}+" if b.high is None else f"{b.low}\N{EN DASH}{b.high}" for b in acc.bands
            ],
            "x": _("Score"),
            "y": "%",
            "datasets": [
                {
                    "label": _("Conversion"),
                    "data": [_percent(b.conversion.value) for b in acc.bands],
                }
            ],
        },
        "sweep": {
            "type": "line",
            "labels": [p.threshold for p in acc.sweep],
            "x": _("MQL threshold"),
            "y": "%",
            "max": 100,
            "datasets": [
                {
                    "label": _("Precision"),
                    "data": [_percent(p.confusion.precision.value) for p in acc.sweep],
                    "radius": [6 if p.threshold == best else 0 for p in acc.sweep],
                },
                {
                    "label": _("Recall"),
                    "data": [_percent(p.confusion.recall.value) for p in acc.sweep],
                    "radius": [6 if p.threshold == best else 0 for p in acc.sweep],
                },
            ],
        },
    }


@require_POST
def suggestion_apply(request: AuthedRequest, slug: str) -> HttpResponse:
    """Turn one suggestion into a draft proposal whose parent is the version measured."""
    workshop = get_workshop_for_user(request.user, slug, roles.PROPOSE)
    context = _accuracy_context(request, workshop, request.POST.get("version", ""))
    chosen = context["chosen"]
    key = request.POST.get("key", "")
    suggestion = next((s for s in context["suggestions"] if s.key == key), None)
    if chosen is None or suggestion is None:
        messages.error(request, _("That suggestion no longer applies: the numbers changed."))
        return redirect("feedback:accuracy", slug=slug)
    try:
        proposal = authoring_services.proposal_create(
            actor=request.user,
            workshop=workshop,
            title=suggestion.title,
            document=suggestion.document,
            parent=chosen[0],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("feedback:accuracy", slug=slug)
    messages.success(request, suggestion.why)
    return redirect("definitions:proposal_detail", slug=slug, proposal_id=proposal.pk)


@require_GET
def accuracy(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    return render(request, "feedback/accuracy.html", _accuracy_context(request, workshop))


@require_GET
def accuracy_print(request: AuthedRequest, slug: str) -> HttpResponse:
    """The accuracy report on paper: the same numbers, no navigation."""
    workshop = get_workshop_for_user(request.user, slug)
    return render(
        request,
        "feedback/accuracy_print.html",
        {**_accuracy_context(request, workshop), "printed_at": timezone.now()},
    )


def _csv_response(rows: Iterator[list[object]], filename: str) -> StreamingHttpResponse:
    """A CSV streamed row by row (a run has a row per lead), cells formula-escaped."""

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    response = StreamingHttpResponse(
        (writer.writerow([csv_safe(v) for v in row]) for row in rows),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def verdicts_csv(request: AuthedRequest, slug: str) -> StreamingHttpResponse:
    workshop = get_workshop_for_user(request.user, slug)

    def rows() -> Iterator[list[object]]:
        yield [
            _("time"), _("rep"), _("external id"), _("lead"), _("verdict"), _("reason"),
            _("note"), _("version"), _("qualified"), _("stage"), _("score"), _("current"),
        ]  # fmt: skip
        for f in selectors.verdicts_of(workshop).iterator(chunk_size=2000):
            yield [
                f.created_at.isoformat(), f.rep.get_username(), f.lead.external_id, str(f.lead),
                f.verdict, f.reason, f.note, f.version.number if f.version else "",
                f.qualified, f.stage, f.score, f.superseded_at is None,
            ]  # fmt: skip

    return _csv_response(rows(), f"{workshop.slug}-verdicts.csv")


@require_GET
def run_results_csv(
    request: AuthedRequest, slug: str, run_id: int
) -> HttpResponse | StreamingHttpResponse:
    run = get_run_for_user(request.user, slug, run_id)
    if run.state != RunState.DONE:
        messages.info(
            request,
            _("This backtest has not finished: its results can be exported once it is done."),
        )
        return redirect("feedback:run_detail", slug=slug, run_id=run.pk)

    def rows() -> Iterator[list[object]]:
        yield [_("external id"), _("lead"), _("company"), _("qualified"), _("junk"), _("score"),
               _("stage"), _("matched criteria")]  # fmt: skip
        results = (
            LeadResult.objects.filter(run=run)
            .select_related("lead")
            .order_by("lead_id")
            .only(
                "lead__external_id",
                "lead__name",
                "lead__email",
                "lead__company",
                "qualified",
                "junk",
                "score",
                "stage",
                "matched",
            )
        )
        for r in results.iterator(chunk_size=5000):
            yield [r.lead.external_id, str(r.lead), r.lead.company, r.qualified, r.junk,
                   r.score, r.stage, r.matched]  # fmt: skip

    return _csv_response(rows(), f"{run.workshop.slug}-backtest-{run.pk}.csv")
