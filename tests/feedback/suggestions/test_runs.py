"""Discovery runs: started from the page, run by the worker with progress, stored as the
engine's answer; failures say why and never leave a run running; admins clear fields
suspected of leaking the outcome, and the audit log says who did."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from definitions.core.ratelimits import RateLimited
from definitions.models import AuditLogEntry, Version, Workshop
from feedback.leads.services import leads_changed
from feedback.models import DiscoveryRun, LeakageClearance, RunState
from feedback.ops.housekeeping import housekeeping_run
from feedback.suggestions import runs
from feedback.suggestions import selectors as suggestion_selectors
from feedback.suggestions.types import Goal
from tests.feedback.suggestions.conftest import answer

pytestmark = pytest.mark.django_db


def _start(capture: Any, **kwargs: Any) -> DiscoveryRun:
    """Start a run and let its queued task run, as after a real commit."""
    with capture(execute=True):
        run = runs.discovery_start(**kwargs)
    run.refresh_from_db()
    return run


def test_a_started_search_runs_in_the_worker_and_stores_the_enginesanswer(
    admin: Any, workshop: Workshop, version: Version, django_capture_on_commit_callbacks: Any
) -> None:
    goal = Goal(objective="f1", target="outcome")
    run = _start(
        django_capture_on_commit_callbacks,
        actor=admin,
        workshop=workshop,
        version=version,
        goal=goal,
    )
    assert run.state == RunState.DONE, run.message
    assert run.progress == 100 and run.finished_at is not None
    assert run.goal == goal.to_json()
    discovery = answer(run)
    assert discovery.version == version.number
    assert discovery.goal == goal
    assert discovery.validation > 0 and discovery.learning > discovery.validation
    # The poor first guess leaves real room: something better is recommended.
    assert discovery.recommended is not None
    assert discovery.recommended.after.f1 > discovery.recommended.before.f1
    assert all(s.effect > 0 for s in discovery.suggestions)
    assert AuditLogEntry.objects.filter(
        action="feedback.discovery.started", data__discovery=run.pk
    ).exists()
    assert suggestion_selectors.latest_discovery(workshop, version) == run


def test_a_second_start_of_the_same_goal_reuses_the_run_under_way(
    admin: Any, workshop: Workshop, version: Version
) -> None:
    first = runs.discovery_start(actor=admin, workshop=workshop, version=version, goal=Goal())
    again = runs.discovery_start(actor=admin, workshop=workshop, version=version, goal=Goal())
    other = runs.discovery_start(
        actor=admin, workshop=workshop, version=version, goal=Goal(objective="recall")
    )
    assert again.pk == first.pk and other.pk != first.pk
    assert DiscoveryRun.objects.count() == 2


def test_searches_past_the_rate_limit_are_refused_and_nothing_is_started(
    admin: Any, workshop: Workshop, version: Version, settings: Any
) -> None:
    settings.RATE_LIMIT_DISCOVERIES_PER_HOUR = 1
    runs.discovery_start(actor=admin, workshop=workshop, version=version, goal=Goal())
    with pytest.raises(RateLimited):
        runs.discovery_start(
            actor=admin, workshop=workshop, version=version, goal=Goal(objective="recall")
        )
    assert DiscoveryRun.objects.count() == 1


def test_a_search_that_cannot_run_fails_with_a_reason_and_is_never_left_running(
    admin: Any, workshop: Workshop, version: Version
) -> None:
    run = runs.discovery_start(actor=admin, workshop=workshop, version=version, goal=Goal())
    # A goal stored by an older release that this one no longer understands.
    DiscoveryRun.objects.filter(pk=run.pk).update(goal={"objective": "happiness"})
    runs.discovery_execute(run.pk)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert "objective" in run.message and run.finished_at is not None
    runs.discovery_execute(run.pk)  # a redelivered message changes nothing
    run.refresh_from_db()
    assert run.state == RunState.FAILED


def test_a_failed_search_is_run_again_as_a_new_run(
    admin: Any, workshop: Workshop, version: Version, django_capture_on_commit_callbacks: Any
) -> None:
    run = runs.discovery_start(actor=admin, workshop=workshop, version=version, goal=Goal())
    with pytest.raises(ValidationError):
        runs.discovery_retry(actor=admin, run=run)  # still waiting: nothing to retry
    DiscoveryRun.objects.filter(pk=run.pk).update(state=RunState.FAILED, message="Lost.")
    run.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        again = runs.discovery_retry(actor=admin, run=run)
    again.refresh_from_db()
    assert again.pk != run.pk and again.state == RunState.DONE, again.message
    assert again.goal == run.goal and again.version == run.version


def test_housekeeping_fails_searches_whose_worker_never_answered(
    admin: Any, workshop: Workshop, version: Version
) -> None:
    stuck = runs.discovery_start(actor=admin, workshop=workshop, version=version, goal=Goal())
    fresh = runs.discovery_start(
        actor=admin, workshop=workshop, version=version, goal=Goal(objective="recall")
    )
    long_ago = timezone.now() - timedelta(seconds=settings.BACKTEST_TIMEOUT_SECONDS + 5)
    DiscoveryRun.objects.filter(pk=stuck.pk).update(state=RunState.RUNNING, created_at=long_ago)
    housekeeping_run()
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.state == RunState.FAILED and "Timed out" in stuck.message
    assert fresh.state == RunState.QUEUED


def test_a_search_is_stale_once_leads_change(
    admin: Any, workshop: Workshop, version: Version, django_capture_on_commit_callbacks: Any
) -> None:
    run = _start(
        django_capture_on_commit_callbacks,
        actor=admin,
        workshop=workshop,
        version=version,
        goal=Goal(),
    )
    workshop.refresh_from_db()
    assert not suggestion_selectors.discovery_is_stale(run, workshop)
    leads_changed(workshop_id=workshop.pk)
    workshop.refresh_from_db()
    assert suggestion_selectors.discovery_is_stale(run, workshop)


def test_only_an_admin_clears_a_suspected_field_and_the_audit_log_says_who(
    admin: Any, marketer: Any, workshop: Workshop
) -> None:
    with pytest.raises(PermissionDenied):
        runs.leakage_clear(actor=marketer, workshop=workshop, field="budget")
    with pytest.raises(ValidationError):
        runs.leakage_clear(actor=admin, workshop=workshop, field="no_such_field")
    runs.leakage_clear(actor=admin, workshop=workshop, field="budget")
    runs.leakage_clear(actor=admin, workshop=workshop, field="budget")  # once is enough
    assert list(LeakageClearance.objects.values_list("field", "cleared_by")) == [
        ("budget", admin.pk)
    ]
    with pytest.raises(PermissionDenied):
        runs.leakage_restore(actor=marketer, workshop=workshop, field="budget")
    runs.leakage_restore(actor=admin, workshop=workshop, field="budget")
    assert not LeakageClearance.objects.exists()
    logged = AuditLogEntry.objects.filter(action__startswith="feedback.leakage.")
    assert list(logged.order_by("id").values_list("action", "actor", "data__field")) == [
        ("feedback.leakage.cleared", admin.pk, "budget"),
        ("feedback.leakage.restored", admin.pk, "budget"),
    ]
