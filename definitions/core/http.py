"""Request and user typing shared by the views and the access modules."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthedRequest(HttpRequest):
    """A request behind LoginRequiredMiddleware, with django-htmx's details."""

    user: User
    htmx: HtmxDetails


# Who may be asking: the access modules answer for signed-in and anonymous users alike.
AnyUser = User | AnonymousUser
