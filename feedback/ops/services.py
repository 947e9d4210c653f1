"""The worker heartbeat: each worker says it is alive every 30 s."""

from __future__ import annotations

from django.utils import timezone

from feedback.models import WorkerHeartbeat


def worker_heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname[:255], defaults={"seen_at": timezone.now()}
    )
    return heartbeat
