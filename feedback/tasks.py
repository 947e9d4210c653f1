"""Celery tasks of the feedback app: thin adapters that take ids and call services.
Their names ("feedback.tasks.…") are what queued messages and the beat schedule refer
to, so they stay here whatever the services' packages."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import OperationalError

from feedback.backtests import services as backtest_services
from feedback.imports.run import import_run
from feedback.ops.housekeeping import housekeeping_run
from feedback.ops.services import worker_heartbeat_record
from feedback.suggestions import runs as discovery_runs


@shared_task(bind=True, ignore_result=True)
def worker_heartbeat(self: Any) -> None:
    """Prove that a worker is alive and can write to the database."""
    worker_heartbeat_record(hostname=self.request.hostname or "worker")


@worker_ready.connect
def _announce_worker(sender: Any = None, **kwargs: Any) -> None:
    # Report at once on start-up rather than after the first beat interval.
    worker_heartbeat.delay()


@shared_task(bind=True, ignore_result=True, acks_late=True)
def run_import(self: Any, job_id: int) -> None:
    """Thin adapter: the service does the work and is safe to rerun."""
    import_run(job_id)


@shared_task(bind=True, ignore_result=True, acks_late=True)
def backtest_prepare_task(self: Any, run_id: int) -> None:
    """Cut a run into chunks and queue them; any number of workers take them."""
    try:
        chunks = backtest_services.backtest_prepare(run_id)
    except Exception as error:
        backtest_services.backtest_fail(run_id, error)
        return
    for index, low, high in chunks:
        backtest_chunk_task.delay(run_id, index, low, high)


@shared_task(
    bind=True,
    ignore_result=True,
    acks_late=True,
    # The worker interrupts a chunk stuck past the timeout; the run then fails cleanly.
    soft_time_limit=settings.BACKTEST_TIMEOUT_SECONDS,
    time_limit=settings.BACKTEST_TIMEOUT_SECONDS + 60,
)
def backtest_chunk_task(self: Any, run_id: int, index: int, low: int, high: int) -> None:
    """One chunk; idempotent, so a copy redelivered after a worker died is harmless."""
    try:
        backtest_services.backtest_chunk(run_id, index, low, high)
    except OperationalError as error:
        # A dropped connection or a deadlock: worth one more try before failing the run.
        if self.request.retries < 2:
            raise self.retry(exc=error, countdown=2) from error
        backtest_services.backtest_fail(run_id, error)
    except Exception as error:
        backtest_services.backtest_fail(run_id, error)


@shared_task(ignore_result=True, acks_late=True)
def backtest_cleanup_task(run_id: int) -> None:
    """Count a finished run against outcomes and drop the runs it supersedes
    (idempotent)."""
    backtest_services.backtest_after_done(run_id)


@shared_task(
    bind=True,
    ignore_result=True,
    acks_late=True,
    # A search stuck past the backtests' time-out is interrupted; the run then fails.
    soft_time_limit=settings.BACKTEST_TIMEOUT_SECONDS,
    time_limit=settings.BACKTEST_TIMEOUT_SECONDS + 60,
)
def discovery_task(self: Any, run_id: int, language: str | None = None) -> None:
    """Thin adapter: the service runs discovery, records progress, and marks the run
    done or failed; it only runs a queued run, so a redelivered message is harmless."""
    discovery_runs.discovery_execute(run_id, language)


@shared_task(ignore_result=True)
def housekeeping() -> None:
    """See feedback.ops.housekeeping."""
    housekeeping_run()
