"""The reps' queue after a new version or a rollback: it switches to the new version
when a backtest describes it (the restored version's own while the leads have not
changed), and never goes empty for lack of a run."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from definitions import rules
from definitions.models import Version, Workshop
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_changed, leads_insert_generated
from feedback.models import EvaluationRun, RunState
from feedback.verdicts import selectors as verdict_selectors
from tests.factories import logged_in, worked_example

pytestmark = pytest.mark.django_db


def backtested(admin: Any, workshop: Workshop, version: Version) -> EvaluationRun:
    run = backtest_services.backtest_run_inline(
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, version=version, enqueue=False
        )
    )
    assert run.state == RunState.DONE
    return run


@pytest.fixture
def two_versions(admin: Any, workshop: Workshop) -> tuple[Version, Version, EvaluationRun]:
    leads_insert_generated(workshop=workshop, leads=generate(120, seed=4))
    v1 = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    run1 = backtested(admin, workshop, v1)
    document: Any = worked_example()
    document["stages"]["mql"] = 10
    v2 = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=document, parent=v1
    )
    backtested(admin, workshop, v2)
    return v1, v2, run1


def test_a_rollback_reuses_the_restored_versions_backtest_while_leads_are_unchanged(
    admin: Any, rep: Any, workshop: Workshop, two_versions: Any
) -> None:
    v1, _v2, run1 = two_versions
    v3 = version_services.version_rollback(actor=admin, version=v1, reason="v2 misfires")
    # No new run was needed: v1's describes v3, the same text on the same leads.
    assert not EvaluationRun.objects.filter(version=v3).exists()
    assert verdict_selectors.queue_run(workshop) == (v3, run1)
    page = logged_in(rep).get(reverse("feedback:feedback_queue", args=["acme"]))
    html = page.content.decode()
    assert "has no finished backtest" not in html and 'id="queue-pending"' not in html
    assert "data-card" in html


def test_after_leads_changed_a_rollback_backtests_first_and_the_queue_keeps_the_old_run(
    admin: Any, rep: Any, workshop: Workshop, two_versions: Any
) -> None:
    v1, v2, _run1 = two_versions
    run2 = EvaluationRun.objects.get(version=v2)
    leads_changed(workshop_id=workshop.pk)
    workshop.refresh_from_db()
    v3 = version_services.version_rollback(actor=admin, version=v1, reason="v2 misfires")
    started = EvaluationRun.objects.get(version=v3)
    assert started.state == RunState.QUEUED
    # Until v3's run is done the reps keep working on v2's leads, told why.
    assert verdict_selectors.queue_run(workshop) == (v2, run2)
    html = logged_in(rep).get(reverse("feedback:feedback_queue", args=["acme"])).content.decode()
    assert 'id="queue-pending"' in html and "has no finished backtest" not in html
    backtest_services.backtest_run_inline(started)
    assert verdict_selectors.queue_run(workshop) == (v3, EvaluationRun.objects.get(pk=started.pk))
