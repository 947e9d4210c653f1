"""A stakeholder goes from the accuracy page to the search for improvements, starts it,
watches it, turns the recommended draft into a proposal, finds the evidence in its
rationale, and sees its backtest beat the version it came from.

The workshop's leads are generated and its published definition is a deliberately poor
first guess, so the improvement is real. With PostgreSQL and Redis configured (CI), the
search and the backtest run in a real Celery worker while the pages poll; otherwise
tasks run in-process."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from definitions.models import Proposal
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import DiscoveryRun
from feedback.suggestions.types import Discovery
from tests.browser.conftest import log_in
from tests.conftest import services_available
from tests.factories import PASSWORD, UserFactory, WorkshopFactory
from tests.feedback.suggestions.poor import POOR_DEFINITION

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


def _f1(row: Any) -> float:
    """The F1 (outcomes) cell of an accuracy table row: the fourth after its header."""
    return float(row.locator("td").nth(3).inner_text())


def test_the_recommended_draft_becomes_a_proposal_whose_backtest_beats_the_version(
    new_page: Callable[[], Any], worker: subprocess.Popen[str] | None
) -> None:
    admin: Any = UserFactory(username="facilitator")
    workshop: Any = WorkshopFactory(actor=admin, name="Acme", slug="acme")
    leads_insert_generated(workshop=workshop, leads=generate(1500, seed=11))
    v1 = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=POOR_DEFINITION, parent=None
    )
    base = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=v1, enqueue=False
    )
    backtest_services.backtest_run_inline(base)

    page = new_page()
    log_in(page, "facilitator", PASSWORD)
    page.goto("/w/acme/accuracy/")
    page.locator("#discover-link").click()
    page.wait_for_url("**/w/acme/suggestions/?version=1")
    page.get_by_role("heading", name="Find improvements of v1").wait_for()
    page.get_by_text("30 % of leads with a known outcome").wait_for()
    page.locator("#goal-form").get_by_role("button", name="Find improvements").click()

    # The run's page follows the search and turns into its results by itself.
    page.wait_for_url("**/w/acme/suggestions/*/", timeout=60_000)
    recommended = page.locator("#recommended")
    recommended.wait_for(timeout=90_000)
    run = DiscoveryRun.objects.get()
    assert run.result is not None
    found = Discovery.from_json(run.result)
    assert found.recommended is not None
    assert found.recommended.after.f1 > found.recommended.before.f1
    assert found.recommended.title in recommended.inner_text()
    f1_row = recommended.get_by_role("row", name="F1")
    assert f"{found.recommended.after.f1:.3f}" in f1_row.inner_text()

    recommended.get_by_role("button", name="Turn into a proposal").click()
    page.wait_for_url("**/w/acme/proposals/*/")
    proposal = Proposal.objects.get()
    assert proposal.parent == v1
    page.get_by_text("its backtest is running").wait_for()
    # The evidence travels with the draft: whoever votes reads why.
    first_line = found.recommended.evidence.splitlines()[0]
    assert first_line in proposal.document["rationale"]
    main = page.locator("main")
    assert first_line.split(":")[0] in main.inner_text()

    # Its backtest runs; once done, the accuracy page compares it with v1.
    page.goto("/w/acme/accuracy/")
    draft = page.locator("#versions tr.draft-row", has_text=proposal.title)
    for _attempt in range(60):
        if draft.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    draft.wait_for()
    version_row = page.locator("#versions tbody tr:not(.draft-row)").first  # v1, the only one
    assert _f1(draft) > _f1(version_row)
