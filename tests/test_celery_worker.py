"""A real Celery worker process, fed through Redis, writing to PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from feedback.models import WorkerHeartbeat
from feedback.tasks import worker_heartbeat

ROOT = Path(__file__).resolve().parent.parent


def _test_database_url() -> str:
    s = connection.settings_dict
    user = s["USER"] or "postgres"
    host = s["HOST"] or "127.0.0.1"
    port = s["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{s['NAME']}"


@pytest.fixture
def real_worker(transactional_db: None) -> Any:
    # Small backtest chunks, so a few hundred leads already make several.
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "DEBUG": "0",
        "BACKTEST_CHUNK_LEADS": "100",
    }
    worker = subprocess.Popen(
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
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


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
    from definitions import rules, services
    from feedback import backtest_services
    from feedback.generator import generate
    from feedback.models import EvaluationRun, LeadResult, RunState
    from feedback.services import leads_insert_generated
    from leadworkshop.celery import app
    from tests.factories import UserFactory, WorkshopFactory

    app.conf.task_always_eager = False
    admin: Any = UserFactory(username="worker-admin")
    workshop: Any = WorkshopFactory(actor=admin, name="Worker Co", slug="worker-co")
    leads_insert_generated(workshop=workshop, leads=generate(300, seed=11))
    version = services.version_publish_document(
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
