"""Who a person signing in through the provider is here.

Only a **verified** e-mail address counts (the `email_verified` claim): an account is
linked by its e-mail address, or created on the first sign-in, and only for the
allowed domains. Each refusal says why on the log-in page. When a staff claim is
configured it decides `is_staff` at every sign-in (granted and taken away).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from definitions.core.audit import log_action
from leadworkshop.sso import provider

logger = logging.getLogger(__name__)

# Django's username characters; anything else in an address's local part is dropped.
USERNAME_JUNK = re.compile(r"[^\w.@+-]")


def _true(value: Any) -> bool:
    # Some providers send booleans as strings ("true").
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def email_domain_allowed(email: str) -> bool:
    allowed: list[str] = settings.OIDC_ALLOWED_EMAIL_DOMAINS
    return not allowed or email.rpartition("@")[2].lower() in allowed


def staff_from_claims(claims: dict[str, Any]) -> bool | None:
    """True or False when a staff claim is configured, None when staff is not mapped."""
    claim: str = settings.OIDC_STAFF_CLAIM
    if not claim:
        return None
    value = claims.get(claim)
    wanted: list[str] = settings.OIDC_STAFF_VALUES
    if not wanted:
        return _true(value)
    values = value if isinstance(value, list) else [] if value is None else [value]
    return any(str(v) in wanted for v in values)


def refusal(claims: dict[str, Any]) -> str | None:
    """Why these claims may not sign in (in the active language), or None."""
    email = str(claims.get("email") or "").strip()
    who = {"provider": provider.name(), "email": email}
    if not email or "@" not in email:
        return (
            _("%(provider)s did not tell us your e-mail address, so you cannot sign in here.") % who
        )
    if not _true(claims.get("email_verified")):
        return (
            _(
                "%(provider)s has not verified your e-mail address %(email)s. Verify it there, "
                "then sign in again."
            )
            % who
        )
    if not email_domain_allowed(email):
        return _("%(email)s may not sign in here: only addresses at %(domains)s can.") % {
            "email": email,
            "domains": ", ".join(settings.OIDC_ALLOWED_EMAIL_DOMAINS),
        }
    return None


class OIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django asks every backend in turn, also for a password log-in; the provider's
        # endpoints are looked up only when someone returns from it (see authenticate).
        self.UserModel = get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        # Only the callback view passes a nonce (None when nonces are off).
        if request is None or "nonce" not in kwargs or not provider.enabled():
            return None
        self.OIDC_OP_TOKEN_ENDPOINT = provider.endpoint("token_endpoint")
        self.OIDC_OP_USER_ENDPOINT = provider.endpoint("userinfo_endpoint")
        self.OIDC_OP_JWKS_ENDPOINT = provider.endpoint("jwks_uri")
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        user: User | None = super().authenticate(request, **kwargs)
        return user

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        # The library checks signature, expiry and nonce; the token must also come from
        # our issuer and be meant for us (OpenID Connect Core §3.1.3.7).
        issuer = settings.OIDC_ISSUER
        if issuer and str(payload.get("iss", "")).rstrip("/") != issuer:
            raise SuspiciousOperation("The ID token comes from another issuer.")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token is meant for another client.")
        return payload

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        info: dict[str, Any] = super().get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core §5.3.2: userinfo about anyone else must not be used.
        if info.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about another subject.")
        # Some providers put groups only in the ID token, some only in userinfo.
        return {**payload, **info}

    def _refuse(self, reason: str, claims: dict[str, Any]) -> None:
        logger.warning("single sign-on refused for %r: %s", claims.get("email"), reason)
        messages.error(self.request, reason)
        self.request.sso_refused = True

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> User | None:
        claims = self.get_userinfo(access_token, id_token, payload)
        reason = refusal(claims)
        if reason is not None:
            self._refuse(reason, claims)
            return None
        email = str(claims["email"]).strip()
        who = {"email": email}
        with transaction.atomic():
            users = list(self.UserModel.objects.select_for_update().filter(email__iexact=email)[:2])
            if len(users) > 1:
                self._refuse(
                    _(
                        "More than one account here uses %(email)s, so we cannot tell "
                        "which one is yours. Ask an administrator."
                    )
                    % who,
                    claims,
                )
                return None
            if users:
                user = users[0]
                if not user.is_active:
                    self._refuse(
                        _("The account for %(email)s is switched off here. Ask an administrator.")
                        % who,
                        claims,
                    )
                    return None
                self._apply_claims(user, claims)
                return user
            user = self.UserModel.objects.create_user(
                self._free_username(email),
                email=email,
                first_name=str(claims.get("given_name") or "")[:150],
                last_name=str(claims.get("family_name") or "")[:150],
            )
            log_action("accounts.sso.created", actor=user, email=email, issuer=settings.OIDC_ISSUER)
            self._apply_claims(user, claims)
            return user

    def _apply_claims(self, user: User, claims: dict[str, Any]) -> None:
        staff = staff_from_claims(claims)
        # A superuser's staff flag is Django's own business, not the provider's.
        if staff is None or user.is_superuser or user.is_staff == staff:
            return
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
        log_action(
            "accounts.sso.staff_granted" if staff else "accounts.sso.staff_revoked",
            actor=user,
            claim=settings.OIDC_STAFF_CLAIM,
        )

    def _free_username(self, email: str) -> str:
        """The address's local part, numbered when another account has it."""
        base = USERNAME_JUNK.sub("", email.partition("@")[0])[:140] or "user"
        candidate, n = base, 1
        while self.UserModel.objects.filter(username__iexact=candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        return candidate
