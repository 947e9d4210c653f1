"""The builder's live evidence and the compare page, in a real browser."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.models import Proposal, ProposalState
from definitions.versions import services as version_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from tests.browser.conftest import log_in
from tests.browser.test_definition_builder import Builder
from tests.factories import PASSWORD, UserFactory, WorkshopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _setup() -> tuple[Any, Any]:
    admin = UserFactory(username="ada")
    workshop = WorkshopFactory(actor=admin, name="Acme Instruments", slug="acme")
    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    leads_insert_generated(workshop=workshop, leads=generate(120, seed=3))
    return admin, workshop


def _draft_count(page: Any, row: str) -> int:
    return int(page.locator(f"#live-preview-{row} td[data-draft]").get_attribute("data-draft"))


def test_typing_a_threshold_updates_the_counts_and_an_error_keeps_the_last_preview(
    new_page: Any,
) -> None:
    admin, workshop = _setup()
    draft = authoring_services.proposal_create(actor=admin, workshop=workshop, title="Lower MQL")
    page = new_page()
    log_in(page, "ada", PASSWORD)
    page.goto(f"/w/acme/drafts/{draft.pk}/")
    builder = Builder(page)
    before = _draft_count(page, "mql")
    assert page.locator("#live-preview-mql").inner_text().strip().endswith("0")

    builder.fill("#id_mql", "0")
    after = _draft_count(page, "mql")
    assert after > before
    assert page.locator("#live-preview-mql td").nth(2).inner_text().startswith("+")

    builder.fill("#id_mql", "not a number")
    assert page.locator(".builder-main .error").first.is_visible()
    # The last good preview stays, with the counts of MQL at 0.
    assert _draft_count(page, "mql") == after

    builder.fill("#id_mql", "40")
    assert _draft_count(page, "mql") == before


def test_the_compare_page_is_reached_from_a_proposal_and_shows_both_side_by_side(
    new_page: Any,
) -> None:
    admin, workshop = _setup()
    proposals = []
    for title, mql in (("Sales view", 50), ("Marketing view", 30)):
        document = copy.deepcopy(rules.WORKED_EXAMPLE)
        document["stages"]["mql"] = mql
        proposal = authoring_services.proposal_create(
            actor=admin, workshop=workshop, title=title, document=document
        )
        Proposal.objects.filter(pk=proposal.pk).update(state=ProposalState.OPEN)
        proposals.append(proposal)
    page = new_page()
    log_in(page, "ada", PASSWORD)
    page.goto(f"/w/acme/proposals/{proposals[0].pk}/")
    page.get_by_role("link", name="Compare with the other open proposals").click()
    page.wait_for_selector("#compare-table")
    headers = page.locator("#compare-table thead th").all_inner_texts()
    assert any("Sales view" in h for h in headers) and any("Marketing view" in h for h in headers)
    assert page.locator("#compare-table .compare-text .definition-text").count() == 2
    assert "50" in page.locator("#compare-table td.compare-changes").nth(1).inner_text()
    # Choosing a version as well keeps the page working without any script.
    page.get_by_label("Version v1").check()
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_selector("#compare-v1")
    assert page.locator("#compare-table thead th").count() == 4


def test_a_draft_with_an_error_keeps_its_last_good_preview_marked_stale(
    new_page: Any, browser: Any, live_server: Any
) -> None:
    from tests.browser.test_screens import AXE, RUN_AXE, WCAG_22_AA

    admin, workshop = _setup()
    draft = authoring_services.proposal_create(actor=admin, workshop=workshop, title="Lower MQL")
    page = new_page()
    page.add_init_script(path=str(AXE))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, "ada", PASSWORD)
    page.goto(f"/w/acme/drafts/{draft.pk}/")
    builder = Builder(page)
    builder.fill("#id_mql", "0")  # valid, not saved: the last good preview is of this
    good = _draft_count(page, "mql")
    assert not page.locator("#live-preview-stale").count()

    builder.fill("#id_mql", "not a number")
    notice = page.locator("#live-preview-stale")
    # Said in words, next to the figures that stay: the error is named and linked.
    assert "Out of date" in notice.inner_text()
    assert "Preview of the last valid draft" in notice.inner_text()
    link = notice.get_by_role("link")
    error = page.locator("#error-stages-mql")
    assert link.get_attribute("href") == "#error-stages-mql"
    assert link.inner_text() == error.inner_text() and error.is_visible()
    assert _draft_count(page, "mql") == good
    assert page.locator("#live-preview").get_attribute("aria-live") == "polite"
    assert page.locator("#live-preview").get_attribute("aria-describedby") == "live-preview-stale"
    assert page.evaluate(RUN_AXE, WCAG_22_AA) == []
    # The link takes keyboard focus to the error it names.
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'error-stages-mql'")

    builder.fill("#id_mql", "40")
    assert not page.locator("#live-preview-stale").count()
    assert _draft_count(page, "mql") < good
    assert errors == []

    # Without script the builder posts the whole page: the same last good preview stays.
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", java_script_enabled=False
    )
    try:
        plain = context.new_page()
        log_in(plain, "ada", PASSWORD)
        plain.goto(f"/w/acme/drafts/{draft.pk}/")
        plain.locator("#id_mql").fill("0")
        plain.locator("#builder-refresh").click()
        plain.wait_for_load_state()
        assert _draft_count(plain, "mql") == good
        plain.locator("#id_mql").fill("not a number")
        plain.locator("#builder-refresh").click()
        plain.wait_for_load_state()
        stale = plain.locator("#live-preview-stale").inner_text()
        assert "Preview of the last valid draft" in stale
        assert _draft_count(plain, "mql") == good
    finally:
        context.close()
