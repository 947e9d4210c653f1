"""Backtest pages: start one, watch its progress, read its funnel, its change against
the parent version and its per-criterion counts, and drill down into the leads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from definitions import roles, rules
from definitions.catalog.selectors import catalog_for
from definitions.core.http import AuthedRequest
from definitions.core.querystring import offset_page
from definitions.models import Proposal, Version, Workshop
from definitions.workshops.access import (
    get_proposal_for_user,
    get_version_for_user,
    get_workshop_for_user,
)
from feedback import backtest_selectors as selectors
from feedback import backtest_services as svc
from feedback.access import get_run_for_user
from feedback.models import EvaluationRun, RunState
from feedback.templatetags.metrics import STAGE_LABELS

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
        run = svc.backtest_start(
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
        {"workshop": workshop, "runs": selectors.runs_of(workshop)[:100]},
    )


def _label(run: EvaluationRun) -> str:
    if run.version is not None:
        return _("Version v%(n)s") % {"n": run.version.number}
    if run.proposal is not None:
        return _("Proposal “%(title)s”, revision %(n)s") % {
            "title": run.proposal.title,
            "n": run.proposal_revision,
        }
    return _("Backtest %(n)s") % {"n": run.pk}


def run_summary(run: EvaluationRun | None) -> dict[str, Any]:
    """The numbers shown wherever a run is summed up (run page, version, proposal)."""
    if run is None:
        return {"run": None}
    counts = run.stage_counts or {}
    total = run.leads_total or 0
    qualified = counts.get("qualified", 0)
    mql = counts.get("mql", 0) + counts.get("sql", 0)
    sql = counts.get("sql", 0)
    funnel = [
        (_("All leads"), total),
        (_("Qualified"), qualified),
        (_("MQL or better"), mql),
        (_("SQL"), sql),
    ]
    percent = 100 if run.state == RunState.DONE else int(100 * run.leads_done / max(total, 1))
    return {
        "run": run,
        "run_label": _label(run),
        "stale": svc.is_stale(run, run.workshop),
        "percent": min(percent, 100),
        "funnel": funnel,
        "total": total,
        "stages": [(stage, counts.get(stage, 0)) for stage in selectors.STAGES],
    }


def backtest_panel(
    workshop: Workshop, *, version: Version | None = None, proposal: Proposal | None = None
) -> dict[str, Any]:
    """Context of feedback/_backtest_panel.html on a version's or a proposal's page."""
    run = selectors.latest_run(workshop, version=version, proposal=proposal)
    if run is not None:
        run.workshop = workshop
    return {
        **run_summary(run),
        "can_backtest": roles.PROPOSE in workshop.user_perms,
        "target": "version" if version is not None else "proposal",
        "target_id": version.number if version is not None else proposal.pk,  # type: ignore[union-attr]
    }


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
        base = selectors.base_run(run)
        catalog = catalog_for(run.workshop)
        definition = rules.parse(run.document, catalog).definition
        criteria = []
        if definition is not None:
            criteria = [
                (c.id, rules.render_criterion(c, catalog, _), run.criterion_counts.get(c.id, 0))
                for c in rules.criteria(definition)
            ]
        context.update(
            {
                "base": base,
                "change": selectors.run_change(run, base),
                "criteria": criteria,
            }
        )
    return render(request, "feedback/run_detail.html", context)


@require_GET
def run_leads(request: AuthedRequest, slug: str, run_id: int) -> HttpResponse:
    run = get_run_for_user(request.user, slug, run_id)
    result = request.GET.get("result", "")
    result = result if result in selectors.RESULT_FILTERS else ""
    change = request.GET.get("change", "")
    change = change if change in selectors.CHANGES else ""
    criterion = request.GET.get("criterion", "")[:64]
    catalog = catalog_for(run.workshop)
    definition = rules.parse(run.document, catalog).definition
    known = {c.id: c for c in rules.criteria(definition)} if definition else {}
    criterion = criterion if criterion in known else ""
    base = selectors.base_run(run) if change else None
    qs = selectors.run_leads(run, result=result, criterion=criterion, change=change, base=base)
    page = offset_page(qs, request.GET.get("page"), PER_PAGE)
    leads = page.rows
    results = selectors.results_for_leads(run, [lead.pk for lead in leads])
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
            "criterion": criterion,
            "criterion_text": (
                rules.render_criterion(known[criterion], catalog, _) if criterion else ""
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
        svc.backtest_cancel(actor=request.user, run=run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("feedback:run_detail", slug=slug, run_id=run.pk)


@require_POST
def run_retry(request: AuthedRequest, slug: str, run_id: int) -> HttpResponse:
    run = get_run_for_user(request.user, slug, run_id, roles.PROPOSE)
    try:
        svc.backtest_retry(actor=request.user, run=run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("feedback:run_detail", slug=slug, run_id=run.pk)
