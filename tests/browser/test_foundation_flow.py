from __future__ import annotations

from typing import Any

import pytest

from definitions.models import Membership
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_creates_a_workshop_adds_a_member_and_reads_it_in_italian(
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
    page.get_by_label("Username or e-mail").fill("sofia@example.com")
    page.locator("#id_add-role").select_option("sales_rep")
    page.locator("#id_add-department").select_option("sales")
    page.get_by_role("button", name="Add member").click()
    page.get_by_text("sofia was added.").wait_for()
    assert Membership.objects.get(user__username="sofia").role == "sales_rep"

    page.get_by_role("button", name="IT").click()
    page.get_by_role("heading", name="Membri", level=1).wait_for()
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.get_by_role("button", name="Aggiungi membro").is_visible()
