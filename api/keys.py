"""API key tokens: how they look, how they are made and how they are checked.

A key reads `lw_<prefix>_<secret>`. The prefix (12 hex digits) is stored in clear and
indexed, so a request finds its key with one indexed lookup; the secret never is: the
database holds the SHA-256 of the whole token. A fast hash is right here because the
token is 256 random bits, not a password a person chose: there is nothing to guess.
Pure Python, no Django import.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCHEME = "lw"
PREFIX_BYTES = 6  # 12 hex digits
SECRET_BYTES = 32  # 256 bits


def new_prefix() -> str:
    return secrets.token_hex(PREFIX_BYTES)


def new_token(prefix: str) -> str:
    return f"{SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def prefix_of(token: str) -> str | None:
    """The lookup prefix of a well-formed token, else None (no database query)."""
    if len(token) > 200:
        return None
    scheme, _sep, rest = token.partition("_")
    prefix, sep, secret = rest.partition("_")
    if scheme != SCHEME or not sep or not secret:
        return None
    if len(prefix) != PREFIX_BYTES * 2 or any(c not in "0123456789abcdef" for c in prefix):
        return None
    return prefix


def matches(token: str, stored_digest: str) -> bool:
    # Constant time, so the response time says nothing about how much of it matched.
    return hmac.compare_digest(digest(token), stored_digest)
