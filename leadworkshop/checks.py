"""System checks that guard production configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.checks import Warning as CheckWarning


@register(Tags.security, deploy=True)
def secret_key_is_set(app_configs: Any, **kwargs: Any) -> list[Error]:
    if getattr(settings, "SECRET_KEY_IS_EPHEMERAL", False):
        return [
            Error(
                "SECRET_KEY is not set: each process would sign with its own random key.",
                hint="Set the SECRET_KEY environment variable to a long random string.",
                id="leadworkshop.E001",
            )
        ]
    return []


@register(Tags.staticfiles, deploy=True)
def static_files_are_collected(app_configs: Any, **kwargs: Any) -> list[CheckWarning]:
    """Without collectstatic pages still work (unhashed names served from the source
    folders, see leadworkshop.storage), but browsers cannot cache them for long."""
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if settings.DEBUG or manifest.exists():
        return []
    return [
        CheckWarning(
            f"Static files are not collected: {manifest} does not exist.",
            hint="Run `python manage.py collectstatic --noinput` after each deploy.",
            id="leadworkshop.W001",
        )
    ]


@register(Tags.security, deploy=True)
def single_sign_on_is_safe(app_configs: Any, **kwargs: Any) -> list[CheckWarning]:
    """Single sign-on that any address of the provider may use, or that talks to the
    provider in plain HTTP, works, but is rarely what a company means."""
    if not settings.OIDC_RP_CLIENT_ID:
        return []
    warnings = []
    if not settings.OIDC_ALLOWED_EMAIL_DOMAINS:
        warnings.append(
            CheckWarning(
                "OIDC_ALLOWED_EMAIL_DOMAINS is empty: every address the provider has "
                "verified can create an account here.",
                hint="Set OIDC_ALLOWED_EMAIL_DOMAINS to the company's domains.",
                id="leadworkshop.W002",
            )
        )
    endpoints = [settings.OIDC_ISSUER, settings.OIDC_OP_TOKEN_ENDPOINT]
    if any(url.startswith("http://") for url in endpoints):
        warnings.append(
            CheckWarning(
                "The OpenID Connect provider is reached over plain HTTP.",
                hint="Use the provider's https:// issuer (OIDC_ISSUER) and endpoints.",
                id="leadworkshop.W003",
            )
        )
    return warnings
