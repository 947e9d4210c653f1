"""Log-in without an oracle: unknown usernames cost the same password work as known
ones, lock-outs count per username (across addresses) and per address with one
message, and the address comes only from the configured proxies."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from axes.utils import reset
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.test import Client, RequestFactory
from django.urls import reverse

from leadworkshop.client_ip import client_ip
from tests.factories import UserFactory

ARGON2 = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


def _alert(response: Any) -> str:
    found = re.search(r'<p role="alert">(.*?)</p>', response.content.decode(), re.S)
    assert found, "the lock-out page has no alert"
    return found.group(1)


def _argon2_work(monkeypatch: Any) -> Counter[str]:
    """Count what the Argon2 hasher is asked to do."""
    work: Counter[str] = Counter()
    for name in ("encode", "verify"):
        original = getattr(Argon2PasswordHasher, name)

        def counted(self: Any, *args: Any, _original: Any = original, _name: str = name) -> Any:
            work[_name] += 1
            return _original(self, *args)

        monkeypatch.setattr(Argon2PasswordHasher, name, counted)
    return work


@pytest.mark.django_db
def test_an_unknown_username_costs_the_same_password_work_as_a_known_one(
    settings: Any, monkeypatch: Any
) -> None:
    settings.PASSWORD_HASHERS = ARGON2
    UserFactory(username="alice", password="a-long-unusual-passphrase")
    from leadworkshop.auth_backends import decoy_hash

    decoy_hash()  # made once per process, before any timing could see it
    work = _argon2_work(monkeypatch)
    Client().post(reverse("login"), {"username": "alice", "password": "wrong-guess"})
    known = Counter(work)
    work.clear()
    Client().post(reverse("login"), {"username": "nobody-here", "password": "wrong-guess"})
    assert known == Counter({"verify": 1})
    assert work == known


@pytest.mark.django_db
def test_one_username_sprayed_from_many_addresses_is_locked(settings: Any) -> None:
    settings.AXES_ENABLED = True
    UserFactory(username="target", password="a-long-unusual-passphrase")
    url = reverse("login")
    for n in range(5):
        response = Client(REMOTE_ADDR=f"198.51.100.{n + 1}").post(
            url, {"username": "target", "password": "wrong"}
        )
    assert response.status_code == 429
    # The right password from a fresh address is refused while the username is locked.
    fresh = Client(REMOTE_ADDR="203.0.113.77")
    locked = fresh.post(url, {"username": "target", "password": "a-long-unusual-passphrase"})
    assert locked.status_code == 429 and "_auth_user_id" not in fresh.session
    reset(username="target")


@pytest.mark.django_db
def test_one_address_trying_many_usernames_is_locked_with_the_same_message(
    settings: Any,
) -> None:
    settings.AXES_ENABLED = True
    UserFactory(username="known", password="a-long-unusual-passphrase")
    url = reverse("login")
    sprayer = Client(REMOTE_ADDR="198.51.100.9")
    for n in range(5):
        response = sprayer.post(url, {"username": f"guess{n}", "password": "wrong"})
    assert response.status_code == 429
    by_address = sprayer.post(url, {"username": "known", "password": "wrong"})
    for n in range(5):
        by_name = Client(REMOTE_ADDR=f"192.0.2.{n + 1}").post(
            url, {"username": "known", "password": "wrong"}
        )
    assert by_address.status_code == by_name.status_code == 429
    # The two lock-outs read alike: nothing says which one, or that "known" exists.
    assert _alert(by_address) == _alert(by_name)
    assert "Wait 15 minutes" in _alert(by_name)
    reset()


def test_without_trusted_proxies_a_forwarded_header_is_ignored(settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "203.0.113.5"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # One proxy appends the address it saw: entries to its left are the client's.
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.3", "198.51.100.1"),
        # Fewer entries than proxies: the header did not come through them all.
        (2, "198.51.100.1", "10.0.0.2"),
        # Garbage where the address should be.
        (1, "6.6.6.6, not-an-address", "10.0.0.2"),
        (1, "", "10.0.0.2"),
    ],
)
def test_behind_trusted_proxies_the_client_is_read_from_the_right(
    settings: Any, proxies: int, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_a_forged_forwarded_header_does_not_escape_the_address_lock(settings: Any) -> None:
    settings.AXES_ENABLED = True
    settings.TRUSTED_PROXY_COUNT = 1
    url = reverse("login")
    for n in range(5):
        # The proxy (10.0.0.2) appends the real client, 198.51.100.20, after the forgery.
        response = Client(
            REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 198.51.100.20"
        ).post(url, {"username": f"user{n}", "password": "wrong"})
    assert response.status_code == 429
    reset()
