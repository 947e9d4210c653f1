from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from guardian.shortcuts import get_perms

from definitions import roles
from definitions.models import AuditLogEntry, Membership, Workshop
from definitions.roles import Department, Role
from definitions.workshops import services as workshop_services
from tests.factories import UserFactory, logged_in

pytestmark = pytest.mark.django_db


def test_the_creator_of_a_workshop_becomes_its_admin_with_every_permission(admin: Any) -> None:
    workshop = workshop_services.workshop_create(actor=admin, name="Globex Sensors")
    membership = Membership.objects.get(workshop=workshop, user=admin)
    assert membership.role == Role.ADMIN
    assert set(get_perms(admin, workshop)) == set(roles.ALL_PERMISSIONS)
    assert workshop.slug == "globex-sensors"


def test_creating_a_workshop_through_the_page_redirects_to_its_home(admin: Any) -> None:
    response = logged_in(admin).post(
        reverse("definitions:workshop_create"),
        {"name": "Initech", "slug": "", "description": "", "department": "sales"},
    )
    workshop = Workshop.objects.get(name="Initech")
    assert response.status_code == 302
    assert response["Location"] == reverse("definitions:workshop_home", args=[workshop.slug])
    assert AuditLogEntry.objects.filter(
        workshop=workshop, action="definitions.workshop.created"
    ).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "department": "sales"}, "name"),
        ({"name": "   ", "department": "sales"}, "name"),
        ({"name": "x" * 121, "department": "sales"}, "name"),
        ({"name": "Ok", "slug": "not a slug!", "department": "sales"}, "slug"),
        ({"name": "Ok", "slug": "acme", "department": "sales"}, "slug"),
        ({"name": "Ok", "department": "pirates"}, "department"),
    ],
)
def test_a_bad_workshop_form_shows_the_error_at_its_field_and_saves_nothing(
    admin: Any, workshop: Workshop, data: dict[str, str], field: str
) -> None:
    before = Workshop.objects.count()
    response = logged_in(admin).post(reverse("definitions:workshop_create"), data)
    assert response.status_code == 400
    assert response.context["form"].errors.get(field)
    assert Workshop.objects.count() == before


def test_the_workshop_list_shows_only_the_workshops_i_belong_to(
    admin: Any, outsider: Any, workshop: Workshop
) -> None:
    page = logged_in(admin).get(reverse("home"))
    assert list(page.context["workshops"]) == [workshop]
    assert b"Other Co" not in page.content


def test_someone_in_no_workshop_is_told_how_to_start(db: None) -> None:
    page = logged_in(UserFactory(username="newbie")).get(reverse("home"))
    assert b"Create your first workshop" in page.content


def test_a_staff_admin_creates_an_account_and_the_new_person_can_log_in(
    admin: Any, workshop: Workshop
) -> None:
    admin.is_staff = True
    admin.save()
    response = logged_in(admin).post(
        reverse("definitions:member_create", args=[workshop.slug]),
        {
            "new-username": "giulia",
            "new-email": "giulia@example.com",
            "new-password": "a-long-unusual-passphrase",
            "new-role": "stakeholder",
            "new-department": "leadership",
        },
    )
    assert response.status_code == 302
    assert Client().login(username="giulia", password="a-long-unusual-passphrase")
    assert Membership.objects.get(user__username="giulia").department == "leadership"


def test_a_weak_password_is_refused_and_no_account_is_half_created(
    admin: Any, workshop: Workshop
) -> None:
    admin.is_staff = True
    admin.save()
    response = logged_in(admin).post(
        reverse("definitions:member_create", args=[workshop.slug]),
        {
            "new-username": "weak",
            "new-email": "weak@example.com",
            "new-password": "12345678",
            "new-role": "viewer",
            "new-department": "other",
        },
    )
    assert response.status_code == 400
    assert response.context["create_form"].errors["password"]
    assert not Membership.objects.filter(user__username="weak").exists()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="weak").exists()


def test_changing_a_role_replaces_the_guardian_permissions(
    admin: Any, viewer: Any, workshop: Workshop
) -> None:
    membership = Membership.objects.get(workshop=workshop, user=viewer)
    workshop_services.member_update(
        actor=admin, membership=membership, role=Role.STAKEHOLDER, department=Department.SALES
    )
    assert set(get_perms(viewer, workshop)) == roles.ROLE_PERMISSIONS[Role.STAKEHOLDER]
    workshop_services.member_update(
        actor=admin, membership=membership, role=Role.VIEWER, department=Department.SALES
    )
    assert set(get_perms(viewer, workshop)) == {roles.VIEW}


def test_the_member_row_updates_in_place_for_htmx(admin: Any, rep: Any, workshop: Workshop) -> None:
    membership = Membership.objects.get(workshop=workshop, user=rep)
    response = logged_in(admin).post(
        reverse("definitions:member_update", args=[workshop.slug, membership.pk]),
        {f"m{membership.pk}-role": "stakeholder", f"m{membership.pk}-department": "sales"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith(f'<tr id="member-row-{membership.pk}"')
    assert "<html" not in body
    membership.refresh_from_db()
    assert membership.role == "stakeholder"


def test_the_last_admin_can_be_neither_demoted_nor_removed(admin: Any, workshop: Workshop) -> None:
    membership = Membership.objects.get(workshop=workshop, user=admin)
    with pytest.raises(ValidationError, match="at least one admin"):
        workshop_services.member_update(
            actor=admin, membership=membership, role=Role.VIEWER, department=Department.OTHER
        )
    with pytest.raises(ValidationError, match="at least one admin"):
        workshop_services.member_remove(actor=admin, membership=membership)
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_demoting_the_last_admin_through_htmx_shows_the_reason_in_the_row(
    admin: Any, workshop: Workshop
) -> None:
    membership = Membership.objects.get(workshop=workshop, user=admin)
    response = logged_in(admin).post(
        reverse("definitions:member_update", args=[workshop.slug, membership.pk]),
        {f"m{membership.pk}-role": "viewer", f"m{membership.pk}-department": "sales"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert "at least one admin" in response.content.decode()


def test_one_of_two_admins_can_step_down(admin: Any, marketer: Any, workshop: Workshop) -> None:
    second = Membership.objects.get(workshop=workshop, user=marketer)
    workshop_services.member_update(
        actor=admin, membership=second, role=Role.ADMIN, department="marketing"
    )
    mine = Membership.objects.get(workshop=workshop, user=admin)
    workshop_services.member_update(
        actor=admin, membership=mine, role=Role.VIEWER, department="marketing"
    )
    assert Membership.objects.filter(workshop=workshop, role=Role.ADMIN).count() == 1


def test_a_removed_member_loses_access_at_once(admin: Any, rep: Any, workshop: Workshop) -> None:
    membership = Membership.objects.get(workshop=workshop, user=rep)
    response = logged_in(admin).post(
        reverse("definitions:member_remove", args=[workshop.slug, membership.pk])
    )
    assert response.status_code == 302
    assert get_perms(rep, workshop) == []
    home = logged_in(rep).get(reverse("definitions:workshop_home", args=[workshop.slug]))
    assert home.status_code == 404


def test_every_member_change_is_in_the_history_in_plain_words(
    admin: Any, rep: Any, workshop: Workshop
) -> None:
    membership = Membership.objects.get(workshop=workshop, user=rep)
    workshop_services.member_update(
        actor=admin, membership=membership, role="viewer", department="sales"
    )
    workshop_services.member_remove(actor=admin, membership=membership)
    page = logged_in(admin).get(reverse("definitions:workshop_history", args=[workshop.slug]))
    text = page.content.decode()
    assert [e.action for e in AuditLogEntry.objects.filter(workshop=workshop)][:3] == [
        "definitions.member.removed",
        "definitions.member.changed",
        "definitions.member.added",
    ]
    assert "admin removed rep from the workshop." in text
    assert "admin changed rep to Viewer (Sales)." in text


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "<svg onload=alert(1)>",
        "javascript:alert(1)",
    ],
)
def test_text_users_write_renders_inert(admin: Any, payload: str) -> None:
    workshop = workshop_services.workshop_create(actor=admin, name=payload, description=payload)
    client = logged_in(admin)
    for url in (reverse("home"), reverse("definitions:workshop_home", args=[workshop.slug])):
        body = client.get(url).content.decode()
        assert payload not in body or payload == "javascript:alert(1)"
        assert "<script>alert(1)</script>" not in body
        assert "onerror=alert(1)>" not in body
        assert "<svg onload" not in body
