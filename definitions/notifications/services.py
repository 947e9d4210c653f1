"""In-app notifications, mirrored by e-mail. Rows are written in the caller's
transaction; e-mails leave through Celery only after it commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from definitions.accounts.selectors import saved_languages
from definitions.core.jobs import enqueue
from definitions.models import Notification, ProposalState, Workshop

if TYPE_CHECKING:
    from django.contrib.auth.models import User


logger = logging.getLogger(__name__)

MESSAGES: dict[str, Promise] = {
    # The time in parentheses: a sentence ending on "5 p.m." would end "p.m..".
    "proposal.opened": _("“%(title)s” is open for votes (until %(closes)s)."),
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


def _moment(value: Any) -> str:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return str(value)
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _outcome(value: Any) -> str:
    return str(ProposalState(value).label) if value in ProposalState.values else str(value)


def _count(value: Any) -> str:
    return (
        formats.number_format(value, 0, force_grouping=True)
        if isinstance(value, int)
        else str(value)
    )


def _decimal(value: Any) -> str:
    if value is None:
        return "—"
    if not isinstance(value, int | float):
        return str(value)
    # Rounded half up to two places (number_format alone cuts a float's digits off).
    return formats.number_format(Decimal(repr(value)).quantize(Decimal("0.01"), ROUND_HALF_UP), 2)


def _interval(value: Any) -> str:
    if isinstance(value, list) and len(value) == 2:
        return f"{_decimal(value[0])} ± {_decimal(value[1])}"
    return "—" if value is None else str(value)


# Params stored as values (an ISO time, a state's code, a number) and written out in
# the reader's language when the message is: an e-mail in the recipient's, the inbox
# in the viewer's. Rows written before kept their text, which passes through as it is.
PARAM_FORMATS: dict[str, Callable[[Any], str]] = {
    "closes": _moment,
    "outcome": _outcome,
    "decided": _count,
    "observed": _decimal,
    "promised": _interval,
}


def _stored(value: Any) -> Any:
    """A param as JSON keeps it: a time as its ISO text, formatted when read."""
    return value.isoformat() if isinstance(value, datetime) else value


def describe(notification: Notification) -> str:
    """The notification's sentence in the active language."""
    template = MESSAGES.get(notification.verb)
    if template is None:
        return notification.verb
    params = {
        key: PARAM_FORMATS[key](value) if key in PARAM_FORMATS else value
        for key, value in notification.params.items()
    }
    try:
        return str(str(template) % params)
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
            params={key: _stored(value) for key, value in params.items()},
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


def _email(notification: Notification, language: str) -> tuple[str, str, str, list[str]]:
    """The e-mail of one notification, written in `language`, its dates and numbers
    too."""
    with translation.override(language):
        text = describe(notification)
        return (
            f"[{notification.workshop.name}] {text}",
            f"{text}\n\n{settings.SITE_URL.rstrip('/')}{notification.url}\n",
            settings.DEFAULT_FROM_EMAIL,
            [notification.recipient.email],
        )


def emails_send(notification_ids: list[int]) -> int:
    """E-mail each notification to its recipient, in the language they chose, else
    the site's (idempotent enough: a retry may resend, never lose one)."""
    notifications = list(
        Notification.objects.filter(
            pk__in=notification_ids, emailed_at__isnull=True
        ).select_related("recipient", "workshop")
    )
    languages = saved_languages(n.recipient_id for n in notifications)
    messages = [
        _email(n, languages.get(n.recipient_id) or settings.LANGUAGE_CODE)
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
