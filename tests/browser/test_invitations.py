"""Membership by consent, in a real browser: an invitation is only an offer, and the
workshop opens to the invitee only once they accept it (no JavaScript needed)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from guardian.shortcuts import get_perms

from definitions.models import Invitation, Membership, Workshop
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, UserFactory, WorkshopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def invite(page: Any, email: str, role: str, department: str) -> None:
    page.goto("/w/acme/members/")
    page.get_by_label("E-mail address").fill(email)
    page.locator("#id_invite-role").select_option(role)
    page.locator("#id_invite-department").select_option(department)
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text(f"If {email} can receive an invitation, we sent one.").wait_for()


@pytest.fixture
def acme(db: None) -> Workshop:
    ada = UserFactory(username="ada", first_name="Ada")
    UserFactory(username="sofia", email="sofia@example.com")
    return WorkshopFactory(actor=ada, name="Acme Instruments", slug="acme")


def test_the_invitee_sees_the_workshop_only_after_accepting_from_the_notification(
    new_page: Any, acme: Workshop
) -> None:
    admin, sofia = new_page(), new_page()
    log_in(admin, "ada", PASSWORD)
    invite(admin, "sofia@example.com", "stakeholder", "marketing")
    admin.get_by_role("cell", name="sofia@example.com").wait_for()  # pending, not a member
    assert mail.outbox[-1].to == ["sofia@example.com"]

    log_in(sofia, "sofia", PASSWORD)
    assert sofia.get_by_role("link", name="Acme Instruments").count() == 0
    assert sofia.goto("/w/acme/").status == 404
    assert not Membership.objects.filter(workshop=acme, user__username="sofia").exists()

    sofia.goto("/inbox/")
    sofia.get_by_role(
        "link", name="Ada invited you to join the workshop “Acme Instruments”."
    ).click()
    sofia.get_by_text("as Stakeholder (Marketing)").wait_for()
    sofia.get_by_role("button", name="Accept").click()
    sofia.get_by_role("heading", name="Acme Instruments", level=1).wait_for()
    membership = Membership.objects.get(workshop=acme, user__username="sofia")
    assert (membership.role, membership.department) == ("stakeholder", "marketing")

    sofia.goto("/")
    sofia.get_by_role("link", name="Acme Instruments").wait_for()
    admin.goto("/w/acme/members/")
    admin.get_by_text("No invitation is waiting for an answer.").wait_for()


def test_a_declined_invitation_leaves_nothing_behind(new_page: Any, acme: Workshop) -> None:
    admin, sofia = new_page(), new_page()
    log_in(admin, "ada", PASSWORD)
    invite(admin, "sofia@example.com", "viewer", "sales")

    log_in(sofia, "sofia", PASSWORD)
    sofia.get_by_role("heading", name="Invitations for you").wait_for()
    sofia.get_by_role("button", name="Decline").click()
    sofia.get_by_text("You declined the invitation to “Acme Instruments”.").wait_for()
    assert sofia.get_by_role("heading", name="Invitations for you").count() == 0

    user = get_user_model().objects.get(username="sofia")
    assert not Membership.objects.filter(user=user).exists()
    assert get_perms(user, acme) == []
    assert Invitation.objects.get().state == "declined"
    assert sofia.goto("/w/acme/").status == 404
