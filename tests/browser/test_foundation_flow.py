from __future__ import annotations

from typing import Any

import pytest

from definitions.models import Invitation, Membership
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_a_workshop_invites_a_member_and_reads_it_in_italian(
    new_page: Any,
) -> None:
    UserFactory(username="founder")
    UserFactory(username="sofia", email="sofia@example.com")
    page = new_page()

    log_in(page, "founder", PASSWORD)
    page.get_by_role("link", name="Create your first workshop").click()
    page.get_by_label("Name", exact=True).fill("Acme Instruments")
    page.get_by_label("Your department").select_option("marketing")
    page.get_by_role("button", name="Create workshop").click()
    page.get_by_role("heading", name="Acme Instruments", level=1).wait_for()

    page.get_by_role("link", name="Invite marketing, sales and leadership").click()
    page.get_by_label("E-mail address").fill("sofia@example.com")
    page.locator("#id_invite-role").select_option("sales_rep")
    page.locator("#id_invite-department").select_option("sales")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("If sofia@example.com can receive an invitation, we sent one.").wait_for()
    # Invited, not added: she becomes a member when she accepts (test_invitations.py).
    assert Invitation.objects.get(email="sofia@example.com").role == "sales_rep"
    assert not Membership.objects.filter(user__username="sofia").exists()

    page.get_by_role("button", name="IT", exact=True).click()
    page.get_by_role("heading", name="Membri", level=1).wait_for()
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.get_by_role("button", name="Invia invito").is_visible()
