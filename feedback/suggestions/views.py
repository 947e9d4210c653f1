"""Turning a suggestion into a proposal draft."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from definitions import roles, rules
from definitions.authoring import services as authoring_services
from definitions.catalog.selectors import catalog_for
from definitions.core.http import AuthedRequest
from definitions.core.querystring import whole_number
from definitions.workshops.access import get_workshop_for_user
from feedback.accuracy import selectors as accuracy_selectors
from feedback.suggestions.engine import suggestions_for


@require_POST
def suggestion_apply(request: AuthedRequest, slug: str) -> HttpResponse:
    """Turn one suggestion into a draft proposal whose parent is the version measured."""
    workshop = get_workshop_for_user(request.user, slug, roles.PROPOSE)
    catalog = catalog_for(workshop)
    rows = accuracy_selectors.version_accuracies(workshop, catalog, _)
    chosen = accuracy_selectors.chosen_row(rows, whole_number(request.POST.get("version", "")))
    key = request.POST.get("key", "")
    suggestion = None
    if chosen is not None:
        definition = rules.parse(chosen[1].run.document, catalog).definition
        if definition is not None:
            found = suggestions_for(chosen[1], definition, catalog)
            suggestion = next((s for s in found if s.key == key), None)
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
