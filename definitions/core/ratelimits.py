"""Per-account rate limits on the expensive actions: uploads, workshop creation,
backtests, discovery runs and invitations.

A sliding window counted in the database (RateLimitEvent): every web process and
worker sees the same count, on the embedded SQLite as on PostgreSQL, and the refusal
can say exactly when the next action will be allowed. (django-ratelimit needs a
shared, atomic cache — memcached or django-redis — and counts fixed windows, so it
could not say "try again in N minutes" truthfully, nor run on `make run`'s set-up.)

Services call ``rate_limit_take`` inside their transaction, before the work: a
refused action leaves nothing behind, and a rolled-back one gives its event back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from definitions.models import RateLimitEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Limit:
    count: int
    window: timedelta


def limits() -> dict[str, Limit]:
    """The limits in force, read from settings each time so tests can change them."""
    return {
        "upload": Limit(settings.RATE_LIMIT_UPLOADS_PER_HOUR, timedelta(hours=1)),
        "workshop": Limit(settings.RATE_LIMIT_WORKSHOPS_PER_DAY, timedelta(days=1)),
        "backtest": Limit(settings.RATE_LIMIT_BACKTESTS_PER_HOUR, timedelta(hours=1)),
        "invitation": Limit(settings.RATE_LIMIT_INVITATIONS_PER_DAY, timedelta(days=1)),
        "discovery": Limit(settings.RATE_LIMIT_DISCOVERIES_PER_HOUR, timedelta(hours=1)),
    }


class RateLimited(ValidationError):
    """Too many of one action; ``retry_after`` is in seconds. A ValidationError, so
    the views that already show a service's errors show this one too."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, code="rate_limited")
        self.retry_after = retry_after


def rate_limit_take(*, user: User, action: str) -> None:
    """Count one ``action`` by ``user``, or raise RateLimited when the window is full."""
    limit = limits()[action]
    now = timezone.now()
    since = now - limit.window
    events = RateLimitEvent.objects.filter(user=user, action=action)
    # Events that left the window are never needed again.
    events.filter(at__lt=since).delete()
    recent = list(events.order_by("at").values_list("at", flat=True)[: limit.count])
    if len(recent) >= limit.count:
        retry_after = max(1, math.ceil((recent[0] + limit.window - now).total_seconds()))
        raise RateLimited(
            _("You have reached the limit of %(count)s for this action. Try again in %(wait)s.")
            % {"count": limit.count, "wait": _wait(retry_after)},
            retry_after=retry_after,
        )
    RateLimitEvent.objects.create(user=user, action=action, at=now)


def _wait(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    if minutes <= 90:
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    hours = math.ceil(minutes / 60)
    return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
