"""What the operators' commands share: finding a workshop, a user and an admin to act
as, and turning a service's ValidationError into exit code 2 with its messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from definitions.models import Membership, Workshop
from definitions.roles import Role


def workshop_by_slug(slug: str) -> Workshop:
    workshop = Workshop.objects.filter(slug=slug).first()
    if workshop is None:
        raise CommandError(f"No workshop with slug {slug!r}.", returncode=2)
    return workshop


def user_by_name(username: str) -> User:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user {username!r}.", returncode=2)
    return user


def acting_admin(workshop: Workshop) -> User:
    """The workshop's first admin: commands act in its name, so the audit log has an
    actor."""
    membership = (
        Membership.objects.filter(workshop=workshop, role=Role.ADMIN)
        .select_related("user")
        .order_by("joined_at", "pk")
        .first()
    )
    if membership is None:
        raise CommandError("The workshop has no admin to act as.", returncode=2)
    return membership.user


@contextmanager
def refusals_exit_2() -> Iterator[None]:
    """A service's ValidationError becomes exit code 2 with each message."""
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            lines = [f"{field}: {msg}" for field, msgs in exc.message_dict.items() for msg in msgs]
        else:
            lines = list(exc.messages)
        raise CommandError("; ".join(lines), returncode=2) from None
