"""Reads of account settings: which language a person reads, and which language an
e-mail to them is written in."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import translation

from definitions.models import AccountSettings

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from definitions.core.http import AnyUser


def supported_language(code: str | None) -> str:
    """`code` as one of settings.LANGUAGES ("it-ch" → "it"), or "" when it is none of
    them: a saved or active code is only ever used through this."""
    if not code:
        return ""
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return ""


def saved_language(user: AnyUser | None) -> str:
    """The language `user` chose while signed in; "" when they never chose one."""
    if user is None or not user.is_authenticated:
        return ""
    stored = (
        AccountSettings.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    )
    return supported_language(stored)


def saved_languages(user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's chosen language, for those who chose one (one query for a batch of
    e-mails)."""
    rows = AccountSettings.objects.filter(user_id__in=set(user_ids)).exclude(language="")
    found = {
        user_id: supported_language(code)
        for user_id, code in rows.values_list("user_id", "language")
    }
    return {user_id: code for user_id, code in found.items() if code}


def email_language(recipients: Iterable[User] = (), *, sender: User | None = None) -> str:
    """The language of an e-mail: the first recipient account's saved language, else
    the sender's saved language, else (with a sender, writing from their request) the
    language they are using, else the site's. A worker's active language is never the
    answer: it is whatever the process started with, not anyone's choice."""
    for user in recipients:
        chosen = saved_language(user)
        if chosen:
            return chosen
    if sender is not None:
        chosen = saved_language(sender) or supported_language(translation.get_language())
        if chosen:
            return chosen
    return supported_language(settings.LANGUAGE_CODE) or settings.LANGUAGE_CODE
