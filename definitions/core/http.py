"""Request typing shared by the views."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthedRequest(HttpRequest):
    """A request behind LoginRequiredMiddleware, with django-htmx's details."""

    user: User
    htmx: HtmxDetails
