"""Real Chromium through Playwright. Run by scripts/test.sh in its own pytest process
with DJANGO_ALLOW_ASYNC_UNSAFE=1, which only browser tests need."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from definitions.authoring import services as authoring_services
from definitions.deliberation import services as deliberation_services
from tests.factories import worked_example

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session", autouse=True)
def _plain_http_live_server() -> Iterator[None]:
    # The live server builds its middleware once per session, before function-scoped
    # settings fixtures apply, so plain HTTP must be set up at session scope.
    from django.test.utils import override_settings

    with override_settings(
        SECURE_SSL_REDIRECT=False,
        SECURE_HSTS_SECONDS=0,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
    ):
        yield


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not installed at {CHROMIUM}, and REQUIRE_BROWSER=1")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """Pages of separate browser contexts (separate cookies: separate people)."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(base_url=live_server.url, locale="en-US")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page: Any, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def open_raise_the_mql_bar(admin: Any, workshop: Any) -> Any:
    """The worked example with the MQL bar raised to 55, proposed and open for votes
    for two days: the proposal the voting tests take part in."""
    document: Any = worked_example()
    document["stages"]["mql"] = 55
    proposal = authoring_services.proposal_create(
        actor=admin, workshop=workshop, title="Raise the MQL bar", document=document
    )
    deliberation_services.proposal_open(
        actor=admin,
        proposal=proposal,
        closes_at=timezone.now() + timedelta(days=2),
        rationale="Too many weak MQLs reach sales.",
    )
    return proposal
