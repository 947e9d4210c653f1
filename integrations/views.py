"""The integrations pages (admins): webhook endpoints with their deliveries, and the
chat settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from definitions.core.forms import apply_errors
from definitions.core.http import AuthedRequest
from definitions.core.once import submit_once
from definitions.models import Workshop
from integrations import secrets, selectors, services
from integrations.access import get_endpoint_for_user, get_integrations_workshop_for_user
from integrations.events import WEBHOOK_EVENTS
from integrations.forms import ChatSettingsForm, EndpointForm
from integrations.models import WebhookEndpoint


def _list_page(
    request: AuthedRequest,
    workshop: Workshop,
    form: EndpointForm,
    *,
    new_endpoint: WebhookEndpoint | None = None,
    secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "workshop": workshop,
        "endpoints": selectors.endpoints_of(workshop),
        "event_labels": WEBHOOK_EVENTS,
        "form": form,
        "new_endpoint": new_endpoint,
        "secret": secret,
    }
    return render(request, "integrations/webhook_list.html", context, status=status)


@require_http_methods(["GET", "POST"])
@submit_once
def webhook_list(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_integrations_workshop_for_user(request.user, slug)
    if request.method != "POST":
        return _list_page(request, workshop, EndpointForm())
    form = EndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint, secret = services.endpoint_create(
                actor=request.user,
                workshop=workshop,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                events=form.cleaned_data["events"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            # Answered directly, not redirected: the secret must exist nowhere but in
            # this answer (it is stored encrypted and never shown again).
            response = _list_page(
                request, workshop, EndpointForm(), new_endpoint=endpoint, secret=secret
            )
            response["Cache-Control"] = "no-store"
            return response
    return _list_page(request, workshop, form, status=400)


@require_http_methods(["GET", "POST"])
def webhook_detail(request: AuthedRequest, slug: str, endpoint_id: int) -> HttpResponse:
    endpoint = get_endpoint_for_user(request.user, slug, endpoint_id)
    initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
    form = EndpointForm(initial=initial)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "update")
        if action == "enable":
            services.endpoint_enable(actor=request.user, endpoint=endpoint)
            messages.success(request, _("The endpoint is switched on."))
            return redirect("integrations:webhook_detail", slug=slug, endpoint_id=endpoint.pk)
        if action == "disable":
            services.endpoint_disable(actor=request.user, endpoint=endpoint)
            messages.success(request, _("The endpoint is switched off."))
            return redirect("integrations:webhook_detail", slug=slug, endpoint_id=endpoint.pk)
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                services.endpoint_update(
                    actor=request.user,
                    endpoint=endpoint,
                    url=form.cleaned_data["url"],
                    description=form.cleaned_data["description"],
                    events=form.cleaned_data["events"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The endpoint is saved."))
                return redirect("integrations:webhook_detail", slug=slug, endpoint_id=endpoint.pk)
        status = 400
        endpoint.refresh_from_db()
    context = {
        "workshop": endpoint.workshop,
        "endpoint": endpoint,
        "event_labels": WEBHOOK_EVENTS,
        "deliveries": selectors.deliveries_of(endpoint),
        "form": form,
    }
    return render(request, "integrations/webhook_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def webhook_delete(request: AuthedRequest, slug: str, endpoint_id: int) -> HttpResponse:
    endpoint = get_endpoint_for_user(request.user, slug, endpoint_id)
    if request.method == "POST":
        services.endpoint_delete(actor=request.user, endpoint=endpoint)
        messages.success(request, _("The endpoint is deleted."))
        return redirect("integrations:webhook_list", slug=slug)
    return render(
        request,
        "integrations/webhook_delete.html",
        {"workshop": endpoint.workshop, "endpoint": endpoint},
    )


def _stored_host(token: str) -> str | None:
    """Where a stored chat URL points (its host only: the rest is the secret)."""
    if not token:
        return None
    try:
        url = secrets.decrypt(token)
    except secrets.SecretUnreadable:
        return _("unreadable: enter it again")
    return url.split("/")[2] if url.count("/") >= 2 else "?"


@require_http_methods(["GET", "POST"])
def chat_settings(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_integrations_workshop_for_user(request.user, slug)
    chat = services.chat_settings_of(workshop)
    form = ChatSettingsForm(initial={"language": chat.language})
    status = 200
    if request.method == "POST":
        form = ChatSettingsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data

            def _url(field: str) -> str | None:
                if data[f"{field}_remove"]:
                    return ""
                return data[f"{field}_url"] or None  # empty: keep the stored one

            try:
                services.chat_settings_update(
                    actor=request.user,
                    workshop=workshop,
                    language=data["language"],
                    slack_url=_url("slack"),
                    teams_url=_url("teams"),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The chat settings are saved."))
                return redirect("integrations:chat_settings", slug=slug)
        status = 400
    context = {
        "workshop": workshop,
        "form": form,
        "slack_host": _stored_host(chat.slack_url_encrypted),
        "teams_host": _stored_host(chat.teams_url_encrypted),
    }
    return render(request, "integrations/chat_settings.html", context, status=status)
