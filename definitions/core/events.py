"""Domain events: what happened in a workshop, said where it happens and heard above.

Outbound webhooks and chat messages (the `integrations` app) must learn when a
version is published or an import finishes, but the services that do those things
sit in lower layers that may not import it. So they call ``emit`` and the
integrations app connects a receiver to ``domain_event`` (integrations/apps.py).

An event is sent only once the caller's transaction commits: a rolled-back publish
announces nothing, and a receiver never reads rows that are not there yet. Without a
receiver (the integrations app not installed) emitting costs nothing.

The names below are the public event names of the webhooks; docs/webhooks.md
describes each payload. ``REVIEW_READY`` is said by feedback.reviews, once per version,
when it first has enough decided leads.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

VERSION_PUBLISHED = "version.published"
PROPOSAL_OPENED = "proposal.opened"
PROPOSAL_CLOSING_SOON = "proposal.closing_soon"
PROPOSAL_CLOSED = "proposal.closed"
PROPOSAL_PUBLISHED = "proposal.published"
IMPORT_FINISHED = "import.finished"
BACKTEST_FINISHED = "backtest.finished"
REVIEW_READY = "review.ready"
LEAD_CLASSIFIED = "lead.classified"

EVENT_NAMES: tuple[str, ...] = (
    VERSION_PUBLISHED,
    PROPOSAL_OPENED,
    PROPOSAL_CLOSING_SOON,
    PROPOSAL_CLOSED,
    PROPOSAL_PUBLISHED,
    IMPORT_FINISHED,
    BACKTEST_FINISHED,
    REVIEW_READY,
    LEAD_CLASSIFIED,
)

# sender=<event name>, workshop_id=<int>, data=<JSON-ready dict>
domain_event = Signal()


def emit(name: str, *, workshop_id: int, data: dict[str, Any]) -> None:
    """Announce `name` in workshop `workshop_id` once the current transaction commits
    (at once outside a transaction). `data` must be JSON-ready: it becomes the
    webhook payload's `data` as it is."""
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown event {name!r}")
    transaction.on_commit(lambda: _send(name, workshop_id, data))


def absolute_url(path: str) -> str:
    """`path` on this site as the world reaches it (SITE_URL): payloads and chat
    messages link back."""
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _send(name: str, workshop_id: int, data: dict[str, Any]) -> None:
    # The change is committed: a failing receiver (its database or broker is down)
    # must not turn a done publish into an error page.
    for receiver, result in domain_event.send_robust(
        sender=name, workshop_id=workshop_id, data=data
    ):
        if isinstance(result, Exception):
            logger.error("receiver %r of event %s failed", receiver, name, exc_info=result)
