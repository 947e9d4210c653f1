"""System checks that guard production configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


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
