"""Log-in without an oracle on whether a username exists.

Django's ModelBackend answers an unknown username by *hashing* the given password
with the default hasher, while a known username costs a *verification* against the
stored hash. The two are different operations (hashing draws a salt and encodes),
and an account whose stored hash uses an older hasher differs more. Here an unknown
username verifies the password against a decoy hash of the preferred hasher, made
once per process: the same operation, at the same cost, as for a known account.
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables


def decoy_hash() -> str:
    """A hash of a random password nobody knows; only the work of checking it counts."""
    return _decoy_hash(get_hasher().algorithm)


@cache
def _decoy_hash(algorithm: str) -> str:
    # One per preferred hasher, so it follows PASSWORD_HASHERS when they change (tests).
    return make_password(secrets.token_urlsafe(32), hasher=algorithm)


class EqualWorkModelBackend(ModelBackend):
    @sensitive_variables("password")
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        # LOCAL_PASSWORDS=0: this deployment signs in only through single sign-on, on
        # every form (the admin's too).
        if username is None or password is None or not settings.LOCAL_PASSWORDS:
            return None
        try:
            user = model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            check_password(password, decoy_hash())
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
