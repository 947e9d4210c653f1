"""Invitation link tokens: how they are made and how they are stored.

The token is 256 random bits (URL-safe); the database holds only its SHA-256, so a
copy of the database opens no invitation. A fast hash is right here for the same
reason as for API keys (api/keys.py): there is nothing a person chose to guess.
Pure Python, no Django import.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100  # token_urlsafe(32) is 43 characters; longer is not ours


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
