"""Deliberation you can trust, in real Chromium with separate people in separate
browser contexts: a rollback needs a reason and a confirmation and leaves the reps a
working queue; a proposal goes stale when another version is published, is rebased
through a conflict, and the votes cast before show as cast on an earlier text; the
vote form keeps its choice after an error; the author still sees Accept/Decline after
a live update."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.deliberation import services as deliberation_services
from definitions.models import AuditLogEntry, Proposal, Version, Workshop
from definitions.roles import Department, Role
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, WorkshopFactory, add_member, worked_example

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _workshop() -> tuple[Any, Workshop, Version]:
    admin: Any = UserFactory(username="ada")
    workshop = WorkshopFactory(actor=admin, name="Acme", slug="acme")
    add_member(workshop, UserFactory(username="marco"), Role.STAKEHOLDER, Department.MARKETING)
    add_member(workshop, UserFactory(username="sofia"), Role.STAKEHOLDER, Department.SALES)
    add_member(workshop, UserFactory(username="ren"), Role.SALES_REP, Department.SALES)
    v1 = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    deliberation_services.policy_update(
        actor=admin,
        workshop=workshop,
        quorum_percent=0,
        required_departments=[],
        majority_percent=50,
        block_vetoes=True,
        default_voting_days=7,
    )
    return admin, workshop, v1


def _revenue(document: Any, value: int) -> Any:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("id") == "revenue":
                node["value"] = value
                return document
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise KeyError("revenue")


def _open(actor: Any, workshop: Workshop, title: str, value: int) -> Proposal:
    proposal = authoring_services.proposal_create(
        actor=actor, workshop=workshop, title=title, document=_revenue(worked_example(), value)
    )
    return deliberation_services.proposal_open(
        actor=actor,
        proposal=proposal,
        closes_at=timezone.now() + timedelta(days=2),
        rationale="Because.",
    )


def _publish_by_vote(admin: Any, proposal: Proposal) -> Version:
    deliberation_services.vote_cast(actor=admin, proposal=proposal, choice="agree")
    deliberation_services.proposal_close(actor=admin, proposal=proposal)
    proposal.refresh_from_db()
    return version_services.version_publish(actor=admin, proposal=proposal)


def test_a_rollback_needs_a_reason_and_a_confirmation_and_leaves_a_working_queue(
    new_page: Callable[[], Any],
) -> None:
    admin, workshop, v1 = _workshop()
    leads_insert_generated(workshop=workshop, leads=generate(200, seed=5))
    for version in (v1,):
        backtest_services.backtest_run_inline(
            backtest_services.backtest_start(
                actor=admin, workshop=workshop, version=version, enqueue=False
            )
        )
    v2 = _publish_by_vote(admin, _open(admin, workshop, "Bigger firms", 900_000_000))
    backtest_services.backtest_run_inline(
        backtest_services.backtest_start(actor=admin, workshop=workshop, version=v2, enqueue=False)
    )

    boss = new_page()
    log_in(boss, "ada", PASSWORD)
    boss.goto("/w/acme/versions/")
    boss.get_by_role("link", name="Restore v1…").click()
    boss.get_by_role("heading", name="Restore v1 in place of v2?").wait_for()
    # The diff against the current version and both backtests, side by side.
    assert "900" in boss.locator("#restore-diff").inner_text()
    runs = boss.locator("#restore-runs")
    assert "v2 (current)" in runs.inner_text() and "Version v1" in runs.inner_text()

    boss.get_by_role("button", name="Emergency rollback now").click()
    boss.get_by_text("Say why the definition should go back.").wait_for()
    boss.get_by_label("Why go back to this version?").fill("v2 starves the reps of leads")
    boss.get_by_role("button", name="Emergency rollback now").click()
    boss.get_by_text("Tick the box to confirm a rollback without a vote.").wait_for()
    assert Version.objects.filter(workshop=workshop).count() == 2
    assert boss.get_by_label("Why go back to this version?").input_value() == (
        "v2 starves the reps of leads"
    )
    boss.get_by_label("I understand this publishes the earlier version now").check()
    boss.get_by_role("button", name="Emergency rollback now").click()
    boss.get_by_role("heading", name="Version v3").wait_for()
    assert AuditLogEntry.objects.filter(action="definitions.version.emergency_rollback").exists()

    # The rep, in another browser, is told and still has leads to judge.
    rep = new_page()
    log_in(rep, "ren", PASSWORD)
    rep.goto("/inbox/")
    rep.get_by_text("Emergency rollback by ada").first.wait_for()
    rep.goto("/w/acme/feedback/")
    rep.locator("[data-card]").first.wait_for()
    assert rep.get_by_text("has no finished backtest").count() == 0


def test_a_stale_proposal_is_rebased_through_a_conflict_and_earlier_votes_are_flagged(
    new_page: Callable[[], Any],
) -> None:
    admin, workshop, _v1 = _workshop()
    sofia = workshop.memberships.get(user__username="sofia").user
    mine = _open(sofia, workshop, "Smaller firms too", 100_000_000)
    url = f"/w/acme/proposals/{mine.pk}/"

    marco = new_page()
    log_in(marco, "marco", PASSWORD)
    marco.goto(url)
    marco.locator('#vote-panel input[name=choice][value="agree"]').check()
    marco.locator("#vote-panel button[type=submit]").click()
    marco.locator("#vote-panel").get_by_text("Your vote is recorded.").wait_for()

    # Another proposal changes the same criterion and is published as v2.
    _publish_by_vote(admin, _open(admin, workshop, "Bigger firms", 900_000_000))

    author = new_page()
    log_in(author, "sofia", PASSWORD)
    author.goto(url)
    stale = author.locator("#stale")
    stale.get_by_text("Stale: v2 was published").wait_for()
    assert "900" in stale.inner_text()  # the change published in between
    assert author.get_by_role("button", name="Publish as the next version").count() == 0
    author.get_by_role("link", name="Rebase onto v2").click()
    conflict = author.locator("#conflict-revenue")
    conflict.wait_for()
    author.get_by_role("button", name="Rebase onto v2").click()
    author.locator("#rebase-error").wait_for()
    conflict.get_by_label("Keep this proposal's text").check()
    author.get_by_role("button", name="Rebase onto v2").click()
    author.get_by_text("The proposal is rebased onto v2.").wait_for()
    assert author.locator("#stale").count() == 0
    mine.refresh_from_db()
    assert mine.parent is not None and mine.parent.number == 2

    # Marco's page updates live: his vote is now on an earlier text.
    marco.locator("#earlier-votes #vote-marco").wait_for(timeout=10_000)
    assert "cast on an earlier text" in marco.locator("#earlier-votes").inner_text()
    marco.reload()
    marco.locator("#confirm-vote-note").wait_for()
    marco.get_by_role("button", name="Confirm or change my vote").click()
    marco.locator("#vote-panel").get_by_text("Your vote is recorded.").wait_for()
    marco.locator("#live-votes .vote-agree#vote-marco").wait_for()
    assert marco.locator("#earlier-votes").count() == 0


def test_the_vote_form_keeps_its_choice_after_an_error(new_page: Callable[[], Any]) -> None:
    admin, workshop, _v1 = _workshop()
    proposal = _open(admin, workshop, "Smaller firms too", 100_000_000)
    page = new_page()
    log_in(page, "marco", PASSWORD)
    page.goto(f"/w/acme/proposals/{proposal.pk}/")
    page.locator('#vote-panel input[name=choice][value="block"]').check()
    page.locator("#vote-panel button[type=submit]").click()
    page.locator("#vote-panel").get_by_text("Say why you disagree or block").wait_for()
    assert page.locator('#vote-panel input[name=choice][value="block"]').is_checked()
    page.locator("#id_vote_reason").fill("Too loose for sales.")
    page.locator("#vote-panel button[type=submit]").click()
    page.locator("#vote-panel").get_by_text("Your vote is recorded.").wait_for()


def test_the_author_still_sees_accept_and_decline_after_a_live_update(
    new_page: Callable[[], Any],
) -> None:
    _admin, workshop, _v1 = _workshop()
    sofia = workshop.memberships.get(user__username="sofia").user
    proposal = _open(sofia, workshop, "Smaller firms too", 100_000_000)
    url = f"/w/acme/proposals/{proposal.pk}/"
    author = new_page()
    log_in(author, "sofia", PASSWORD)
    author.goto(url)
    assert author.locator("#amendments .amendment").count() == 0

    marco = new_page()
    log_in(marco, "marco", PASSWORD)
    marco.goto(f"/w/acme/proposals/{proposal.pk}/amend/revenue/")
    marco.locator("#n-revenue-value").fill("200000000")
    marco.get_by_label("Why is this better?").fill("Middle ground.")
    marco.get_by_role("button", name="Send the suggestion").click()
    marco.get_by_text("Your suggestion was sent to the author.").wait_for()

    # No reload: the amendment arrives through the live poll, with the author's buttons.
    amendment = author.locator("#amendments .amendment-pending")
    amendment.wait_for(timeout=10_000)
    amendment.get_by_role("button", name="Accept").wait_for()
    assert amendment.get_by_role("button", name="Decline").is_visible()
    amendment.get_by_role("button", name="Accept").click()
    author.get_by_text("Amendment accepted").wait_for()
