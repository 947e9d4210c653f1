"""A real Celery worker process, fed through Redis, writing to PostgreSQL."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest
from django.db import connection

from definitions.versions import services as version_services
from feedback.models import WorkerHeartbeat
from feedback.tasks import worker_heartbeat


@pytest.mark.services
def test_a_real_worker_takes_a_task_from_redis_and_writes_to_postgresql(
    real_worker: subprocess.Popen[str],
) -> None:
    from leadworkshop.celery import app

    assert connection.vendor == "postgresql"
    assert app.conf.broker_url.startswith("redis://")
    app.conf.task_always_eager = False
    worker_heartbeat.delay()

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if WorkerHeartbeat.objects.filter(hostname__startswith="pytest-worker@").exists():
            break
        assert real_worker.poll() is None, real_worker.stdout.read() if real_worker.stdout else ""
        time.sleep(0.25)
    else:
        pytest.fail("the worker wrote no heartbeat within 60 s")
    assert WorkerHeartbeat.objects.get(hostname__startswith="pytest-worker@").seen_at is not None


@pytest.mark.services
def test_a_real_worker_runs_a_backtest_in_chunks_to_the_end(
    real_worker: subprocess.Popen[str], settings: Any
) -> None:
    """The whole task path: the run is queued on commit, the worker cuts it into chunks,
    queues them through Redis, and the last chunk marks the run done."""
    from definitions import rules
    from feedback.backtests import services as backtest_services
    from feedback.leads.generator import generate
    from feedback.leads.services import leads_insert_generated
    from feedback.models import EvaluationRun, LeadResult, RunState
    from leadworkshop.celery import app
    from tests.factories import UserFactory, WorkshopFactory

    app.conf.task_always_eager = False
    admin: Any = UserFactory(username="worker-admin")
    workshop: Any = WorkshopFactory(actor=admin, name="Worker Co", slug="worker-co")
    leads_insert_generated(workshop=workshop, leads=generate(300, seed=11))
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    run = backtest_services.backtest_start(actor=admin, workshop=workshop, version=version)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.state not in (RunState.QUEUED, RunState.RUNNING):
            break
        assert real_worker.poll() is None, real_worker.stdout.read() if real_worker.stdout else ""
        time.sleep(0.25)
    assert run.state == RunState.DONE, run.message
    assert LeadResult.objects.filter(run=run).count() == run.leads_done == 300
    assert run.chunks_total == run.chunks_done == 3
    assert EvaluationRun.objects.get(pk=run.pk).stage_counts["qualified"] > 0
