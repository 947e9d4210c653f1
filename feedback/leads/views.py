"""Historical leads: the list with search, filters and sort, and one lead's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from definitions import roles, rules
from definitions.catalog.selectors import catalog_for
from definitions.core.http import AuthedRequest
from definitions.core.querystring import offset_page
from definitions.workshops.access import get_workshop_for_user
from feedback.access import get_lead_for_user
from feedback.accuracy import selectors as accuracy_selectors
from feedback.backtests import selectors as backtest_selectors
from feedback.leads import selectors as lead_selectors
from feedback.leads.forms import LeadFilterForm
from feedback.models import EvaluationRun, Lead, LeadResult

PER_PAGE = 50


def _filter_lookup(spec: rules.FieldSpec, value: Any) -> tuple[str, Any]:
    """The ORM lookup for "field = value" (value already typed and checked by
    LeadFilterForm). Each lookup is one an index of migration feedback/0009 serves."""
    if spec.type == rules.FieldType.DATE:
        if not spec.builtin:
            return _custom_lookup(spec.key, value.isoformat())
        # The day as a range of moments, not a cast of the column: the index serves it.
        start = timezone.make_aware(datetime.combine(value, time.min))
        return f"{spec.key}__range", (start, start + timedelta(days=1, microseconds=-1))
    if not spec.builtin:
        return _custom_lookup(spec.key, value)
    if spec.type == rules.FieldType.TEXT:
        return f"{spec.key}__iexact", value
    return spec.key, value


def _custom_lookup(key: str, value: Any) -> tuple[str, Any]:
    # Containment uses PostgreSQL's GIN index on the custom fields; SQLite has no
    # containment for JSON, and equality of the key's value means the same there.
    if connection.vendor == "postgresql":
        return "custom__contains", {key: value}
    return f"custom__{key}", value


@require_GET
def lead_list(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    catalog = catalog_for(workshop)
    form = LeadFilterForm(request.GET, catalog=catalog)
    form.is_valid()  # an invalid value is shown at its field and left out of the query
    q = form.cleaned_data.get("q") or ""
    sort = request.GET.get("sort", "newest")
    sort = sort if sort in lead_selectors.SORTS else "newest"
    qs = lead_selectors.leads_of(workshop, q=q, sort=sort)
    spec = catalog.fields.get(form.cleaned_data.get("field") or "")
    if spec is not None and form.cleaned_data.get("typed") is not None:
        lookup, value = _filter_lookup(spec, form.cleaned_data["typed"])
        qs = qs.filter(**{lookup: value})
    page = offset_page(qs, request.GET.get("page"), PER_PAGE)
    count, more = lead_selectors.capped_count(qs)
    context = {
        "workshop": workshop,
        "leads": page.rows,
        "has_next": page.has_next,
        "page": page.number,
        "count": count,
        "count_more": more,
        "form": form,
        # Echo what was typed (the inputs keep it), cut to the field's length.
        "q": request.GET.get("q", "")[:200],
        "field": form.cleaned_data.get("field") or "",
        "value": request.GET.get("value", "")[:200],
        "sort": sort,
        "sorts": list(lead_selectors.SORTS),
        "filter_error": "value" in form.errors,
        "fields": list(catalog.fields.values()),
        "source_labels": dict(catalog.fields["source"].choice_labels),
    }
    template = "feedback/lead_list.html#lead-results" if request.htmx else "feedback/lead_list.html"
    return render(request, template, context)


@require_GET
def lead_detail(request: AuthedRequest, slug: str, lead_id: int) -> HttpResponse:
    lead = get_lead_for_user(request.user, slug, lead_id)
    catalog = catalog_for(lead.workshop)
    values = []
    for spec in catalog.fields.values():
        value = getattr(lead, spec.key) if spec.builtin else lead.custom.get(spec.key)
        if value is None or value == "":
            continue
        if spec.type == rules.FieldType.CHOICE:
            value = spec.choice_label(str(value))
        values.append((spec, value))
    return render(
        request,
        "feedback/lead_detail.html",
        {
            "workshop": lead.workshop,
            "lead": lead,
            "values": values,
            "activities": lead_selectors.activities_of(lead),
            "verdicts": _verdicts(lead, catalog),
            **_feedback_context(request, lead),
        },
    )


def _feedback_context(request: AuthedRequest, lead: Lead) -> dict[str, Any]:
    """What a rep may do here: flag a lead the current version rejected as missed."""

    version, run = accuracy_selectors.queue_run(lead.workshop)
    result = backtest_selectors.results_for_leads(run, [lead.pk]).get(lead.pk) if run else None
    return {
        "can_flag_missed": roles.GIVE_FEEDBACK in lead.workshop.user_perms
        and result is not None
        and not result.qualified,
        "current_version": version,
        "feedback_history": accuracy_selectors.verdict_history(lead)[:20],
    }


@dataclass(frozen=True)
class Verdict:
    run: EvaluationRun
    result: LeadResult | None
    matched: list[tuple[str, str]]  # (section label, criterion in plain language)
    unmatched: list[tuple[str, str]]


def _verdicts(lead: Lead, catalog: rules.Catalog) -> list[Verdict]:
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
                (matched if node.id in hits else unmatched).append(line)
        out.append(Verdict(run=run, result=result, matched=matched, unmatched=unmatched))
    return out
