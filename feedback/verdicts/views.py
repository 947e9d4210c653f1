"""The reps' pages: the triage queue, recording and undoing a verdict, BANT."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from definitions import roles, rules
from definitions.catalog.selectors import catalog_for
from definitions.core import labels
from definitions.core.http import AuthedRequest
from definitions.versions.selectors import current_version
from definitions.workshops.access import get_workshop_for_user, require
from feedback.access import get_lead_for_user
from feedback.backtests.selectors import results_for_leads
from feedback.leads.selectors import CappedPaginator
from feedback.models import Lead, LeadActivity, Reason
from feedback.verdicts import selectors as verdict_selectors
from feedback.verdicts import services as verdict_services

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
    verdicts = verdict_selectors.my_verdicts(rep, [lead.pk for lead in leads])
    imported = verdict_selectors.imported_verdicts([lead.pk for lead in leads])
    kind_labels = labels.activity_labels(catalog)
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
            "imported": imported.get(lead.pk),
            # Looked up here, not as card.verdict.reason in the template: a missing
            # verdict would make every lookup through it a failed, costly one.
            "reason": verdicts[lead.pk].reason if lead.pk in verdicts else "",
            "note": verdicts[lead.pk].note if lead.pk in verdicts else "",
            "activities": [
                (labels.activity_label(a.kind, kind_labels), a.at) for a in recent.get(lead.pk, [])
            ],
            "source": catalog.fields["source"].choice_label(lead.source) if lead.source else "",
        }
        for lead in leads
    ]


@require_GET
def feedback_queue(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.GIVE_FEEDBACK)
    version, run = verdict_selectors.queue_run(workshop)
    show = request.GET.get("show", "unreviewed")
    show = show if show in verdict_selectors.QUEUE_FILTERS else "unreviewed"
    stage = request.GET.get("stage", "")
    # The queue holds the leads at or beyond the handoff stage: one of those, or any.
    queue_stages = verdict_selectors.handoff_stages(workshop)
    stage = stage if stage in queue_stages else ""
    source = request.GET.get("source", "")
    source_spec = rules.DEFAULT_CATALOG.fields["source"]
    # Like the stage: one of the select's options, or no filter.
    source = source if source in source_spec.choices else ""
    page = None
    cards: list[dict[str, Any]] = []
    if run is not None:
        qs = verdict_selectors.feedback_queue(
            workshop, run, rep=request.user, show=show, stage=stage, source=source
        )
        unfiltered = show == "unreviewed" and not stage and not source
        page = CappedPaginator(
            qs,
            PER_PAGE,
            allow_empty_first_page=True,
            cap=QUEUE_COUNT_CAP,
            known=verdict_selectors.unreviewed_count(run, workshop) if unfiltered else None,
        ).get_page(request.GET.get("page"))
        cards = _cards(workshop, run, list(page.object_list), request.user)
    return render(
        request,
        "feedback/queue.html",
        {
            "workshop": workshop,
            "version": version,
            "current": current_version(workshop),
            "run": run,
            "cards": cards,
            "page": page,
            "show": show,
            "stage": stage,
            "queue_stages": queue_stages,
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
    _version, run = verdict_selectors.queue_run(lead.workshop)
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
        verdict_services.verdict_record(
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
    undone = verdict_services.verdict_undo(actor=request.user, workshop=workshop)
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
        verdict_services.lead_bant_update(actor=request.user, lead=lead, values=values)
    if request.htmx:
        return _card_response(request, lead)
    return redirect(f"{_queue_url(slug)}?{request.POST.get('query', '')}")
