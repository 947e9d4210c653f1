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
