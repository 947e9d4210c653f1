"""Shadow pages: start and stop a proposal's shadow run, its report, and the reps'
disagreement queue, whose verdicts are ordinary verdicts (feedback.verdicts)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from definitions import roles
from definitions.core.http import AuthedRequest
from definitions.workshops.access import get_proposal_for_user, get_workshop_for_user, require
from feedback.access import get_lead_for_user, get_shadow_for_user
from feedback.models import Reason
from feedback.shadows import selectors
from feedback.shadows import services as shadow_services
from feedback.verdicts import services as verdict_services

PER_PAGE = 20


@require_POST
def shadow_start(request: AuthedRequest, slug: str) -> HttpResponse:
    """Run the proposal named in the form in shadow."""
    get_workshop_for_user(request.user, slug, roles.PROPOSE)
    if not request.POST.get("proposal", "").isdigit():
        return HttpResponseBadRequest(_("Say which proposal to run in shadow."))
    proposal = get_proposal_for_user(request.user, slug, int(request.POST["proposal"]))
    try:
        shadow_services.shadow_start(actor=request.user, proposal=proposal)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The proposal runs in shadow: every new lead is classified by it too.")
        )
    return redirect(reverse("definitions:proposal_detail", args=[slug, proposal.pk]) + "#shadow")


@require_POST
def shadow_stop(request: AuthedRequest, slug: str, shadow_id: int) -> HttpResponse:
    shadow = get_shadow_for_user(request.user, slug, shadow_id, roles.PROPOSE)
    try:
        shadow_services.shadow_stop(actor=request.user, shadow=shadow)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The shadow run is stopped; its evidence stays."))
    return redirect("feedback:shadow_report", slug=slug, shadow_id=shadow.pk)


@require_GET
def shadow_report(request: AuthedRequest, slug: str, shadow_id: int) -> HttpResponse:
    shadow = get_shadow_for_user(request.user, slug, shadow_id)
    workshop = shadow.workshop
    shadow_services.shadow_probes_flush()  # this process's classify calls count too
    return render(
        request,
        "feedback/shadow_report.html",
        {
            "workshop": workshop,
            **selectors.shadow_report(shadow, workshop),
            "can_stop": roles.PROPOSE in workshop.user_perms,
            "can_judge": roles.GIVE_FEEDBACK in workshop.user_perms,
        },
    )


@require_GET
def disagreement_queue(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.GIVE_FEEDBACK)
    show = request.GET.get("show", "unreviewed")
    show = show if show in selectors.QUEUE_FILTERS else "unreviewed"
    page = Paginator(
        selectors.disagreement_leads(workshop, show=show), PER_PAGE, allow_empty_first_page=True
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/shadow_queue.html",
        {
            "workshop": workshop,
            "show": show,
            "page": page,
            "cards": selectors.disagreement_cards(workshop, list(page.object_list), request.user),
            "reasons": [(code, str(label)) for code, label in Reason.choices],
            "query": request.GET.urlencode(),
        },
    )


@require_POST
def disagreement_verdict(request: AuthedRequest, slug: str, lead_id: int) -> HttpResponse:
    """An ordinary verdict, given from the disagreement queue."""
    lead = get_lead_for_user(request.user, slug, lead_id)
    require(lead.workshop, roles.GIVE_FEEDBACK)
    try:
        verdict_services.verdict_record(
            actor=request.user,
            lead=lead,
            verdict=request.POST.get("verdict", ""),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Verdict saved on “%(lead)s”.") % {"lead": lead})
    query = request.POST.get("query", "")
    return redirect(
        reverse("feedback:disagreement_queue", args=[slug]) + (f"?{query}" if query else "")
    )
