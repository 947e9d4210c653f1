"""Historical leads: the list with search, filters and sort, and one lead's page."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from definitions import rules
from definitions.catalog.selectors import catalog_for
from definitions.core import labels
from definitions.core.extensions import extra_context
from definitions.core.http import AuthedRequest
from definitions.core.querystring import offset_page
from definitions.workshops.access import get_workshop_for_user
from feedback.access import get_lead_for_user
from feedback.leads import selectors as lead_selectors
from feedback.leads.forms import LeadFilterForm
from feedback.models import Lead

PER_PAGE = 50


def _filter(
    qs: QuerySet[Lead], workshop_id: int, spec: rules.FieldSpec, value: Any
) -> QuerySet[Lead]:
    """Leads whose field equals `value` (already typed and checked by LeadFilterForm),
    through an index: the token index (built-in fields, PostgreSQL), a sort index, or
    the custom fields' GIN index."""
    if spec.type == rules.FieldType.DATE:
        if not spec.builtin:
            return qs.filter(**dict([_custom_lookup(spec.key, value.isoformat())]))
        # The day as a range of moments, not a cast of the column: an index serves it.
        start = timezone.make_aware(datetime.combine(value, time.min))
        day = (start, start + timedelta(days=1, microseconds=-1))
        return lead_selectors.field_equals(qs, workshop_id, spec.key, day)
    if not spec.builtin:
        return qs.filter(**dict([_custom_lookup(spec.key, value)]))
    return lead_selectors.field_equals(qs, workshop_id, spec.key, value)


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
        qs = _filter(qs, workshop.pk, spec, form.cleaned_data["typed"])
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
            "kind_labels": labels.activity_labels(catalog),
            # What each version says about the lead (feedback/backtests/panels.py) and
            # what a rep may do with it (feedback/verdicts/panels.py).
            **extra_context("lead_detail", lead=lead, catalog=catalog),
        },
    )
