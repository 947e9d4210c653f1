"""The configured OpenID Connect provider: whether there is one, its name, its endpoints."""

from __future__ import annotations

import threading
from typing import Any

import requests
from django.conf import settings

# Endpoint names of the discovery document, and the settings that override each.
ENDPOINT_SETTINGS = {
    "authorization_endpoint": "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "token_endpoint": "OIDC_OP_TOKEN_ENDPOINT",
    "userinfo_endpoint": "OIDC_OP_USER_ENDPOINT",
    "jwks_uri": "OIDC_OP_JWKS_ENDPOINT",
    "end_session_endpoint": "OIDC_OP_LOGOUT_ENDPOINT",
}
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be read or does not fit."""


_discovered: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def enabled() -> bool:
    return bool(settings.OIDC_RP_CLIENT_ID) and bool(
        settings.OIDC_ISSUER or settings.OIDC_OP_AUTHORIZATION_ENDPOINT
    )


def name() -> str:
    return str(settings.OIDC_PROVIDER_NAME or "OpenID Connect")


def _discover(issuer: str) -> dict[str, Any]:
    """The discovery document, read once per process (a failure is not remembered, so
    the next sign-in tries again)."""
    with _lock:
        if issuer in _discovered:
            return _discovered[issuer]
    try:
        response = requests.get(
            f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT
        )
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"discovery at {issuer} failed: {error}") from error
    # OpenID Connect Discovery §4.3: the issuer in the document must be the one asked.
    if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer:
        raise ProviderUnavailable(f"the discovery document of {issuer} names another issuer")
    with _lock:
        _discovered[issuer] = document
    return document


def endpoint(key: str) -> str:
    """An endpoint's URL: from its setting when set, else from discovery ("" when the
    provider has none, which only the end-session endpoint may lack)."""
    explicit = str(getattr(settings, ENDPOINT_SETTINGS[key]) or "")
    if explicit or not settings.OIDC_ISSUER:
        return explicit
    value = _discover(settings.OIDC_ISSUER).get(key) or ""
    if not value and key in REQUIRED_ENDPOINTS:
        raise ProviderUnavailable(f"the provider's discovery document has no {key}")
    return str(value)
