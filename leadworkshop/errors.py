"""The answer to an unhandled error. A database that went away for a moment (a restart,
a failover) is not a bug: the person is told that nothing was saved and to try again,
with 503 and Retry-After so that programs retry too. Anything else is a plain 500."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls the 500 handler inside its `except` block, so the error is at hand.
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        # Rendered without the request: context processors would query the database.
        page = render_to_string("503.html")
        return HttpResponse(page, status=503, headers={"Retry-After": "5"})
    return defaults.server_error(request)
