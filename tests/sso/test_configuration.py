"""Single sign-on's environment variables: a configuration that cannot work stops the
process at start-up with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _check(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OIDC_", "LOCAL_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LOCAL_PASSWORDS": "0"}, "LOCAL_PASSWORDS=0 leaves no way to sign in"),
        ({"OIDC_RP_CLIENT_ID": "lw", "OIDC_RP_CLIENT_SECRET": "s"}, "set OIDC_ISSUER too"),
        (
            {"OIDC_RP_CLIENT_ID": "lw", "OIDC_ISSUER": "https://id.example.com"},
            "OIDC_RP_CLIENT_SECRET is empty",
        ),
    ],
)
def test_a_configuration_that_cannot_sign_anyone_in_stops_the_process(
    env: dict[str, str], named: str
) -> None:
    result = _check(**env)
    assert result.returncode != 0 and named in result.stderr


def test_a_complete_configuration_starts() -> None:
    result = _check(
        OIDC_ISSUER="https://id.example.com/",
        OIDC_RP_CLIENT_ID="lw",
        OIDC_RP_CLIENT_SECRET="s",
        LOCAL_PASSWORDS="0",
    )
    assert result.returncode == 0, result.stderr


def test_the_deploy_check_warns_of_open_domains_and_plain_http() -> None:
    result = _check(
        "--deploy",
        OIDC_ISSUER="http://id.example.com",
        OIDC_RP_CLIENT_ID="lw",
        OIDC_RP_CLIENT_SECRET="s",
    )
    assert "leadworkshop.W002" in result.stderr and "leadworkshop.W003" in result.stderr
    safe = _check(
        "--deploy",
        OIDC_ISSUER="https://id.example.com",
        OIDC_RP_CLIENT_ID="lw",
        OIDC_RP_CLIENT_SECRET="s",
        OIDC_ALLOWED_EMAIL_DOMAINS="example.com",
    )
    assert "leadworkshop.W00" not in safe.stderr.replace("leadworkshop.W001", "")
