"""Membership by consent: an admin invites an e-mail address, and only the account
with that address, by accepting, becomes a member. Nobody can look accounts up."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from guardian.shortcuts import get_perms

from definitions import roles
from definitions.models import AuditLogEntry, Invitation, Membership, Notification, Workshop
from definitions.workshops import invitations
from tests.factories import UserFactory, logged_in

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/invitations/link/(?P<token>[A-Za-z0-9_-]+)/")


def invite(
    client: Client, email: str, capture: Any, role: str = "stakeholder", department: str = "sales"
) -> Any:
    with capture(execute=True):
        return client.post(
            reverse("definitions:member_invite", args=["acme"]),
            {"invite-email": email, "invite-role": role, "invite-department": department},
            follow=True,
        )


def link_in(message: Any) -> str:
    found = LINK.search(message.body)
    assert found is not None, message.body
    return reverse("definitions:invitation_link", args=[found["token"]])


def actions() -> list[str]:
    return list(AuditLogEntry.objects.order_by("id").values_list("action", flat=True))


@pytest.fixture
def nina(db: None) -> Any:
    return UserFactory(username="nina", email="Nina@Example.com")


@pytest.fixture
def invited(
    admin: Any, workshop: Workshop, nina: Any, django_capture_on_commit_callbacks: Any
) -> dict[str, Any]:
    """Nina, who has an account, invited to acme as a sales rep in sales."""
    invite(logged_in(admin), "  nina@EXAMPLE.com ", django_capture_on_commit_callbacks, "sales_rep")
    invitation = Invitation.objects.get()
    return {"invitation": invitation, "link": link_in(mail.outbox[-1]), "client": logged_in(nina)}


# ------------------------------------------------------------------ sending


def test_inviting_sends_a_notification_and_an_email_with_a_link_and_adds_nobody(
    invited: dict[str, Any], nina: Any, workshop: Workshop
) -> None:
    invitation = invited["invitation"]
    assert (invitation.email, invitation.role, invitation.state) == (
        "nina@example.com",
        "sales_rep",
        "pending",
    )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nina@example.com"]
    assert "Acme Instruments" in mail.outbox[0].subject
    token = invited["link"].rstrip("/").rsplit("/", 1)[1]
    assert len(token) >= 40 and token not in str(list(Invitation.objects.values()))
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)
    note = Notification.objects.get(recipient=nina)
    assert note.url == reverse("definitions:invitation_detail", args=[invitation.pk])
    assert note.emailed_at is not None  # the invitation e-mail is its only e-mail
    assert not Membership.objects.filter(user=nina).exists()
    assert get_perms(nina, workshop) == []
    assert "definitions.invitation.sent" in actions()


def test_before_accepting_the_workshop_is_not_found_and_not_listed(
    invited: dict[str, Any],
) -> None:
    client = invited["client"]
    assert client.get(reverse("definitions:workshop_home", args=["acme"])).status_code == 404
    home = client.get(reverse("home"))
    assert list(home.context["workshops"]) == []
    assert list(home.context["invitations"]) == [invited["invitation"]]
    inbox = client.get(reverse("inbox")).content.decode()
    assert "invited you to join the workshop" in inbox and "Accept" in inbox


def test_inviting_an_address_with_and_without_an_account_answers_identically(
    admin: Any,
    nina: Any,
    workshop: Workshop,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One frozen instant, so the two pages show the same expiry time.
    frozen = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    client = logged_in(admin)

    def page_text(email: str) -> tuple[int, list[Any], str]:
        response = invite(client, email, django_capture_on_commit_callbacks)
        text = re.sub(r"<[^>]+>", " ", response.content.decode())
        text = re.sub(r"\s+", " ", text.replace(email, "EMAIL"))
        # Leave only this invitation pending, so both pages list one row.
        invitations.invitation_revoke(actor=admin, invitation=Invitation.objects.get(email=email))
        return response.status_code, response.redirect_chain, text

    existing = page_text("nina@example.com")
    missing = page_text("nobody-at-all@example.com")
    assert existing == missing
    assert "If EMAIL can receive an invitation, we sent one." in existing[2]
    assert len(mail.outbox) == 2  # both addresses get the same e-mail


@pytest.mark.parametrize("email", ["not-an-address", "", "a@b", "x" * 250 + "@example.com"])
def test_an_invalid_address_is_refused_at_the_field_and_nothing_is_sent(
    admin: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any, email: str
) -> None:
    response = invite(logged_in(admin), email, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert response.context["invite_form"].errors["email"]
    assert not Invitation.objects.exists() and mail.outbox == []


def test_inviting_again_replaces_the_pending_invitation_and_its_old_link(
    invited: dict[str, Any], admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    invite(logged_in(admin), "nina@example.com", django_capture_on_commit_callbacks, "viewer")
    assert Invitation.objects.get().role == "viewer"
    assert invited["client"].get(invited["link"]).status_code == 404
    assert invited["client"].get(link_in(mail.outbox[-1])).status_code == 200


# ------------------------------------------------------------------ answering


def test_accepting_from_the_link_makes_a_member_with_the_chosen_role(
    invited: dict[str, Any], nina: Any, workshop: Workshop
) -> None:
    client, invitation = invited["client"], invited["invitation"]
    page = client.get(invited["link"])
    assert page.status_code == 200 and "as Sales rep (Sales)" in page.content.decode()
    response = client.post(reverse("definitions:invitation_accept", args=[invitation.pk]))
    assert response["Location"] == reverse("definitions:workshop_home", args=["acme"])
    membership = Membership.objects.get(workshop=workshop, user=nina)
    assert (membership.role, membership.department) == ("sales_rep", "sales")
    assert set(get_perms(nina, workshop)) == roles.ROLE_PERMISSIONS[roles.Role.SALES_REP]
    assert client.get(reverse("definitions:workshop_home", args=["acme"])).status_code == 200
    assert "definitions.invitation.accepted" in actions()


def test_a_used_link_is_refused_and_says_so(invited: dict[str, Any], nina: Any) -> None:
    client, invitation = invited["client"], invited["invitation"]
    accept = reverse("definitions:invitation_accept", args=[invitation.pk])
    client.post(accept)
    Membership.objects.filter(user=nina).update(role="viewer")  # changed since by an admin
    again = client.get(invited["link"])
    assert again.status_code == 410
    assert "already accepted" in again.content.decode()
    second = client.post(accept, follow=True)
    assert "already used" in second.content.decode()
    declined = client.post(reverse("definitions:invitation_decline", args=[invitation.pk]))
    assert declined.status_code == 302
    assert Membership.objects.get(user=nina).role == "viewer"  # the second answer did nothing
    assert Invitation.objects.get().state == "accepted"


def test_an_expired_link_is_refused_and_says_so(invited: dict[str, Any], nina: Any) -> None:
    client, invitation = invited["client"], invited["invitation"]
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = client.get(invited["link"])
    assert page.status_code == 410 and "has expired" in page.content.decode()
    response = client.post(
        reverse("definitions:invitation_accept", args=[invitation.pk]), follow=True
    )
    assert "has expired" in response.content.decode()
    assert not Membership.objects.filter(user=nina).exists()
    assert list(client.get(reverse("home")).context["invitations"]) == []


def test_declining_leaves_nothing_behind(
    invited: dict[str, Any], nina: Any, workshop: Workshop
) -> None:
    client, invitation = invited["client"], invited["invitation"]
    response = client.post(reverse("definitions:invitation_decline", args=[invitation.pk]))
    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(user=nina).exists()
    assert get_perms(nina, workshop) == []
    assert Invitation.objects.get().state == "declined"
    assert client.get(reverse("definitions:workshop_home", args=["acme"])).status_code == 404
    assert client.get(invited["link"]).status_code == 410
    assert "definitions.invitation.declined" in actions()


def test_another_account_cannot_use_the_link_or_the_invitation(
    invited: dict[str, Any], rep: Any, outsider: Any, admin: Any, nina: Any
) -> None:
    invitation = invited["invitation"]
    for user in (rep, outsider, admin):
        client = logged_in(user)
        page = client.get(invited["link"])
        assert page.status_code == 403
        assert "sent to another e-mail address" in page.content.decode()
        for name in ("invitation_accept", "invitation_decline"):
            assert (
                client.post(reverse(f"definitions:{name}", args=[invitation.pk])).status_code == 404
            )
        assert (
            client.get(reverse("definitions:invitation_detail", args=[invitation.pk])).status_code
            == 404
        )
    assert Invitation.objects.get().state == "pending"
    assert not Membership.objects.filter(user=nina).exists()


@pytest.mark.parametrize("token", ["", "x", "a" * 43, "a" * 5000, "../../admin", "%00", "ÿ€✓" * 10])
def test_a_made_up_link_is_not_found(invited: dict[str, Any], token: str) -> None:
    url = reverse("definitions:invitation_link", args=["placeholder"]).replace(
        "placeholder/", f"{token}/"
    )
    assert invited["client"].get(url).status_code == 404


def test_an_invitation_waits_for_an_account_with_its_address(
    admin: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    invite(logged_in(admin), "later@example.com", django_capture_on_commit_callbacks, "viewer")
    link = link_in(mail.outbox[-1])
    assert not Notification.objects.exists()
    later = get_user_model().objects.create_user("later", "Later@example.com", "x" * 14)
    client = logged_in(later)
    assert client.get(link).status_code == 200
    invitation = client.get(reverse("home")).context["invitations"][0]
    client.post(reverse("definitions:invitation_accept", args=[invitation.pk]))
    assert Membership.objects.get(user=later).role == "viewer"


def test_an_admin_withdraws_an_invitation_and_its_link_stops_working(
    invited: dict[str, Any], admin: Any, nina: Any
) -> None:
    invitation = invited["invitation"]
    response = logged_in(admin).post(
        reverse("definitions:invitation_revoke", args=["acme", invitation.pk]), follow=True
    )
    assert "was withdrawn" in response.content.decode()
    page = invited["client"].get(invited["link"])
    assert page.status_code == 410 and "withdrawn" in page.content.decode()
    assert not Notification.objects.filter(recipient=nina).exists()
    assert not Membership.objects.filter(user=nina).exists()
    assert "definitions.invitation.revoked" in actions()


def test_the_members_page_lists_pending_invitations_for_admins_only(
    invited: dict[str, Any], admin: Any, rep: Any
) -> None:
    members = reverse("definitions:member_list", args=["acme"])
    assert "nina@example.com" in logged_in(admin).get(members).content.decode()
    assert "nina@example.com" not in logged_in(rep).get(members).content.decode()


# ------------------------------------------------------------------ no directory


def test_the_old_add_by_username_endpoint_is_gone(admin: Any, workshop: Workshop) -> None:
    with pytest.raises(NoReverseMatch):
        reverse("definitions:member_add", args=["acme"])
    response = logged_in(admin).post(
        "/w/acme/members/add/", {"add-user": "outsider", "add-role": "viewer"}
    )
    assert response.status_code == 404


def test_a_non_staff_admin_cannot_create_accounts_or_probe_usernames(
    admin: Any, outsider: Any, workshop: Workshop
) -> None:
    client = logged_in(admin)
    page = client.get(reverse("definitions:member_list", args=["acme"])).content.decode()
    assert "new-username" not in page and "outsider" not in page
    response = client.post(
        reverse("definitions:member_create", args=["acme"]),
        {
            "new-username": "outsider",
            "new-email": "fresh@example.com",
            "new-password": "a-long-unusual-passphrase",
            "new-role": "viewer",
            "new-department": "sales",
        },
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert logged_in(admin).get("/admin/auth/user/").status_code == 302  # to the admin login


def test_staff_creating_an_account_that_exists_invites_it_instead_and_changes_nothing(
    admin: Any, outsider: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    admin.is_staff = True
    admin.save()
    before = get_user_model().objects.get(username="outsider").password
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(admin).post(
            reverse("definitions:member_create", args=["acme"]),
            {
                "new-username": "OUTSIDER",
                "new-email": "someone@example.com",
                "new-password": "a-long-unusual-passphrase",
                "new-role": "viewer",
                "new-department": "sales",
            },
            follow=True,
        )
    assert "If someone@example.com can receive an invitation, we sent one." in (
        response.content.decode()
    )
    assert get_user_model().objects.get(username="outsider").password == before
    assert not Membership.objects.filter(workshop=workshop, user=outsider).exists()
    assert Invitation.objects.get().email == "someone@example.com"


# ------------------------------------------------------------------ leaving


def test_a_member_can_leave(rep: Any, workshop: Workshop) -> None:
    client = logged_in(rep)
    assert client.get(reverse("definitions:member_leave", args=["acme"])).status_code == 200
    response = client.post(reverse("definitions:member_leave", args=["acme"]))
    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(user=rep).exists()
    assert get_perms(rep, workshop) == []
    assert client.get(reverse("definitions:workshop_home", args=["acme"])).status_code == 404
    assert "definitions.member.left" in actions()


def test_the_last_admin_cannot_leave_and_is_told_why(admin: Any, workshop: Workshop) -> None:
    response = logged_in(admin).post(
        reverse("definitions:member_leave", args=["acme"]), follow=True
    )
    assert "You are the last admin of this workshop" in response.content.decode()
    assert Membership.objects.filter(user=admin, role="admin").exists()
    assert "definitions.member.left" not in actions()
