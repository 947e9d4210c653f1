"""Starts the test provider (`server.py`) as its own process and stops it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
CLIENT_ID = "lead-workshop"
CLIENT_SECRET = "a-client-secret-for-tests"
PASSWORD = "provider-passphrase"

# The people the provider knows. The app allows acme.example; "lw-staff" makes staff.
PEOPLE: dict[str, dict[str, Any]] = {
    "ada": {
        "sub": "u-ada",
        "email": "ada@acme.example",
        "email_verified": True,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "groups": ["sales"],
    },
    "grace": {
        "sub": "u-grace",
        "email": "grace@acme.example",
        "email_verified": True,
        "given_name": "Grace",
        "family_name": "Hopper",
        "groups": ["sales", "lw-staff"],
    },
    "linus": {
        "sub": "u-linus",
        "email": "Linus@Acme.Example",
        "email_verified": True,
        "given_name": "Linus",
        "groups": [],
    },
    "una": {"sub": "u-una", "email": "una@acme.example", "email_verified": False},
    "mallory": {
        "sub": "u-mallory",
        "email": "mallory@elsewhere.example",
        "email_verified": True,
        "given_name": "Mallory",
    },
}


@dataclass(frozen=True)
class Provider:
    issuer: str
    process: subprocess.Popen[str]


@contextmanager
def running_provider(
    config_dir: Path, *, redirect_uris: list[str], post_logout_redirect_uris: list[str]
) -> Iterator[Provider]:
    config = config_dir / "provider.json"
    config.write_text(
        json.dumps(
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout_redirect_uris,
                "users": {k: {**v, "password": PASSWORD} for k, v in PEOPLE.items()},
            }
        )
    )
    log = config_dir / "provider.log"
    # Its request log goes to a file: a pipe nobody reads would fill up and stall it.
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.sso.provider.server", "--config", str(config)],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("READY "):
            process.kill()
            raise RuntimeError(f"the test provider did not start: {line}{log.read_text()}")
        yield Provider(issuer=line.split()[1], process=process)
    finally:
        process.terminate()
        process.wait(timeout=10)


def configure_app(settings: Any, provider: Provider) -> None:
    """Point the app (through pytest-django's settings fixture) at the provider."""
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = "Acme ID"
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.OIDC_ALLOWED_EMAIL_DOMAINS = ["acme.example"]
    settings.OIDC_STAFF_CLAIM = "groups"
    settings.OIDC_STAFF_VALUES = ["lw-staff"]
