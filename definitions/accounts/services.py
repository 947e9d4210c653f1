"""Writes of account settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from definitions.accounts.selectors import supported_language
from definitions.models import AccountSettings

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def language_save(*, user: User, language: str) -> str:
    """Remember `language` as the one `user` reads the app and their e-mails in;
    returns the code saved. Blank forgets the choice."""
    code = supported_language(language) if language else ""
    if language and not code:
        raise ValidationError({"language": _("Choose one of the languages offered.")})
    AccountSettings.objects.update_or_create(user=user, defaults={"language": code})
    return code
