"""Shared fixtures: the named users of every test (admin, marketer, seller, rep,
viewer, outsider) in one workshop, created through the real services."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from definitions.models import Workshop
from definitions.roles import Department, Role
from tests.factories import UserFactory, WorkshopFactory, add_member

pytest_plugins: list[str] = []

ROOT = Path(__file__).resolve().parent.parent


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


def _test_database_url() -> str:
    s = connection.settings_dict
    user = s["USER"] or "postgres"
    host = s["HOST"] or "127.0.0.1"
    port = s["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{s['NAME']}"


def start_worker(**env: str) -> subprocess.Popen[str]:
    """A real Celery worker process on the test database, fed through the broker that
    CELERY_BROKER_URL names, in a process group of its own (so a test can kill it
    hard). Small backtest chunks, so a few hundred leads already make several."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "leadworkshop",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
            "--hostname=pytest-worker@%h",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": _test_database_url(),
            "DEBUG": "0",
            "BACKTEST_CHUNK_LEADS": "100",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop_worker(worker: subprocess.Popen[str]) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=20)


@pytest.fixture
def real_worker(transactional_db: None) -> Any:
    worker = start_worker()
    yield worker
    stop_worker(worker)


@pytest.fixture(autouse=True)
def _default_language() -> Any:
    # A request through the test client leaves its language active in the thread:
    # each test starts in the default language, whatever the one before it rendered.
    from django.conf import settings as django_settings
    from django.utils import translation

    with translation.override(django_settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def _plain_http_and_eager_tasks(settings: Any) -> Any:
    # Tests talk plain HTTP to the test client and live server; production keeps
    # these on. Tasks run in-process unless a test starts a real worker.
    from leadworkshop.celery import app

    # Hashing with production strength costs ~0.3 s a password; tests need no strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # django-axes needs the request of every log-in, which the test client's login()
    # does not pass; the tests of throttling itself switch it back on.
    settings.AXES_ENABLED = False
    # Tests of other things create many workshops, uploads and runs per account;
    # tests/definitions/core/test_rate_limits.py sets the limits it tests.
    settings.RATE_LIMIT_UPLOADS_PER_HOUR = 10_000
    settings.RATE_LIMIT_WORKSHOPS_PER_DAY = 10_000
    settings.RATE_LIMIT_BACKTESTS_PER_HOUR = 10_000
    settings.RATE_LIMIT_INVITATIONS_PER_DAY = 10_000
    settings.RATE_LIMIT_DISCOVERIES_PER_HOUR = 10_000
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    # Ids are reused after a test's rollback; nothing cached by id may outlive a test.
    from django.core.cache import cache

    cache.clear()
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def admin(db: None) -> Any:
    return UserFactory(username="admin", first_name="Ada")


@pytest.fixture
def workshop(admin: Any) -> Workshop:
    return WorkshopFactory(actor=admin, name="Acme Instruments", slug="acme")


@pytest.fixture
def v1(admin: Any, workshop: Workshop) -> Any:
    """The worked example published as the workshop's first version."""
    from definitions import rules
    from definitions.versions import services as version_services

    return version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )


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
