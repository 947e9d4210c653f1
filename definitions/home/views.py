"""The landing pages: the workshop list, a workshop's dashboard and the inbox."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from definitions.authoring import selectors as authoring_selectors
from definitions.core.audit import describe
from definitions.core.extensions import extra_context
from definitions.core.http import AuthedRequest
from definitions.deliberation import selectors as deliberation_selectors
from definitions.models import ProposalState
from definitions.notifications import selectors as notification_selectors
from definitions.notifications import services as notification_services
from definitions.notifications.services import describe as describe_notification
from definitions.versions import selectors as version_selectors
from definitions.workshops import selectors as workshop_selectors
from definitions.workshops.access import (
    get_workshop_for_user,
)


@login_not_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "definitions/landing.html")
    workshops = workshop_selectors.workshops_for_user(request.user)
    invitations = workshop_selectors.pending_invitations_for(request.user)
    return render(
        request,
        "definitions/workshop_list.html",
        {
            "workshops": workshops,
            "invitations": invitations,
            "needs_vote": deliberation_selectors.needs_vote(request.user)[:20],
        },
    )


@require_GET
def workshop_home(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    members = workshop_selectors.members_of(workshop)
    context = {
        "workshop": workshop,
        "membership": workshop_selectors.membership_of(request.user, workshop),
        "member_count": members.count(),
        "recent": [(e, describe(e)) for e in workshop_selectors.audit_entries(workshop)[:5]],
        "current": version_selectors.current_version(workshop),
        "draft_count": authoring_selectors.drafts_of(workshop).count(),
        "open_count": deliberation_selectors.proposals_of(workshop, ProposalState.OPEN).count(),
        "needs_vote": deliberation_selectors.needs_vote(request.user, workshop)[:20],
        **extra_context("workshop_home", workshop=workshop),
    }
    return render(request, "definitions/workshop_home.html", context)


@require_GET
def inbox(request: AuthedRequest) -> HttpResponse:
    notifications = list(notification_selectors.notifications_of(request.user)[:100])
    return render(
        request,
        "definitions/inbox.html",
        {
            "items": [(n, describe_notification(n)) for n in notifications],
            "invitations": workshop_selectors.pending_invitations_for(request.user),
        },
    )


@require_POST
def inbox_read(request: AuthedRequest) -> HttpResponse:
    notification_services.notifications_mark_read(user=request.user)
    return redirect("inbox")
