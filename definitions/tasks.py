"""Celery tasks of the definitions app: thin adapters that call services. Their names
("definitions.tasks.…") are what queued messages and the beat schedule refer to."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from definitions.deliberation import services as deliberation_services
from definitions.notifications import services as notification_services


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> int:
    return notification_services.emails_send(notification_ids)


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation_email(subject: str, body: str, recipient: str) -> int:
    """The invitation e-mail, written by the service (it alone knows the link: only
    the link's hash is stored)."""
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], fail_silently=False)


@shared_task(ignore_result=True)
def close_due_proposals() -> int:
    """Close every proposal whose voting time is over, remind voters of those closing
    within a day, and send e-mails that could not be queued. Safe to run as often as
    beat likes."""
    deliberation_services.proposals_remind_closing()
    closed = deliberation_services.proposals_close_due()
    notification_services.emails_sweep()
    return closed
