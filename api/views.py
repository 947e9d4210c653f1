"""The API keys page: admins create keys (each shown once) and revoke them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from api import selectors, services
from api.access import get_api_key_for_user
from api.forms import ApiKeyForm
from api.models import ApiKey
from definitions import roles
from definitions.core.forms import apply_errors
from definitions.core.http import AuthedRequest
from definitions.core.once import submit_once
from definitions.models import Workshop
from definitions.workshops.access import get_workshop_for_user


def _page(
    request: AuthedRequest,
    workshop: Workshop,
    form: ApiKeyForm,
    *,
    new_key: ApiKey | None = None,
    token: str | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "workshop": workshop,
        "keys": selectors.api_keys_of(workshop),
        "form": form,
        "new_key": new_key,
        "token": token,
    }
    return render(request, "api/key_list.html", context, status=status)


@require_http_methods(["GET", "POST"])
@submit_once
def key_list(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.IMPORT_LEADS)
    if request.method != "POST":
        return _page(request, workshop, ApiKeyForm())
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, token = services.api_key_create(
                actor=request.user, workshop=workshop, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            # Answered directly instead of redirecting: after a redirect the token would
            # have to wait somewhere (the session), and it must exist nowhere but here.
            response = _page(request, workshop, ApiKeyForm(), new_key=key, token=token)
            response["Cache-Control"] = "no-store"
            return response
    return _page(request, workshop, form, status=400)


@require_http_methods(["GET", "POST"])
def key_revoke(request: AuthedRequest, slug: str, key_id: int) -> HttpResponse:
    key = get_api_key_for_user(request.user, slug, key_id)
    if request.method == "POST":
        try:
            services.api_key_revoke(actor=request.user, key=key)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Key “%(name)s” revoked: programs using it are refused from now on.")
                % {"name": key.name},
            )
        return redirect("api:key_list", slug=slug)
    return render(request, "api/key_revoke.html", {"workshop": key.workshop, "key": key})
