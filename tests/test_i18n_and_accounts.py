from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != "en"]


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_in_each_shipped_language(code: str) -> None:
    po = LOCALE_DIR / code / "LC_MESSAGES" / "django.po"
    assert po.exists(), f"missing {po}"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


@pytest.mark.django_db
def test_the_language_switcher_works_without_javascript(client: Client) -> None:
    response = client.post(reverse("set_language"), {"language": "it", "next": "/"})
    assert response.status_code == 302
    page = client.get("/")
    assert page.headers["Content-Language"] == "it"
    assert '<html lang="it">' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["it", "pt", "fr", "ja"])
def test_the_login_page_reads_in_each_language(client: Client, code: str) -> None:
    client.post(reverse("set_language"), {"language": code, "next": "/"})
    body = client.get(reverse("login")).content.decode()
    assert f'<html lang="{code}">' in body
    assert "one written, tested definition of a lead" not in body  # our own footer


@pytest.mark.django_db
def test_a_user_logs_in_changes_the_password_and_logs_out(admin: Any) -> None:
    client = Client()
    response = client.post(reverse("login"), {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 302
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("definitions:workshop_create")).status_code == 302
    assert Client().login(username="admin", password="another-long-passphrase")


@pytest.mark.django_db
def test_a_wrong_password_says_so_without_revealing_which_part_was_wrong(
    admin: Any, client: Client
) -> None:
    response = client.post(reverse("login"), {"username": "admin", "password": "nope"})
    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()


def _msgids(po_text: str) -> set[str]:
    import re

    ids: set[str] = set()
    for block in po_text.split("\n\n"):
        match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if match:
            text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1)))
            if text and not re.search(r"^#~", block, re.M):
                ids.add(text)
    return ids


@pytest.mark.django_db
def test_every_string_in_the_code_is_in_the_catalogs(tmp_path: Path, settings: Any) -> None:
    """Extract the strings afresh and compare: a new _() without a translation fails."""
    import os
    import shutil

    from django.core.management import call_command

    # makemessages writes next to the sources it walks, so walk a copy of them.
    for folder in ("definitions", "feedback", "api", "leadworkshop", "templates"):
        shutil.copytree(
            Path(settings.BASE_DIR) / folder,
            tmp_path / folder,
            ignore=shutil.ignore_patterns("__pycache__", "migrations"),
        )
    (tmp_path / "locale" / "it" / "LC_MESSAGES").mkdir(parents=True)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        call_command("makemessages", locale=["it"], verbosity=0)
    finally:
        os.chdir(cwd)
    fresh = _msgids((tmp_path / "locale" / "it" / "LC_MESSAGES" / "django.po").read_text())
    assert len(fresh) > 100  # the extraction really ran
    for code in TRANSLATED:
        shipped = _msgids((LOCALE_DIR / code / "LC_MESSAGES" / "django.po").read_text())
        missing = sorted(fresh - shipped)
        assert not missing, f"{code}: {len(missing)} strings not in the catalog, e.g. {missing[:5]}"


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_from_that_address_with_a_clear_page(
    settings: Any,
) -> None:
    settings.AXES_ENABLED = True
    from axes.utils import reset

    UserFactory(username="mallory-target", password="a-long-unusual-passphrase")
    client = Client()
    url = reverse("login")
    for _attempt in range(5):
        response = client.post(url, {"username": "mallory-target", "password": "wrong"})
    assert response.status_code == 429
    assert "Too many failed log-ins" in response.content.decode()
    # Even the right password is refused while locked, and nothing logs in.
    locked = client.post(
        url, {"username": "mallory-target", "password": "a-long-unusual-passphrase"}
    )
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    reset(username="mallory-target")
    ok = client.post(url, {"username": "mallory-target", "password": "a-long-unusual-passphrase"})
    assert ok.status_code == 302 and "_auth_user_id" in client.session


def test_new_passwords_are_hashed_with_argon2() -> None:
    # The test fixture swaps in MD5 for speed; the production settings module says:
    from leadworkshop import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.contrib.auth.hashers import Argon2PasswordHasher

    encoded = Argon2PasswordHasher().encode("correct horse", Argon2PasswordHasher().salt())
    assert encoded.startswith("argon2$") and Argon2PasswordHasher().verify("correct horse", encoded)
