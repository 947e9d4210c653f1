"""A stakeholder backtests a proposal before the vote, watches it run, reads the funnel
and what changes against the parent version, and opens a lead to read why v1 took it.

With PostgreSQL and Redis configured (CI), the backtest runs in a real Celery worker
process in chunks while the page polls; otherwise tasks run in-process."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from tests.browser.conftest import log_in
from tests.conftest import services_available
from tests.factories import PASSWORD, UserFactory, WorkshopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(request: pytest.FixtureRequest) -> Iterator[subprocess.Popen[str] | None]:
    if not services_available():
        yield None
        return
    from leadworkshop.celery import app

    process: subprocess.Popen[str] = request.getfixturevalue("real_worker")
    app.conf.task_always_eager = False
    yield process


def test_a_proposal_is_backtested_before_the_vote_and_a_lead_explains_itself(
    new_page: Callable[[], Any], worker: subprocess.Popen[str] | None
) -> None:
    admin: Any = UserFactory(username="facilitator")
    workshop: Any = WorkshopFactory(actor=admin, name="Acme", slug="acme")
    leads_insert_generated(workshop=workshop, leads=generate(400, seed=5))
    v1 = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    base = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=v1, enqueue=False
    )
    backtest_services.backtest_run_inline(base)
    stricter = rules.parse(rules.SALES_LEANING_EXAMPLE, rules.DEFAULT_CATALOG).definition
    assert stricter is not None
    proposal = authoring_services.proposal_create(
        actor=admin,
        workshop=workshop,
        title="Sales-leaning",
        document=rules.to_json(stricter),
        parent=v1,
    )

    page = new_page()
    log_in(page, "facilitator", PASSWORD)
    page.goto(f"/w/acme/proposals/{proposal.pk}/")
    panel = page.locator("#backtest")
    panel.get_by_text("Not backtested yet").wait_for()
    panel.get_by_role("button", name="Backtest").click()

    # The run page shows its progress and turns into the results by itself.
    page.locator("#run-bar").wait_for()
    page.get_by_role("heading", name="Funnel").wait_for(timeout=60_000)
    assert page.locator("#run-bar").get_attribute("value") == "100"
    funnel = page.locator("#funnel")
    assert funnel.get_by_role("row", name="All leads").inner_text().split()[-1] == "400"
    change = page.locator("#change")
    change.get_by_text("Compared with the latest backtest of v1").wait_for()
    lost = change.get_by_role("link", name="no longer handed to sales")
    assert lost.inner_text().startswith("\N{MINUS SIGN}")

    lost.click()
    page.get_by_role("heading", name="Leads in this backtest").wait_for()
    page.get_by_text("Leads handed to sales under v1 and no longer.").wait_for()
    page.locator("#run-leads tbody tr a").first.click()

    verdict = page.locator("#verdict-v1")
    verdict.wait_for()
    assert "qualified" in verdict.locator("h3").inner_text()
    assert verdict.locator("ul.matched li").count() >= 1
    page.get_by_role("heading", name="What each version says about this lead, and why").wait_for()

    # Back on the proposal, the backtest is summed up for everyone about to vote.
    page.goto(f"/w/acme/proposals/{proposal.pk}/")
    page.locator("#backtest").get_by_text("of 400 leads qualify").wait_for()
