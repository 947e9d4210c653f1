"""Single sign-on in a real browser through a real OpenID Connect provider on loopback
(tests/sso/provider/, its own process): sign in at the provider, consent, land here as
a new user, sign out of both; and a person from another domain is refused, told why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tests.sso.provider.process import PASSWORD, Provider, configure_app, running_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider(
    settings: Any, live_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Provider]:
    with running_provider(
        tmp_path_factory.mktemp("provider"),
        redirect_uris=[f"{live_server.url}/accounts/sso/callback/"],
        post_logout_redirect_uris=[f"{live_server.url}/accounts/login/"],
    ) as running:
        configure_app(settings, running)
        yield running


def at_the_provider(page: Any, username: str) -> None:
    page.get_by_label("Provider username").fill(username)
    page.get_by_label("Provider password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in to the provider").click()
    page.get_by_role("button", name="Allow").click()


def test_a_new_person_signs_in_through_the_provider_and_signs_out_of_both(
    new_page: Any, provider: Provider, live_server: Any
) -> None:
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with Acme ID").click()
    page.wait_for_url(f"{provider.issuer}/authorize?**")
    at_the_provider(page, "ada")

    page.wait_for_url(f"{live_server.url}/")
    page.get_by_text("Ada Lovelace").wait_for()
    ada = get_user_model().objects.get(email="ada@acme.example")
    assert ada.username == "ada" and not ada.has_usable_password()

    page.get_by_text("Ada Lovelace").click()  # the user menu
    page.get_by_role("button", name="Log out").click()
    # Through the provider's end-session endpoint and back to the log-in page.
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.goto("/inbox/").url.startswith(f"{live_server.url}/accounts/login/")
    # The provider forgot the person too: signing in again asks for the password.
    page.get_by_role("link", name="Sign in with Acme ID").click()
    page.get_by_label("Provider password").wait_for()


def test_a_person_from_a_domain_not_allowed_is_refused_with_a_clear_message(
    new_page: Any, provider: Provider, live_server: Any
) -> None:
    page = new_page()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with Acme ID").click()
    at_the_provider(page, "mallory")

    page.wait_for_url(f"{live_server.url}/accounts/login/")
    page.get_by_text(
        "mallory@elsewhere.example may not sign in here: only addresses at acme.example can."
    ).wait_for()
    assert page.get_by_role("heading", name="Log in").is_visible()
    assert not get_user_model().objects.filter(email="mallory@elsewhere.example").exists()
    assert page.goto("/inbox/").url.startswith(f"{live_server.url}/accounts/login/")
