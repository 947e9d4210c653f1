"""The suggestions page: choose a version and a goal, start a discovery run, watch its
progress, read what it found, and turn the recommended draft, one suggestion or the
checked ones into a proposal. Admins clear fields suspected of leaking the outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from definitions import roles
from definitions.catalog.selectors import catalog_for
from definitions.core.http import AuthedRequest
from definitions.core.querystring import whole_number
from definitions.models import Version, Workshop
from definitions.versions.selectors import current_version, versions_of
from definitions.workshops.access import get_version_for_user, get_workshop_for_user
from feedback.access import get_discovery_for_user
from feedback.models import DiscoveryRun
from feedback.suggestions import runs
from feedback.suggestions import selectors as suggestion_selectors
from feedback.suggestions.forms import GoalForm
from feedback.suggestions.services import suggestions_apply
from feedback.suggestions.types import Figures, Goal, Suggestion

TEMPLATE = "feedback/suggestions.html"


# ---------------------------------------------------------------- presentation


@dataclass(frozen=True)
class FigureRow:
    label: str
    before: str
    after: str
    better: bool | None  # None: neither better nor worse (leads a week)


def _span(figures: Figures, key: str, value: float, percent: bool) -> str:
    def show(x: float) -> str:
        return f"{100 * x:.1f} %" if percent else f"{x:.3f}"

    interval = figures.intervals.get(key)
    if not interval:
        return show(value)
    low, high = interval
    return f"{show(value)} ({show(low)}\N{EN DASH}{show(high)})"


def _per_week(figures: Figures) -> str:
    interval = figures.intervals.get("per_week")
    if not interval:
        return f"{figures.per_week:.1f}"
    return f"{figures.per_week:.1f} ({interval[0]:.1f}\N{EN DASH}{interval[1]:.1f})"


def figure_rows(before: Figures, after: Figures) -> list[FigureRow]:
    """Before and after on the validation part, each with its 95 % interval."""
    return [
        FigureRow(
            _("Precision"),
            _span(before, "precision", before.precision, True),
            _span(after, "precision", after.precision, True),
            after.precision > before.precision,
        ),
        FigureRow(
            _("Recall"),
            _span(before, "recall", before.recall, True),
            _span(after, "recall", after.recall, True),
            after.recall > before.recall,
        ),
        FigureRow(
            "F1",
            _span(before, "f1", before.f1, False),
            _span(after, "f1", after.f1, False),
            after.f1 > before.f1,
        ),
        FigureRow(_("Leads to sales per week"), _per_week(before), _per_week(after), None),
    ]


def kind_labels() -> dict[str, str]:
    return {
        "add_qualify": _("Add a qualify criterion"),
        "add_junk": _("Add a junk rule"),
        "remove": _("Remove a criterion"),
        "move": _("Move a threshold"),
        "scorecard": _("Scorecard"),
        "recommended": _("Recommended draft"),
    }


@dataclass(frozen=True)
class Shown:
    """A suggestion as the page shows it."""

    suggestion: Suggestion
    kind: str
    rows: list[FigureRow]


def _shown(suggestion: Suggestion) -> Shown:
    return Shown(
        suggestion,
        kind_labels().get(suggestion.kind, suggestion.kind),
        figure_rows(suggestion.before, suggestion.after),
    )


def goal_text(goal: Goal) -> str:
    """The goal in one sentence, as the run page states what it searched for."""
    targets = {
        "outcome": _("against outcomes"),
        "verdict": _("against the reps' verdicts"),
        "both": _("against leads where outcomes and verdicts agree"),
    }
    target = targets.get(goal.target, goal.target)
    if goal.objective == "precision":
        return _("Best precision with recall at least %(r).2f, %(target)s.") % {
            "r": goal.min_recall,
            "target": target,
        }
    if goal.objective == "recall":
        return _("Best recall with precision at least %(p).2f, %(target)s.") % {
            "p": goal.min_precision,
            "target": target,
        }
    if goal.objective == "capacity":
        return _("The best %(n)s leads a week for sales, %(target)s.") % {
            "n": goal.capacity,
            "target": target,
        }
    return _("Best F1, %(target)s.") % {"target": target}


# ---------------------------------------------------------------------- context


def _run_context(workshop: Workshop, run: DiscoveryRun | None) -> dict[str, Any]:
    context: dict[str, Any] = {"run": run}
    if run is None:
        return context
    goal = suggestion_selectors.discovery_goal(run)
    discovery = suggestion_selectors.discovery_of(run)
    context.update(
        {
            "goal_text": goal_text(goal),
            "discovery": discovery,
            "stale": suggestion_selectors.discovery_is_stale(run, workshop),
        }
    )
    if discovery is not None:
        cleared = {c.field for c in suggestion_selectors.cleared_fields(workshop)}
        context.update(
            {
                "recommended": _shown(discovery.recommended) if discovery.recommended else None,
                "suggestions": [_shown(s) for s in discovery.suggestions],
                "leaks": [leak for leak in discovery.leaks if leak.field not in cleared],
            }
        )
    return context


@dataclass(frozen=True)
class Cleared:
    field: str
    label: str
    by: str
    at: Any


def _cleared(workshop: Workshop) -> list[Cleared]:
    """The fields an admin cleared, with their labels (a field deleted since keeps its key)."""
    fields = catalog_for(workshop).fields
    return [
        Cleared(
            c.field,
            str(fields[c.field].label) if c.field in fields else c.field,
            c.cleared_by.get_username() if c.cleared_by else "",
            c.cleared_at,
        )
        for c in suggestion_selectors.cleared_fields(workshop)
    ]


def _page(
    request: AuthedRequest,
    workshop: Workshop,
    version: Version | None,
    run: DiscoveryRun | None,
    form: GoalForm | None = None,
    status: int = 200,
) -> HttpResponse:
    goal = suggestion_selectors.discovery_goal(run) if run is not None else None
    context = {
        "workshop": workshop,
        "versions": list(versions_of(workshop)[:24]),
        "version": version,
        "form": form or GoalForm(initial=GoalForm.initial_from(goal)),
        "can_propose": roles.PROPOSE in workshop.user_perms,
        "can_clear": roles.CHANGE in workshop.user_perms,
        "cleared": _cleared(workshop),
        **_run_context(workshop, run),
    }
    return render(request, TEMPLATE, context, status=status)


def _chosen_version(workshop: Workshop, wanted: str | None) -> Version | None:
    number = whole_number(wanted)
    if number is not None:
        found = versions_of(workshop).filter(number=number).first()
        if found is not None:
            return found
    return current_version(workshop)


# ------------------------------------------------------------------------ views


@require_GET
def suggestions(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    version = _chosen_version(workshop, request.GET.get("version"))
    run = suggestion_selectors.latest_discovery(workshop, version) if version else None
    return _page(request, workshop, version, run)


@require_POST
def discovery_start(request: AuthedRequest, slug: str) -> HttpResponse:
    """Start a search for improvements of the version named in the form."""
    workshop = get_workshop_for_user(request.user, slug, roles.PROPOSE)
    number = whole_number(request.POST.get("version"))
    version = (
        get_version_for_user(request.user, slug, number)
        if number is not None
        else current_version(workshop)
    )
    if version is None:
        messages.error(request, _("Publish a first version before searching for improvements."))
        return redirect("feedback:suggestions", slug=slug)
    form = GoalForm(request.POST)
    if not form.is_valid():
        run = suggestion_selectors.latest_discovery(workshop, version)
        return _page(request, workshop, version, run, form=form, status=400)
    try:
        run = runs.discovery_start(
            actor=request.user, workshop=workshop, version=version, goal=form.goal
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{reverse('feedback:suggestions', args=[slug])}?version={version.number}")
    return redirect("feedback:discovery_detail", slug=slug, discovery_id=run.pk)


@require_GET
def discovery_detail(request: AuthedRequest, slug: str, discovery_id: int) -> HttpResponse:
    """A run's page: its progress while it runs (htmx polls the #discovery partial;
    without JavaScript the page refreshes itself), then what it found."""
    run = get_discovery_for_user(request.user, slug, discovery_id)
    workshop = run.workshop
    if request.htmx:
        context = {
            "workshop": workshop,
            "version": run.version,
            "can_propose": roles.PROPOSE in workshop.user_perms,
            "can_clear": roles.CHANGE in workshop.user_perms,
            "cleared": _cleared(workshop),
            **_run_context(workshop, run),
        }
        return render(request, f"{TEMPLATE}#discovery", context)
    return _page(request, workshop, run.version, run)


@require_POST
def discovery_retry(request: AuthedRequest, slug: str, discovery_id: int) -> HttpResponse:
    run = get_discovery_for_user(request.user, slug, discovery_id, roles.PROPOSE)
    try:
        run = runs.discovery_retry(actor=request.user, run=run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("feedback:discovery_detail", slug=slug, discovery_id=run.pk)


@require_POST
def discovery_apply(request: AuthedRequest, slug: str, discovery_id: int) -> HttpResponse:
    """Turn the recommended draft, one suggestion, or the checked ones into a draft
    proposal based on the run's version; its backtest is queued."""
    run = get_discovery_for_user(request.user, slug, discovery_id, roles.PROPOSE)
    discovery = suggestion_selectors.discovery_of(run)
    key = request.POST.get("key", "")[:200]
    keys = request.POST.getlist("keys")[:100] if key == "checked" else [key] if key else []
    if discovery is None:
        messages.error(request, _("This search has no results to turn into a proposal."))
    elif not keys:
        messages.error(request, _("Check at least one suggestion first."))
    else:
        try:
            proposal = suggestions_apply(
                actor=request.user,
                workshop=run.workshop,
                version=run.version,
                discovery=discovery,
                keys=keys,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _(
                    "The draft “%(title)s” carries the evidence in its rationale; "
                    "its backtest is running."
                )
                % {"title": proposal.title},
            )
            return redirect("definitions:proposal_detail", slug=slug, proposal_id=proposal.pk)
    return redirect("feedback:discovery_detail", slug=slug, discovery_id=run.pk)


def _back(request: AuthedRequest, workshop: Workshop) -> HttpResponse:
    """Back to the run the admin was reading, if it is one of this workshop's."""
    discovery_id = whole_number(request.POST.get("discovery"))
    if discovery_id is not None and suggestion_selectors.discovery_in(workshop, discovery_id):
        return redirect("feedback:discovery_detail", slug=workshop.slug, discovery_id=discovery_id)
    return redirect("feedback:suggestions", slug=workshop.slug)


@require_POST
def leakage_clear(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.CHANGE)
    field = request.POST.get("field", "")[:64]
    try:
        runs.leakage_clear(actor=request.user, workshop=workshop, field=field)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The next search for improvements may use this field. Run it again.")
        )
    return _back(request, workshop)


@require_POST
def leakage_restore(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.CHANGE)
    field = request.POST.get("field", "")[:64]
    runs.leakage_restore(actor=request.user, workshop=workshop, field=field)
    messages.success(request, _("The next search for improvements leaves this field out again."))
    return _back(request, workshop)
