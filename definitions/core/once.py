"""Forms that create something act once per rendering. Each such form carries a
one-time token ({% form_token %}); the view, decorated with @submit_once, spends it in
the same transaction as its own writes. A double click, or a resend after a slow
answer, then finds the token spent and is sent where the first submission went."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from definitions.models import FormSubmission

TOKEN_FIELD = "form_token"  # noqa: S105  (a field name, not a secret)
# Long enough for a form left open over a weekend, short enough to keep the table small.
TOKEN_DAYS = 7


def submit_once(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = _token(request)
        if token is None or not request.user.is_authenticated:
            return view(request, *args, **kwargs)  # no token: a client that is not a form
        user_id = int(request.user.pk)
        with transaction.atomic():
            try:
                with transaction.atomic():  # a savepoint: a spent token leaves the rest usable
                    FormSubmission.objects.create(token=token, user_id=user_id)
            except IntegrityError:
                return _repeated(request, token, user_id)
            response = view(request, *args, **kwargs)
            if _failed(request, response):
                # Nothing was done: the same form, corrected, may be sent again.
                FormSubmission.objects.filter(token=token).delete()
            else:
                FormSubmission.objects.filter(token=token).update(
                    location=_location(request, response)
                )
        return response

    return wrapper


def new_token() -> str:
    return str(uuid.uuid4())


def submissions_forget(*, now: Any = None) -> int:
    """Drop spent tokens older than TOKEN_DAYS (housekeeping)."""
    limit = (now or timezone.now()) - timedelta(days=TOKEN_DAYS)
    deleted, _per_model = FormSubmission.objects.filter(created_at__lt=limit).delete()
    return deleted


def _token(request: HttpRequest) -> uuid.UUID | None:
    if request.method != "POST":
        return None
    try:
        return uuid.UUID(request.POST.get(TOKEN_FIELD, ""))
    except ValueError:
        return None


def _failed(request: HttpRequest, response: HttpResponse) -> bool:
    """Our views answer a refused submission with a 4xx page, or with a redirect and
    an error message (the pages that show their errors in the message area)."""
    if response.status_code >= 400:
        return True
    # Django's message storage keeps this request's new messages in _queued_messages;
    # reading them through the public iterator would mark them shown.
    queued = getattr(getattr(request, "_messages", None), "_queued_messages", [])
    return any(m.level >= messages.ERROR for m in queued)


def _location(request: HttpRequest, response: HttpResponse) -> str:
    if isinstance(response, HttpResponseRedirect):
        return str(response["Location"])[:2000]
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return referer[:2000]
    return ""


def _repeated(request: HttpRequest, token: uuid.UUID, user_id: int) -> HttpResponse:
    spent = FormSubmission.objects.filter(token=token, user_id=user_id).first()
    if getattr(request, "htmx", False):
        # The first answer already updated the page; there is nothing to swap in.
        return HttpResponse(status=204)
    messages.info(request, _("This form was already sent; it was saved once."))
    return HttpResponseRedirect(spent.location if spent and spent.location else "/")
