from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from feedback.services import worker_heartbeat_record


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
    from feedback.import_services import import_run

    import_run(job_id)
