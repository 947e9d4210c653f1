"""In-app notifications, mirrored by e-mail. Rows are written in the caller's
transaction; e-mails leave through Celery only after it commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from definitions.core.jobs import enqueue
from definitions.models import Notification, Workshop

if TYPE_CHECKING:
    from django.contrib.auth.models import User


logger = logging.getLogger(__name__)

MESSAGES: dict[str, Promise] = {
    "proposal.opened": _("“%(title)s” is open for votes until %(closes)s."),
    "proposal.closing_soon": _("Voting on “%(title)s” closes within 24 hours (%(closes)s)."),
    "proposal.closed": _("Voting on “%(title)s” closed: %(outcome)s."),
    "version.published": _("Version v%(version)s of the lead definition is published."),
    "version.emergency_rollback": _(
        "Emergency rollback by %(actor)s: v%(restored)s is the current definition again "
        "(as v%(version)s). Reason: %(reason)s"
    ),
    "proposal.stale": _(
        "v%(version)s was published after “%(title)s” was written: rebase the proposal "
        "onto it before it can be published."
    ),
    "vote.earlier_text": _(
        "The text of “%(title)s” changed after you voted: confirm or change your vote."
    ),
    "version.reviewed": _(
        "v%(version)s's review: on %(decided)s leads decided since it went live, F1 "
        "%(observed)s (its backtest promised %(promised)s)."
    ),
    "version.drift": _(
        "v%(version)s is not keeping its promise: on %(decided)s leads decided since it "
        "went live, F1 %(observed)s, outside the interval its backtest promised "
        "(%(promised)s)."
    ),
    "comment.reply": _("%(author)s replied to your comment on “%(title)s”."),
    "invitation.received": _("%(actor)s invited you to join the workshop “%(name)s”."),
    "webhook.disabled": _(
        "The webhook to %(endpoint)s failed for %(hours)s hours and was switched off."
    ),
}


def describe(notification: Notification) -> str:
    template = MESSAGES.get(notification.verb)
    if template is None:
        return notification.verb
    try:
        return str(str(template) % notification.params)
    except (KeyError, TypeError, ValueError):
        return notification.verb


def notify(
    *,
    workshop: Workshop,
    recipients: Iterable[User],
    verb: str,
    url: str,
    exclude: User | None = None,
    email: bool = True,
    **params: Any,
) -> list[Notification]:
    """One inbox row per recipient; `email=False` for a caller that sends its own
    e-mail (the rows are marked sent, so the sweep leaves them alone)."""
    emailed_at = None if email else timezone.now()
    rows = [
        Notification(
            recipient=user,
            workshop=workshop,
            verb=verb,
            url=url,
            params=params,
            emailed_at=emailed_at,
        )
        for user in {u.pk: u for u in recipients}.values()
        if exclude is None or user.pk != exclude.pk
    ]
    created = Notification.objects.bulk_create(rows)
    ids = [n.pk for n in created if n.pk is not None]
    if ids and email:
        transaction.on_commit(lambda: _enqueue_emails(ids))
    return created


def _enqueue_emails(ids: list[int]) -> None:
    """Hand the e-mails to the worker. When the broker is down the request must still
    succeed: the notifications are saved, and the periodic sweep
    (emails_sweep, run by definitions.tasks.close_due_proposals) sends what was not
    sent."""
    try:
        enqueue("definitions.tasks.send_notification_emails", ids)
    except Exception:  # any broker error: kombu raises several kinds
        logger.warning(
            "Could not queue %d notification e-mail(s); the sweep will retry.",
            len(ids),
            exc_info=True,
        )


def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def emails_send(notification_ids: list[int]) -> int:
    """E-mail each notification to its recipient (idempotent enough: a retry may
    resend, never lose one)."""
    notifications = list(
        Notification.objects.filter(
            pk__in=notification_ids, emailed_at__isnull=True
        ).select_related("recipient", "workshop")
    )
    messages = [
        (
            f"[{n.workshop.name}] {describe(n)}",
            f"{describe(n)}\n\n{settings.SITE_URL.rstrip('/')}{n.url}\n",
            settings.DEFAULT_FROM_EMAIL,
            [n.recipient.email],
        )
        for n in notifications
        if n.recipient.email
    ]
    sent = send_mass_mail(messages, fail_silently=False) if messages else 0
    Notification.objects.filter(pk__in=[n.pk for n in notifications]).update(
        emailed_at=timezone.now()
    )
    return sent


def emails_sweep() -> int:
    """Send the e-mails whose queueing failed (the broker was down at the time)."""
    stale = timezone.now() - timedelta(minutes=2)
    unsent = list(
        Notification.objects.filter(emailed_at__isnull=True, created_at__lt=stale).values_list(
            "pk", flat=True
        )[:500]
    )
    return emails_send(unsent) if unsent else 0
