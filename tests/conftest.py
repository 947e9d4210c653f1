"""Shared fixtures: the named users of every test (admin, marketer, seller, rep,
viewer, outsider) in one workshop, created through the real services."""

from __future__ import annotations

import os
from typing import Any

import pytest

from definitions.models import Workshop
from definitions.roles import Department, Role
from tests.factories import UserFactory, WorkshopFactory, add_member

pytest_plugins: list[str] = []


def services_available() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ.get(
        "CELERY_BROKER_URL", ""
    ).startswith("redis")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if services_available():
        return
    skip = pytest.mark.skip(
        reason="PostgreSQL and Redis not configured: set DATABASE_URL=postgres://… "
        "and CELERY_BROKER_URL=redis://… (CI does)"
    )
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _plain_http_and_eager_tasks(settings: Any) -> Any:
    # Tests talk plain HTTP to the test client and live server; production keeps
    # these on. Tasks run in-process unless a test starts a real worker.
    from leadworkshop.celery import app

    # Hashing with production strength costs ~0.3 s a password; tests need no strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def admin(db: None) -> Any:
    return UserFactory(username="admin", first_name="Ada")


@pytest.fixture
def workshop(admin: Any) -> Workshop:
    workshop: Any = WorkshopFactory(actor=admin, name="Acme Instruments", slug="acme")
    return workshop


@pytest.fixture
def marketer(workshop: Workshop) -> Any:
    return add_member(
        workshop, UserFactory(username="marketer"), Role.STAKEHOLDER, Department.MARKETING
    )


@pytest.fixture
def seller(workshop: Workshop) -> Any:
    return add_member(workshop, UserFactory(username="seller"), Role.STAKEHOLDER, Department.SALES)


@pytest.fixture
def leader(workshop: Workshop) -> Any:
    return add_member(
        workshop, UserFactory(username="leader"), Role.STAKEHOLDER, Department.LEADERSHIP
    )


@pytest.fixture
def rep(workshop: Workshop) -> Any:
    return add_member(workshop, UserFactory(username="rep"), Role.SALES_REP, Department.SALES)


@pytest.fixture
def viewer(workshop: Workshop) -> Any:
    return add_member(workshop, UserFactory(username="viewer"), Role.VIEWER, Department.OTHER)


@pytest.fixture
def outsider(db: None) -> Any:
    """A member of another workshop, not of acme."""
    user = UserFactory(username="outsider")
    WorkshopFactory(actor=user, name="Other Co", slug="other")
    return user
