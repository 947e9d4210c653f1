from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from definitions import rules
from definitions.deliberation import services as deliberation_services
from definitions.roles import Department, Role
from definitions.versions import services as version_services
from tests.browser.conftest import log_in, open_raise_the_mql_bar
from tests.factories import PASSWORD, UserFactory, WorkshopFactory, add_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_three_departments_vote_live_and_the_admin_publishes_v2(
    new_page: Callable[[], Any],
) -> None:
    admin: Any = UserFactory(username="ada")
    workshop: Any = WorkshopFactory(actor=admin, name="Acme", slug="acme")
    people = {
        "marco": Department.MARKETING,
        "sofia": Department.SALES,
        "lea": Department.LEADERSHIP,
    }
    for username, department in people.items():
        add_member(workshop, UserFactory(username=username), Role.STAKEHOLDER, department)
    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    deliberation_services.policy_update(
        actor=admin,
        workshop=workshop,
        quorum_percent=50,
        required_departments=["marketing", "sales", "leadership"],
        majority_percent=50,
        block_vetoes=True,
        default_voting_days=7,
    )
    proposal = open_raise_the_mql_bar(admin, workshop)
    url = f"/w/acme/proposals/{proposal.pk}/"

    pages = {}
    for username in people:
        page = new_page()
        log_in(page, username, PASSWORD)
        page.goto(url)
        pages[username] = page

    def vote(username: str, choice: str) -> None:
        page = pages[username]
        page.locator(f'#vote-panel input[name=choice][value="{choice}"]').check()
        page.locator("#vote-panel button[type=submit]").click()
        page.locator("#vote-panel").get_by_text("Your vote is recorded.").wait_for()

    vote("marco", "agree")
    vote("sofia", "agree")

    # Léa never reloads: the others' votes arrive through the live poll.
    lea = pages["lea"]
    lea.locator("#vote-marco").wait_for(timeout=10_000)
    lea.locator("#vote-sofia").wait_for(timeout=10_000)
    assert lea.locator("#live-votes tr.total td").first.inner_text() == "2"
    vote("lea", "agree")

    boss = new_page()
    log_in(boss, "ada", PASSWORD)
    boss.goto(url)
    boss.get_by_role("button", name="Close voting now").click()
    boss.get_by_text("Accepted: 3 of 4 voters took part").wait_for()
    boss.get_by_role("button", name="Publish as the next version").click()
    boss.get_by_role("heading", name="Version v2").wait_for()

    boss.get_by_role("link", name="Versions").click()
    boss.get_by_role("link", name="changes since v1").click()
    boss.get_by_role("heading", name="From v1 to v2").wait_for()
    assert "MQL threshold 40 → 55" in boss.locator(".changes").inner_text()
