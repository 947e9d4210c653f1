from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time each background worker proved it can reach the database.

    Backtests and imports run in the worker; the UI warns when none has reported
    recently, instead of leaving a progress bar that never moves.
    """

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
