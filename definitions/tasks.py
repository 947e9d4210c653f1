"""Celery tasks of the definitions app: thin adapters that call services."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail, send_mass_mail
from django.utils import timezone

from definitions.models import Notification
from definitions.notifications.services import describe


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> int:
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


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation_email(subject: str, body: str, recipient: str) -> int:
    """The invitation e-mail, written by the service (it alone knows the link: only
    the link's hash is stored)."""
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], fail_silently=False)


@shared_task(ignore_result=True)
def close_due_proposals() -> int:
    """Close every proposal whose voting time is over, and remind voters of those
    closing within a day. Safe to run as often as beat likes."""
    from definitions.deliberation import services as deliberation_services

    deliberation_services.proposals_remind_closing()
    closed = deliberation_services.proposals_close_due()
    # Sweep e-mails whose enqueueing failed (broker down at the time).
    stale = timezone.now() - timedelta(minutes=2)
    unsent = list(
        Notification.objects.filter(emailed_at__isnull=True, created_at__lt=stale).values_list(
            "pk", flat=True
        )[:500]
    )
    if unsent:
        send_notification_emails(unsent)
    return closed
