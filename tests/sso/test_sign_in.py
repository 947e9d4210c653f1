"""Single sign-on against a real OpenID Connect provider on loopback (its own process,
tests/sso/provider/): the test client plays the app's side, `requests` plays the
person's browser at the provider. The browser walk is tests/browser/test_sso.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from axes.models import AccessAttempt
from axes.utils import reset
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from definitions.models import AuditLogEntry
from tests.factories import PASSWORD, UserFactory
from tests.sso.provider.process import PASSWORD as PROVIDER_PASSWORD
from tests.sso.provider.process import Provider, configure_app, running_provider

CALLBACK = "http://testserver/accounts/sso/callback/"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with running_provider(
        tmp_path_factory.mktemp("provider"),
        redirect_uris=[CALLBACK],
        post_logout_redirect_uris=["http://testserver/accounts/login/"],
    ) as running:
        yield running


@pytest.fixture
def sso(settings: Any, provider: Provider) -> Provider:
    configure_app(settings, provider)
    return provider


class Person:
    """Someone with a session here (the test client) and at the provider (requests)."""

    def __init__(self, provider: Provider, address: str = "127.0.0.1") -> None:
        self.app = Client(REMOTE_ADDR=address)
        self.browser = requests.Session()
        self.provider = provider

    def sign_in(self, username: str, *, consent: str = "allow", start_query: str = "") -> Any:
        start = self.app.get(reverse("sso_start") + start_query)
        assert start.status_code == 302
        authorize = start["Location"]
        assert authorize.startswith(f"{self.provider.issuer}/authorize?")
        if "Provider password" in self.browser.get(authorize).text:
            at_provider = self.browser.post(
                authorize,
                data={"step": "login", "username": username, "password": PROVIDER_PASSWORD},
            )
            assert "Allow" in at_provider.text, at_provider.text
        answer = self.browser.post(authorize, data={"consent": consent}, allow_redirects=False)
        assert answer.status_code == 302, answer.text
        assert answer.headers["Location"].startswith(CALLBACK)
        return self.app.get(answer.headers["Location"])

    def user(self) -> User | None:
        user_id = self.app.session.get("_auth_user_id")
        return None if user_id is None else get_user_model().objects.get(pk=user_id)

    def login_page_alert(self, response: Any) -> str:
        assert response.status_code == 302 and response["Location"] == reverse("login")
        page = self.app.get(reverse("login")).content.decode()
        found = re.search(r'<li class="message error">(.*?)</li>', page, re.S)
        assert found, "the log-in page shows no message"
        return found.group(1)


@pytest.mark.django_db
def test_a_new_person_with_a_verified_address_gets_an_account_and_lands_in_the_app(
    sso: Provider,
) -> None:
    ada = Person(sso)
    response = ada.sign_in("ada")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = ada.user()
    assert user is not None
    assert (user.username, user.email, user.get_full_name()) == (
        "ada",
        "ada@acme.example",
        "Ada Lovelace",
    )
    assert not user.has_usable_password() and not user.is_staff
    assert AuditLogEntry.objects.filter(action="accounts.sso.created", actor=user).exists()
    home = ada.app.get(reverse("home"))
    assert home.status_code == 200 and b"Ada Lovelace" in home.content
    # No password to change for an account made by single sign-on.
    assert b"Change password" not in home.content


@pytest.mark.django_db
def test_the_page_asked_for_before_signing_in_is_where_one_lands(sso: Provider) -> None:
    ada = Person(sso)
    assert ada.sign_in("ada", start_query="?next=/inbox/")["Location"] == "/inbox/"
    # Never somewhere else.
    elsewhere = Person(sso).sign_in("grace", start_query="?next=https://evil.example/")
    assert elsewhere["Location"] == reverse("home")


@pytest.mark.django_db
def test_an_existing_account_is_linked_by_its_verified_address(sso: Provider) -> None:
    existing = UserFactory(username="linus", email="linus@acme.example")
    before = get_user_model().objects.count()
    linus = Person(sso)
    assert linus.sign_in("linus").status_code == 302
    assert linus.user() == existing
    assert get_user_model().objects.count() == before
    # The local password still works (local passwords are on here).
    assert Client().login(username="linus", password=PASSWORD)


@pytest.mark.django_db
def test_an_unverified_address_is_refused_with_the_reason(sso: Provider) -> None:
    una = Person(sso)
    UserFactory(username="una", email="una@acme.example")
    alert = una.login_page_alert(una.sign_in("una"))
    assert "Acme ID has not verified your e-mail address una@acme.example" in alert
    # Not even an existing account with that address is linked on an unverified claim.
    assert una.user() is None


@pytest.mark.django_db
def test_an_address_outside_the_allowed_domains_is_refused_with_the_reason(
    sso: Provider,
) -> None:
    mallory = Person(sso)
    alert = mallory.login_page_alert(mallory.sign_in("mallory"))
    assert alert == (
        "mallory@elsewhere.example may not sign in here: only addresses at acme.example can."
    )
    assert mallory.user() is None
    assert not get_user_model().objects.filter(email="mallory@elsewhere.example").exists()


@pytest.mark.django_db
def test_the_staff_claim_grants_staff_and_its_absence_takes_it_away(sso: Provider) -> None:
    grace = Person(sso)
    grace.sign_in("grace")
    assert grace.user() is not None and grace.user().is_staff  # type: ignore[union-attr]

    former = UserFactory(username="ada-old", email="ada@acme.example", is_staff=True)
    ada = Person(sso)
    ada.sign_in("ada")
    former.refresh_from_db()
    assert ada.user() == former and not former.is_staff
    assert AuditLogEntry.objects.filter(action="accounts.sso.staff_revoked", actor=former).exists()


@pytest.mark.django_db
def test_a_superuser_keeps_staff_whatever_the_claim(sso: Provider) -> None:
    root = get_user_model().objects.create_superuser("root", "ada@acme.example", PASSWORD)
    ada = Person(sso)
    ada.sign_in("ada")
    root.refresh_from_db()
    assert ada.user() == root and root.is_staff


@pytest.mark.django_db
def test_a_disabled_account_is_refused(sso: Provider) -> None:
    UserFactory(username="ada", email="ada@acme.example", is_active=False)
    ada = Person(sso)
    alert = ada.login_page_alert(ada.sign_in("ada"))
    assert "The account for ada@acme.example is switched off here" in alert
    assert ada.user() is None


@pytest.mark.django_db
def test_a_username_taken_by_someone_else_gets_a_number(sso: Provider) -> None:
    UserFactory(username="ada", email="another-ada@example.com")
    ada = Person(sso)
    ada.sign_in("ada")
    user = ada.user()
    assert user is not None and user.username == "ada-2" and user.email == "ada@acme.example"


@pytest.mark.django_db
def test_refusing_consent_at_the_provider_is_told_on_the_login_page(sso: Provider) -> None:
    ada = Person(sso)
    alert = ada.login_page_alert(ada.sign_in("ada", consent="deny"))
    assert alert == "Signing in with Acme ID did not complete. Try again."
    assert ada.user() is None


@pytest.mark.django_db
def test_a_replayed_answer_from_the_provider_signs_nobody_in(sso: Provider) -> None:
    ada = Person(sso)
    start = ada.app.get(reverse("sso_start"))["Location"]
    ada.browser.post(
        start, data={"step": "login", "username": "ada", "password": PROVIDER_PASSWORD}
    )
    answer = ada.browser.post(start, data={"consent": "allow"}, allow_redirects=False)
    callback = answer.headers["Location"]
    assert ada.app.get(callback).status_code == 302 and ada.user() is not None
    # The same code and state again, from another visitor: no session of theirs knows it.
    thief = Client()
    assert thief.get(callback).status_code in {302, 400}
    assert "_auth_user_id" not in thief.session


@pytest.mark.django_db
def test_signing_out_ends_the_session_here_and_at_the_provider(sso: Provider) -> None:
    ada = Person(sso)
    ada.sign_in("ada")
    out = ada.app.post(reverse("logout"))
    assert out.status_code == 200
    assert "_auth_user_id" not in ada.app.session
    end_session = re.search(r'url=([^"]+)"', out.content.decode())
    assert end_session is not None
    url = end_session.group(1).replace("&amp;", "&")
    assert url.startswith(f"{sso.issuer}/logout?") and "id_token_hint=" in url
    at_provider = ada.browser.get(url, allow_redirects=False)
    assert at_provider.status_code == 302
    assert at_provider.headers["Location"] == "http://testserver/accounts/login/"
    # The provider asks for the password again: its session ended too.
    again = ada.app.get(reverse("sso_start"))["Location"]
    assert "Provider password" in ada.browser.get(again).text
    assert ada.app.get(reverse("inbox")).status_code == 302


@pytest.mark.django_db
def test_the_login_page_offers_the_provider_next_to_the_password_form(sso: Provider) -> None:
    page = Client().get(reverse("login") + "?next=/inbox/").content.decode()
    assert "Sign in with Acme ID" in page
    assert 'href="/accounts/sso/start/?next=%2Finbox%2F"' in page
    assert 'name="password"' in page


@pytest.mark.django_db
def test_with_local_passwords_off_only_the_provider_signs_in(sso: Provider, settings: Any) -> None:
    settings.LOCAL_PASSWORDS = False
    UserFactory(username="sam", email="sam@acme.example", is_staff=True, is_superuser=True)
    client = Client()
    page = client.get(reverse("login")).content.decode()
    assert "Sign in with Acme ID" in page and 'name="password"' not in page
    refused = client.post(reverse("login"), {"username": "sam", "password": PASSWORD})
    assert refused.status_code == 403
    assert "Passwords are switched off here" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Not through the admin's own log-in form either.
    client.post("/admin/login/", {"username": "sam", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert not client.login(username="sam", password=PASSWORD)
    # Someone signed in through the provider has no password to change.
    ada = Person(sso)
    ada.sign_in("ada")
    assert ada.app.get(reverse("password_change")).status_code == 404


@pytest.mark.django_db
def test_login_throttling_counts_for_single_sign_on_too(sso: Provider, settings: Any) -> None:
    settings.AXES_ENABLED = True
    # With django-axes on, a sign-in through the provider works as before.
    ada = Person(sso, "198.51.100.40")
    assert ada.sign_in("ada").status_code == 302 and ada.user() is not None
    # An address locked out by failed password log-ins cannot sign in through it either.
    for n in range(5):
        Client(REMOTE_ADDR="198.51.100.41").post(
            reverse("login"), {"username": f"guess{n}", "password": "wrong"}
        )
    locked = Person(sso, "198.51.100.41")
    assert locked.sign_in("ada").status_code == 429
    assert locked.user() is None
    # A refused sign-in through the provider counts as a failed log-in.
    Person(sso, "198.51.100.42").sign_in("mallory")
    assert AccessAttempt.objects.get(ip_address="198.51.100.42").failures_since_start == 1
    reset()


@pytest.mark.django_db
def test_an_unreachable_provider_is_told_on_the_login_page(settings: Any) -> None:
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # the discard port: nothing listens
    settings.OIDC_RP_CLIENT_ID = "lead-workshop"
    settings.OIDC_RP_CLIENT_SECRET = "x"
    settings.OIDC_PROVIDER_NAME = "Acme ID"
    client = Client()
    start = client.get(reverse("sso_start"))
    assert start.status_code == 302 and start["Location"] == reverse("login")
    page = client.get(reverse("login")).content.decode()
    assert "Acme ID cannot be reached right now" in page


@pytest.mark.django_db
def test_without_single_sign_on_its_pages_do_not_exist() -> None:
    client = Client()
    assert client.get(reverse("sso_start")).status_code == 404
    assert client.get(reverse("sso_callback")).status_code == 404
    assert "Sign in with" not in client.get(reverse("login")).content.decode()
