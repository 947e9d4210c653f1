"""factory_boy factories. Domain objects are made through services, as in production."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from factory.declarations import LazyAttribute, Sequence
from factory.django import DjangoModelFactory, Password

from definitions.authoring import services as authoring_services
from definitions.deliberation import services as deliberation_services
from definitions.models import Workshop
from definitions.versions import services as version_services
from definitions.workshops import services as workshop_services

PASSWORD = "correct-horse-battery"


class _UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = Sequence(lambda n: f"user{n}")
    email = LazyAttribute(lambda u: f"{u.username}@example.com")
    password = Password(PASSWORD)


_workshop_numbers = iter(range(1, 10**9))


def UserFactory(**fields: Any) -> User:
    """A user (got or created by username), typed for the tests that use it."""
    user: User = _UserFactory.create(**fields)
    return user


def WorkshopFactory(
    *, actor: User | None = None, name: str | None = None, **fields: Any
) -> Workshop:
    """A workshop made by the real service; its creator (a new user unless given) is
    its first admin."""
    return workshop_services.workshop_create(
        actor=actor if actor is not None else UserFactory(),
        name=name or f"Workshop {next(_workshop_numbers)}",
        **fields,
    )


def add_member(workshop: Workshop, user: Any, role: str, department: str) -> Any:
    admin = workshop.memberships.filter(role="admin").first()
    assert admin is not None
    workshop_services.member_add(
        actor=admin.user, workshop=workshop, user=user, role=role, department=department
    )
    return user


def worked_example() -> Any:
    """The articles' worked example as canonical JSON, ready to edit in a test."""
    from definitions import rules

    parsed = rules.parse(rules.WORKED_EXAMPLE, rules.DEFAULT_CATALOG).definition
    assert parsed is not None
    return rules.to_json(parsed)


def logged_in(user: Any) -> Any:
    """A test client with `user` logged in."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def open_for_vote(admin: Any, workshop: Workshop, title: str = "Vote") -> Any:
    """The worked example published as v1 and a proposal open for a day under a policy
    that lets any vote count: the setting of tests about voting and commenting."""
    from datetime import timedelta

    from django.utils import timezone

    from definitions import rules

    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    deliberation_services.policy_update(
        actor=admin,
        workshop=workshop,
        quorum_percent=0,
        required_departments=[],
        majority_percent=0,
        block_vetoes=False,
        default_voting_days=7,
    )
    return deliberation_services.proposal_open(
        actor=admin,
        proposal=authoring_services.proposal_create(actor=admin, workshop=workshop, title=title),
        closes_at=timezone.now() + timedelta(days=1),
        rationale="r",
    )
