"""Historical leads: the list with search, filters and sort, and one lead's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from definitions import roles, rules
from definitions.catalog import catalog_for
from definitions.http import AuthedRequest
from definitions.permissions import get_lead_for_user, get_workshop_for_user
from feedback import backtest_selectors, selectors
from feedback.models import EvaluationRun, Lead, LeadResult

PER_PAGE = 50


def _filter_value(spec: rules.FieldSpec, raw: str) -> tuple[str, Any] | None:
    """The ORM lookup for "field = value", typed by the catalog; None if `raw` does
    not fit the type (the page then says so instead of failing). Each lookup is one an
    index of migration feedback/0009 serves."""
    raw = raw.strip()
    value: Any
    if spec.type == rules.FieldType.NUMBER:
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            return None
    elif spec.type == rules.FieldType.BOOLEAN:
        flags = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        if raw.lower() not in flags:
            return None
        value = flags[raw.lower()]
    elif spec.type == rules.FieldType.DATE:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            return None
        if not spec.builtin:
            return _custom_lookup(spec.key, day.isoformat())
        # The day as a range of moments, not a cast of the column: the index serves it.
        start = timezone.make_aware(datetime.combine(day, time.min))
        return f"{spec.key}__range", (start, start + timedelta(days=1, microseconds=-1))
    else:
        value = raw
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
    q = request.GET.get("q", "")[:200]
    field_key = request.GET.get("field", "")
    raw_value = request.GET.get("value", "")[:200]
    sort = request.GET.get("sort", "newest")
    filters: dict[str, Any] = {}
    filter_error = False
    spec = catalog.fields.get(field_key)
    if spec is not None and raw_value.strip():
        lookup = _filter_value(spec, raw_value)
        if lookup is None:
            filter_error = True
        else:
            filters[lookup[0]] = lookup[1]
    qs = selectors.leads_of(workshop, q=q, sort=sort)
    if filters:
        qs = qs.filter(**filters)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    rows = list(qs[(page - 1) * PER_PAGE : page * PER_PAGE + 1])
    count, more = selectors.capped_count(qs)
    context = {
        "workshop": workshop,
        "leads": rows[:PER_PAGE],
        "has_next": len(rows) > PER_PAGE,
        "page": page,
        "count": count,
        "count_more": more,
        "q": q,
        "field": field_key,
        "value": raw_value,
        "sort": sort,
        "sorts": list(selectors.SORTS),
        "filter_error": filter_error,
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
            "activities": selectors.activities_of(lead),
            "verdicts": _verdicts(lead, catalog),
            **_feedback_context(request, lead),
        },
    )


def _feedback_context(request: AuthedRequest, lead: Lead) -> dict[str, Any]:
    """What a rep may do here: flag a lead the current version rejected as missed."""
    from feedback import accuracy_selectors

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
