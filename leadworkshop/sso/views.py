"""The log-in page (with "Sign in with …" and the switch for local passwords), the way
to the provider and back, and log-out (ending the provider's session too when it can)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.generic import View
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from definitions.accounts.cookies import restore_language
from leadworkshop.sso import provider

logger = logging.getLogger(__name__)


def _unreachable(request: HttpRequest) -> HttpResponse:
    messages.error(
        request,
        _("%(provider)s cannot be reached right now. Try again in a few minutes.")
        % {"provider": provider.name()},
    )
    return redirect("login")


class LoginView(auth_views.LoginView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["local_passwords"] = settings.LOCAL_PASSWORDS
        if provider.enabled():
            url = reverse("sso_start")
            if context.get("next"):
                url += "?" + urlencode({"next": context["next"]})
            context["sso"] = {"name": provider.name(), "url": url}
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.LOCAL_PASSWORDS:
            # No form to post to: this deployment signs in only through the provider.
            context = self.get_context_data(passwords_refused=True)
            return self.render_to_response(context, status=403)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        restore_language(response, form.get_user())
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        if not id_token or not provider.enabled():
            return response
        try:
            end_session = provider.endpoint("end_session_endpoint")
        except provider.ProviderUnavailable:
            logger.warning("signed out here, but the provider could not be reached")
            return response
        if not end_session:
            return response
        query = urlencode(
            {
                "id_token_hint": id_token,
                "client_id": settings.OIDC_RP_CLIENT_ID,
                "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
            }
        )
        # A page that moves on by itself rather than a redirect: the form that posted
        # here may only be sent to this site (CSP form-action), redirects included.
        return render(
            request,
            "registration/sso_signing_out.html",
            {
                "end_session_url": f"{end_session}{'&' if '?' in end_session else '?'}{query}",
                "provider": provider.name(),
            },
        )


class PasswordChangeView(auth_views.PasswordChangeView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Accounts made by single sign-on have no password to change.
        user = request.user
        if not settings.LOCAL_PASSWORDS or (
            isinstance(user, AbstractBaseUser) and not user.has_usable_password()
        ):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


@method_decorator(login_not_required, name="dispatch")
class SSOStartView(OIDCAuthenticationRequestView):  # type: ignore[misc]
    def __init__(self, **kwargs: Any) -> None:
        # The library reads the endpoint here; it is read in get(), where a provider
        # that cannot be reached can be told on the log-in page.
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not provider.enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider.endpoint("authorization_endpoint")
        except provider.ProviderUnavailable:
            logger.exception("single sign-on could not start")
            return _unreachable(request)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        response: HttpResponse = super().get(request)
        return response


@method_decorator(login_not_required, name="dispatch")
class SSOCallbackView(OIDCAuthenticationCallbackView):  # type: ignore[misc]
    @property
    def failure_url(self) -> str:
        return reverse("login")

    def get(self, request: HttpRequest) -> HttpResponse:
        if not provider.enabled():
            raise Http404
        try:
            response: HttpResponse = super().get(request)
        except (provider.ProviderUnavailable, requests.RequestException):
            logger.exception("single sign-on could not complete")
            request.sso_refused = True  # type: ignore[attr-defined]
            return _unreachable(request)
        return response

    def login_success(self) -> HttpResponseRedirect:
        response: HttpResponseRedirect = super().login_success()
        restore_language(response, self.user)
        return response

    def login_failure(self) -> HttpResponseRedirect:
        # The backend has said why when it refused someone; anything else (cancelled
        # at the provider, a stale or replayed answer) gets this.
        if not getattr(self.request, "sso_refused", False):
            messages.error(
                self.request,
                _("Signing in with %(provider)s did not complete. Try again.")
                % {"provider": provider.name()},
            )
        return HttpResponseRedirect(self.failure_url)
