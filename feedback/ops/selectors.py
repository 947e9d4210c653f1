"""Reads about the background work itself: whether a worker is alive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from feedback.models import WorkerHeartbeat


@dataclass(frozen=True)
class WorkerStatus:
    online: bool
    last_seen: datetime | None


def worker_status() -> WorkerStatus:
    latest = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    if latest is None:
        return WorkerStatus(online=False, last_seen=None)
    fresh = timezone.now() - latest < timedelta(seconds=settings.WORKER_HEARTBEAT_STALE_SECONDS)
    return WorkerStatus(online=fresh, last_seen=latest)
