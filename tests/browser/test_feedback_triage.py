"""A sales rep triages ten leads with the keyboard only and takes one verdict back; a
stakeholder then sees the reps' verdicts counted on the accuracy page, its charts, and
the way to the search for improvements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from definitions import rules
from definitions.roles import Department, Role
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import LeadFeedback
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, WorkshopFactory, add_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_triages_ten_leads_by_keyboard_and_the_accuracy_page_counts_them(
    new_page: Callable[[], Any],
) -> None:
    admin: Any = UserFactory(username="facilitator")
    workshop: Any = WorkshopFactory(actor=admin, name="Acme", slug="acme")
    add_member(workshop, UserFactory(username="ren"), Role.SALES_REP, Department.SALES)
    leads_insert_generated(workshop=workshop, leads=generate(300, seed=21))
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    backtest_services.backtest_run_inline(
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, version=version, enqueue=False
        )
    )

    page = new_page()
    log_in(page, "ren", PASSWORD)
    page.goto("/w/acme/feedback/")
    cards = page.locator("[data-card]")
    cards.first.wait_for()
    ids = [cards.nth(i).get_attribute("id") for i in range(10)]

    page.keyboard.press("j")  # the first lead
    for i, card_id in enumerate(ids):
        card = page.locator(f"#{card_id}")
        assert page.evaluate("document.activeElement.id") == card_id
        if i % 2 == 0:
            page.keyboard.press("n")
            page.keyboard.press("9")  # the ninth reason: B2C
            card.get_by_text("Not a lead: B2C").wait_for()
        else:
            page.keyboard.press("g")
            card.locator(".verdict").get_by_text("Good lead").wait_for()
        # The next card takes the focus once the verdict is in.
        if i + 1 < len(ids):
            page.wait_for_function(
                "id => document.activeElement && document.activeElement.id === id", arg=ids[i + 1]
            )
    assert LeadFeedback.objects.filter(superseded_at__isnull=True).count() == 10

    page.keyboard.press("u")  # take back the tenth verdict
    page.locator(f"#{ids[9]} .verdict").wait_for(state="detached")
    assert LeadFeedback.objects.count() == 9
    assert LeadFeedback.objects.filter(verdict="not_lead", reason="b2c").count() == 5

    page.keyboard.press("?")
    page.get_by_role("dialog", name="Keyboard").wait_for()
    page.keyboard.press("Escape")

    stakeholder = new_page()
    log_in(stakeholder, "facilitator", PASSWORD)
    stakeholder.goto("/w/acme/accuracy/")
    versions = stakeholder.locator("#versions")
    row = versions.get_by_role("row", name="v1")
    assert "n = 9" in row.inner_text()  # the rep precision rests on the nine verdicts
    confusion = stakeholder.locator("#confusion").get_by_role("row", name="Rep verdicts")
    assert confusion.inner_text().split()[-1] == "9"
    # The charts are drawn (Chart.js from npm, no CDN) from the numbers in the page.
    stakeholder.wait_for_function(
        "() => !!Chart.getChart(document.querySelector('canvas[data-chart=chart-sweep]'))"
    )
    stakeholder.wait_for_function(
        "() => !!Chart.getChart(document.querySelector('canvas[data-chart=chart-bands]'))"
    )

    # Improvements are searched for on their own page, for the version shown.
    link = stakeholder.locator("#discover-link")
    assert link.get_attribute("href") == "/w/acme/suggestions/?version=1"
