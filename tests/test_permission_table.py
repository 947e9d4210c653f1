"""The permission table run: every URL by every role, and every object id of another
workshop, against one world built once for the module (its users, workshops and one
object of each kind). Each request runs in its own savepoint, rolled back after it, so
every case starts from the same world; the table and its rules live in
tests/test_permissions.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from definitions.models import Membership, Workshop
from definitions.roles import Department, Role
from tests.factories import UserFactory, WorkshopFactory, add_member
from tests.test_permissions import (
    ALIASES,
    FOREIGN_ID_CASES,
    ROLES,
    TABLE,
    Row,
    expected_status,
    make_objects,
)

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """acme with one user per role, another workshop, and one object of each kind in
    both; rolled back when the module is done."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_HASHER),
        transaction.atomic(),
    ):
        admin = UserFactory(username="admin", first_name="Ada")
        workshop = WorkshopFactory(actor=admin, name="Acme Instruments", slug="acme")
        people = {
            "admin": admin,
            "marketer": add_member(
                workshop, UserFactory(username="marketer"), Role.STAKEHOLDER, "marketing"
            ),
            "rep": add_member(workshop, UserFactory(username="rep"), Role.SALES_REP, "sales"),
            "viewer": add_member(
                workshop, UserFactory(username="viewer"), Role.VIEWER, Department.OTHER
            ),
            "outsider": UserFactory(username="outsider"),
        }
        other = WorkshopFactory(actor=people["outsider"], name="Other Co", slug="other")
        yield {
            "people": people,
            "workshop": workshop,
            "objects": make_objects(admin, workshop),
            "foreign": make_objects(people["outsider"], other),
        }
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"{r.method}-{r.name}")
def test_each_role_gets_exactly_what_its_permissions_allow(
    row: Row, role: str, world: dict[str, Any]
) -> None:
    workshop, objects, people = world["workshop"], world["objects"], world["people"]
    kwargs: dict[str, Any] = {"slug": workshop.slug}
    for name in row.extra:
        kwargs[ALIASES.get(name, name)] = objects[name]
    if row.needs_membership_id:
        # Act on the viewer's membership: a target every role can try to touch.
        kwargs["membership_id"] = Membership.objects.get(
            workshop=workshop, user=people["viewer"]
        ).pk
    client = Client()
    if role != "anonymous":
        client.force_login(people[role])
    url = reverse(row.name, kwargs=kwargs)
    response = getattr(client, row.method)(url)

    expected = expected_status(role, row)
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif expected == "404":
        assert response.status_code == 404
    elif expected == "403":
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302, 400), response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "arg"), FOREIGN_ID_CASES, ids=lambda v: v if isinstance(v, str) else v.name
)
def test_an_id_of_another_workshops_object_is_not_found_even_for_an_admin(
    row: Row, arg: str, world: dict[str, Any]
) -> None:
    """Every URL that names an object, with acme's slug and one id of the same kind of
    object in another workshop (the rest acme's own): the admin of acme gets 404."""
    workshop: Workshop = world["workshop"]
    kwargs: dict[str, Any] = {"slug": workshop.slug}
    for name in row.extra:
        kwargs[ALIASES.get(name, name)] = (world["foreign"] if name == arg else world["objects"])[
            name
        ]
    client = Client()
    client.force_login(world["people"]["admin"])
    response = getattr(client, row.method)(reverse(row.name, kwargs=kwargs))
    assert response.status_code == 404, f"{row.method} {row.name} with a foreign {arg}"
