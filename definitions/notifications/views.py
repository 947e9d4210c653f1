"""TODO docstring."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from definitions.core.http import AuthedRequest
from definitions.notifications import selectors as notification_selectors
from definitions.notifications import services as notification_services
from definitions.notifications.services import describe as describe_notification
from definitions.workshops import selectors as workshop_selectors


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
