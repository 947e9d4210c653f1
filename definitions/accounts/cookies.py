"""The language cookie, written as Django's set_language writes it, so that a saved
choice restored at sign-in behaves exactly like a switch."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseBase

from definitions.accounts.selectors import saved_language
from definitions.core.http import AnyUser


def language_cookie_set(response: HttpResponseBase, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def restore_language(response: HttpResponseBase, user: AnyUser) -> HttpResponseBase:
    """At sign-in: the language `user` saved becomes this browser's, so they read
    their language on any device. Without a saved choice the browser's stays."""
    language = saved_language(user)
    if language:
        language_cookie_set(response, language)
    return response
