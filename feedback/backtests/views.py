"""Backtest pages: start one, the list, a run with its progress and funnel, its leads,
cancel and retry."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from definitions import roles, rules
from definitions.catalog.selectors import catalog_for
from definitions.core.http import AuthedRequest
from definitions.core.querystring import offset_page
from definitions.workshops.access import (
    get_proposal_for_user,
    get_version_for_user,
    get_workshop_for_user,
)
from feedback.access import get_run_for_user
from feedback.backtests import selectors as backtest_selectors
from feedback.backtests import services as backtest_services
from feedback.backtests.comparison import compare_runs
from feedback.backtests.panels import _label, run_summary
from feedback.backtests.selectors import STAGE_LABELS
from feedback.models import RunState

PER_PAGE = 50


@require_POST
def backtest_start(request: AuthedRequest, slug: str) -> HttpResponse:
    """Backtest the version or the proposal named in the form."""
    workshop = get_workshop_for_user(request.user, slug, roles.PROPOSE)
    version = proposal = None
    if request.POST.get("version", "").isdigit():
        version = get_version_for_user(request.user, slug, int(request.POST["version"]))
    elif request.POST.get("proposal", "").isdigit():
        proposal = get_proposal_for_user(request.user, slug, int(request.POST["proposal"]))
    else:
        return HttpResponseBadRequest(_("Say which version or proposal to backtest."))
    try:
        run = backtest_services.backtest_start(
            actor=request.user, workshop=workshop, version=version, proposal=proposal
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        if proposal is not None:
            return redirect("definitions:proposal_detail", slug=slug, proposal_id=proposal.pk)
        return redirect("definitions:version_detail", slug=slug, number=version.number)  # type: ignore[union-attr]
    return redirect("feedback:run_detail", slug=slug, run_id=run.pk)


@require_GET
def run_list(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    return render(
        request,
        "feedback/run_list.html",
        {"workshop": workshop, "runs": backtest_selectors.runs_of(workshop)[:100]},
    )


@require_GET
def run_detail(request: AuthedRequest, slug: str, run_id: int) -> HttpResponse:
    run = get_run_for_user(request.user, slug, run_id)
    context: dict[str, Any] = {
        "workshop": run.workshop,
        "can_act": roles.PROPOSE in run.workshop.user_perms,
        **run_summary(run),
    }
    if request.htmx and run.is_active:
        return render(request, "feedback/run_detail.html#run-progress", context)
    if request.htmx:
        # Finished while the page watched: the whole page has more to show now.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    if run.state == RunState.DONE:
        base = backtest_selectors.base_run(run)
        catalog = catalog_for(run.workshop)
        definition = rules.parse(run.document, catalog).definition
        criteria = []
        if definition is not None:
            criteria = [
                (
                    c.id,
                    rules.render_criterion(c, catalog, _, ngettext),
                    run.criterion_counts.get(c.id, 0),
                )
                for c in rules.criteria(definition)
            ]
        context.update(
            {
                "base": base,
                "change": backtest_selectors.run_change(run, base),
                "comparison": compare_runs(run, base),
                "criteria": criteria,
            }
        )
    return render(request, "feedback/run_detail.html", context)


@require_GET
def run_leads(request: AuthedRequest, slug: str, run_id: int) -> HttpResponse:
    run = get_run_for_user(request.user, slug, run_id)
    result = request.GET.get("result", "")
    result = result if result in backtest_selectors.RESULT_FILTERS else ""
    change = request.GET.get("change", "")
    change = change if change in backtest_selectors.CHANGES else ""
    criterion = request.GET.get("criterion", "")[:64]
    entered = request.GET.get("entered", "")
    entered = entered if entered in backtest_selectors.STAGES else ""
    left = request.GET.get("left", "")
    left = left if left in backtest_selectors.STAGES else ""
    catalog = catalog_for(run.workshop)
    definition = rules.parse(run.document, catalog).definition
    known = {c.id: c for c in rules.criteria(definition)} if definition else {}
    criterion = criterion if criterion in known else ""
    base = backtest_selectors.base_run(run) if change or entered or left else None
    qs = backtest_selectors.run_leads(
        run,
        result=result,
        criterion=criterion,
        change=change,
        base=base,
        entered=entered,
        left=left,
    )
    page = offset_page(qs, request.GET.get("page"), PER_PAGE)
    leads = page.rows
    results = backtest_selectors.results_for_leads(run, [lead.pk for lead in leads])
    return render(
        request,
        "feedback/run_leads.html",
        {
            "workshop": run.workshop,
            "run": run,
            "run_label": _label(run),
            "rows": [(lead, results.get(lead.pk)) for lead in leads],
            "has_next": page.has_next,
            "page": page.number,
            "result": result,
            "change": change,
            "entered": entered,
            "left": left,
            "criterion": criterion,
            "criterion_text": (
                rules.render_criterion(known[criterion], catalog, _, ngettext) if criterion else ""
            ),
            "base": base,
            "result_choices": _result_choices(),
        },
    )


def _result_choices() -> list[tuple[str, str]]:
    return [
        ("", _("All leads")),
        ("qualified", _("Qualified")),
        ("not_qualified", _("Not qualified")),
        *(
            (stage, str(STAGE_LABELS[stage]))
            for stage in ("sql", "mql", "lead", "subscriber", "junk")
        ),
    ]


@require_POST
def run_cancel(request: AuthedRequest, slug: str, run_id: int) -> HttpResponse:
    run = get_run_for_user(request.user, slug, run_id, roles.PROPOSE)
    try:
        backtest_services.backtest_cancel(actor=request.user, run=run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("feedback:run_detail", slug=slug, run_id=run.pk)


@require_POST
def run_retry(request: AuthedRequest, slug: str, run_id: int) -> HttpResponse:
    run = get_run_for_user(request.user, slug, run_id, roles.PROPOSE)
    try:
        backtest_services.backtest_retry(actor=request.user, run=run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("feedback:run_detail", slug=slug, run_id=run.pk)
