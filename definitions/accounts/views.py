"""The language switch: Django's set_language (its safe `next` redirect and its
cookie), and for a signed-in person the choice saved for every device and e-mail."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.views.i18n import LANGUAGE_QUERY_PARAMETER, set_language

from definitions.accounts import services
from definitions.accounts.selectors import supported_language


# Public: the switch is on the log-in page too. It acts on nothing but the asker's
# own settings, so no workshop, and no access rule beyond being signed in, applies.
@login_not_required
def language_set(request: HttpRequest) -> HttpResponse:
    response = set_language(request)
    user = request.user
    # Saved only when Django accepted the code for the cookie (a POST with a language
    # it has), and only a code the site offers.
    switched = settings.LANGUAGE_COOKIE_NAME in response.cookies
    chosen = supported_language(request.POST.get(LANGUAGE_QUERY_PARAMETER))
    if switched and chosen and isinstance(user, User) and user.is_authenticated:
        services.language_save(user=user, language=chosen)
    return response
