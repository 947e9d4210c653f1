"""Encryption of the secrets the integrations must use in clear: a webhook's signing
secret (HMAC needs the secret itself, so a hash would not do) and the chat channels'
incoming-webhook URLs.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key derived from
INTEGRATIONS_SECRET_KEY, or from SECRET_KEY when that is not set. Changing the key
makes the stored secrets unreadable: deliveries then fail with a clear error and an
admin creates the endpoint anew (or re-enters the chat URLs).
"""

from __future__ import annotations

import base64
import hashlib
import secrets as random

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

SECRET_PREFIX = "whsec_"  # noqa: S105  (the visible start of every secret)


class SecretUnreadable(Exception):
    """The stored secret was encrypted under another key."""


def _fernet() -> Fernet:
    material = settings.INTEGRATIONS_SECRET_KEY or settings.SECRET_KEY
    # A label keeps this key apart from any other use of SECRET_KEY.
    digest = hashlib.sha256(b"leadworkshop.integrations.v1\0" + material.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode("ascii") if plain else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable from exc


def new_signing_secret() -> str:
    return SECRET_PREFIX + random.token_urlsafe(32)
