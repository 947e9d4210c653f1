from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from definitions.models import Proposal
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, WorkshopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Builder:
    """Drives the builder like a person: every change is one htmx round trip."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def _swap(self, act: Callable[[], None]) -> None:
        with self.page.expect_response(lambda r: r.request.method == "POST"):
            act()
        self.page.wait_for_function("() => !document.querySelector('form.htmx-request')")

    def select(self, selector: str, value: str | list[str]) -> None:
        self._swap(lambda: self.page.locator(selector).select_option(value))

    def fill(self, selector: str, value: str) -> None:
        def act() -> None:
            self.page.locator(selector).fill(value)
            self.page.locator(selector).press("Tab")

        self._swap(act)

    def check(self, node: str, label: str) -> None:
        self._swap(
            lambda: self.page.locator(f"#node-{node}").get_by_label(label, exact=True).check()
        )

    def click(self, selector: str) -> None:
        self._swap(lambda: self.page.locator(selector).click())

    def add(self, what: str, parent: str) -> str:
        """Add a criterion or group to `parent`; returns the new node's id."""
        self.click(f'button[name=action][value="{what}:{parent}"]')
        container = (
            f"#node-{parent} > ol.tree > li.node"
            if not parent.startswith("@")
            else f'li.node:has(> input[name$="-parent"][value="{parent}"])'
        )
        node_id = self.page.locator(container).last.get_attribute("id")
        assert node_id
        return str(node_id).removeprefix("node-")

    def field(self, parent: str, field: str, op: str, value: str = "", points: str = "") -> str:
        node = self.add("add_field", parent)
        self.select(f"#n-{node}-field", field)
        self.select(f"#n-{node}-op", op)
        if value:
            self.fill(f"#n-{node}-value", value)
        if points:
            self.fill(f"#n-{node}-points", points)
        return node


def test_the_articles_worked_example_is_built_from_scratch_and_reads_as_text(
    new_page: Callable[[], Any],
) -> None:
    admin = UserFactory(username="facilitator")
    WorkshopFactory(actor=admin, name="Acme Instruments", slug="acme")
    page = new_page()
    log_in(page, "facilitator", PASSWORD)
    page.goto("/w/acme/definition/")
    page.get_by_role("button", name="Start the first draft").click()
    page.wait_for_url("**/drafts/*/")
    b = Builder(page)

    # Format: the placeholder criterion becomes "came through one of these formats".
    b.select("#n-c-source-op", "in")
    for label in ("Price-request form", "Webinar", "High-value white paper", "Trusted referral"):
        b.check("c-source", label)
    b.fill("#n-c-source-points", "15")

    # Characteristics: all of them at once.
    traits = b.add("add_group", "g-root")
    b.select(f"#n-{traits}-mode", "all")
    b.field(traits, "industry", "in", "Life Science", points="10")
    b.field(traits, "annual_revenue", "gte", "300000000", points="10")
    b.field(traits, "country", "in", "US, CA", points="5")
    seniority = b.field(traits, "seniority", "in")
    for label in ("VP", "C-level", "Owner"):
        b.check(seniority, label)

    # Actions: five product pages in one day, or two high-value downloads.
    actions = b.add("add_group", "g-root")
    b.select(f"#n-{actions}-mode", "any")
    pages = b.add("add_activity", actions)
    b.select(f"#n-{pages}-activity", "product_page_view")
    b.fill(f"#n-{pages}-min_count", "5")
    b.select(f"#n-{pages}-window", "one_day")
    downloads = b.add("add_activity", actions)
    b.select(f"#n-{downloads}-activity", "high_value_download")
    b.fill(f"#n-{downloads}-min_count", "2")

    # Junk, stages and the sales-ready action.
    junk = b.field("@disqualify", "email_domain_kind", "eq")
    b.select(f"#n-{junk}-value", "edu")
    demo = b.add("add_activity", "@sales_ready")
    b.select(f"#n-{demo}-activity", "demo_request")
    b.fill("#id_mql", "25")
    b.fill("#id_sql", "40")
    b.fill("#id_title", "The articles' worked example")

    b.click('button[name=action][value="save"]')
    page.get_by_text("Saved (revision 2).").wait_for()

    text = page.locator(".builder-side .definition-text").inner_text()
    for expected in (
        "A lead is anyone who meets at least one of these",
        "Source is one of Price-request form, Webinar, High-value white paper or Trusted referral",
        "Annual revenue is at least 300M",
        "Country is one of “US” or “CA”",
        "Seniority is one of VP, C-level or Owner",
        "At least 5 product page views on one day",
        "At least 2 high-value downloads",
        "Email domain kind is Education",
        "MQL at a score of at least 25",
    ):
        assert expected in text, f"{expected!r} not in the written definition:\n{text}"
    saved = Proposal.objects.get(workshop__slug="acme")
    assert saved.revision == 2
    assert len(saved.document["qualify"]["any"]) == 3
