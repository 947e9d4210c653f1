from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, WorkshopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_a_key_and_tries_the_api_in_its_docs_under_the_strict_csp(
    new_page: Callable[[], Any],
) -> None:
    admin: Any = UserFactory(username="integrator")
    WorkshopFactory(actor=admin, name="Acme", slug="acme")
    page = new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, "integrator", PASSWORD)

    page.goto("/w/acme/")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_role("button", name="Create key").click()
    page.get_by_text("Copy it now: it will not be shown again.").wait_for()
    token = page.get_by_label("Key", exact=True).input_value()
    assert token.startswith("lw_")

    # A program creates a lead with the key…
    created = page.request.put(
        "/api/v1/leads/ACME%2F42",
        data={"name": "Ann", "budget": "confirmed"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status == 201

    # …and the interactive docs read it back with the same key.
    page.get_by_role("link", name="API documentation").first.click()
    page.locator(".opblock").first.wait_for()
    page.locator("button.authorize").first.click()
    page.locator(".auth-container input").fill(token)
    page.locator(".auth-btn-wrapper button.authorize").click()
    page.locator(".auth-btn-wrapper button.btn-done").click()
    read = page.locator(".opblock-get").first
    read.locator(".opblock-summary").click()
    read.get_by_role("button", name="Try it out").click()
    read.get_by_placeholder("external_id").fill("ACME/42")
    read.get_by_role("button", name="Execute").click()
    answer = read.locator(".live-responses-table .response").first
    answer.wait_for()
    assert answer.locator(".response-col_status").inner_text().strip() == "200"
    assert '"budget": "confirmed"' in answer.locator(".microlight").first.inner_text()
    assert problems == []
