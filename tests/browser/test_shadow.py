"""A stakeholder runs a proposal in shadow from its page; leads arrive through the API
(real HTTP to the live server); the shadow report shows where the two definitions
disagree; a rep judges the disagreement in the queue, and the proposal page counts it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from api import services as api_services
from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.roles import Role
from definitions.versions import services as version_services
from feedback.models import LeadFeedback
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, WorkshopFactory, add_member, worked_example
from tests.feedback.shadows.conftest import BORDERLINE, NOBODY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def post_leads(base: str, token: str, leads: list[dict[str, Any]]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310  (the live server on loopback)
        f"{base}/api/v1/leads",
        data=json.dumps({"leads": leads}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 200
        answer: dict[str, Any] = json.load(response)
        return answer


def test_a_shadow_run_is_started_fed_by_the_api_reported_and_its_disagreement_judged(
    new_page: Callable[[], Any], live_server: Any
) -> None:
    admin: Any = UserFactory(username="facilitator")
    workshop: Any = WorkshopFactory(actor=admin, name="Acme", slug="acme")
    rep = add_member(workshop, UserFactory(username="rick"), Role.SALES_REP, "sales")
    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    document = worked_example()
    document["stages"]["mql"] = 60
    proposal = authoring_services.proposal_create(
        actor=admin, workshop=workshop, title="Stricter MQL", document=document
    )
    _key, token = api_services.api_key_create(actor=admin, workshop=workshop, name="CRM")

    page = new_page()
    log_in(page, "facilitator", PASSWORD)
    page.goto(f"/w/acme/proposals/{proposal.pk}/")
    panel = page.locator("#shadow")
    panel.get_by_text("Not run in shadow yet").wait_for()
    panel.get_by_role("button", name="Run in shadow").click()
    page.locator("#shadow").get_by_text("Running for").wait_for()

    post_leads(
        live_server.url,
        token,
        [
            {"external_id": "B1", "name": "Border Line", **BORDERLINE},
            {"external_id": "N1", "name": "Nobody", **NOBODY},
        ],
    )

    page.reload()
    panel = page.locator("#shadow")
    panel.get_by_text("2 new leads seen.").wait_for()
    assert panel.locator("[data-disagreements]").inner_text() == (
        "They disagree on 1 lead; 0 judged by reps."
    )
    panel.get_by_role("link", name="Open the shadow report").click()
    page.get_by_role("heading", name="Shadow report: Stricter MQL").wait_for()
    assert page.locator("[data-leads-seen]").inner_text() == "2"
    example = page.locator("[data-example]")
    assert example.count() == 1
    assert "Border Line" in example.inner_text()
    assert "the published version sends it to sales, the shadow does not" in example.inner_text()

    judge = new_page()
    log_in(judge, "rick", PASSWORD)
    judge.goto("/w/acme/shadows/disagreements/")
    card = judge.locator("[data-disagreement]")
    assert card.count() == 1
    assert "Stricter MQL" in card.inner_text()
    card.get_by_label("Not a lead, because").select_option("no_budget")
    card.get_by_role("button", name="Not a lead").click()
    judge.get_by_text("Verdict saved on “Border Line”.").wait_for()
    judge.get_by_text("Nothing to judge").wait_for()
    verdict = LeadFeedback.objects.get(lead__external_id="B1")
    assert (verdict.rep_id, verdict.verdict, verdict.reason) == (rep.pk, "not_lead", "no_budget")

    page.goto(f"/w/acme/proposals/{proposal.pk}/")
    assert page.locator("#shadow [data-disagreements]").inner_text() == (
        "They disagree on 1 lead; 1 judged by reps."
    )
    # Against that verdict the shadow was right (a true negative), v1 wrong.
    rows = page.locator("#shadow table tbody tr")
    assert rows.nth(0).inner_text().split("\t")[-1].strip() == "0 / 1 / 0 / 0"
    assert rows.nth(1).inner_text().split("\t")[-1].strip() == "0 / 0 / 0 / 1"
