"""Celery tasks of the integrations: thin adapters that call services. Their names
("integrations.tasks.…") are what queued messages and the beat schedule refer to."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from integrations import services


@shared_task(bind=True, ignore_result=True, acks_late=True, max_retries=None)
def deliver_webhook(self: Any, delivery_id: int, attempt: int = 1) -> None:
    """One attempt; after a failure the same task comes back after the service's
    delay, carrying the next attempt's number (and the same event id and body)."""
    retry_in = services.delivery_attempt(delivery_id, attempt)
    if retry_in is not None:
        raise self.retry(args=(delivery_id, attempt + 1), countdown=retry_in)


@shared_task(
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=False,
    max_retries=5,
)
def post_chat_message(workshop_id: int, channel: str, event: str, data: dict[str, Any]) -> bool:
    return services.chat_post(workshop_id=workshop_id, channel=channel, event=event, data=data)


@shared_task(ignore_result=True)
def webhooks_sweep() -> int:
    return services.webhooks_sweep()
