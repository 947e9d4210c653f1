"""Writes to leads: mark a workshop's leads changed (backtests go stale), the search
text, and inserting generated leads in batches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from definitions.models import Workshop
from feedback.leads.generator import GeneratedLead
from feedback.leads.signals import leads_arrived
from feedback.models import Lead, LeadActivity

BATCH = 2000


def leads_changed(*, workshop_id: int) -> None:
    """Record that leads or activities of a workshop changed (import or API): every
    backtest from before now is stale, and housekeeping re-runs the ones people read."""
    Workshop.objects.filter(pk=workshop_id).update(leads_changed_at=timezone.now())


def search_text(
    name: str,
    email: str,
    company: Any,
    external_id: str = "",
    custom: dict[str, Any] | None = None,
) -> str:
    """What the lead list searches, lower-cased (as SQL lower() does in the importer),
    so "müller" finds "Müller": the name, e-mail, company, the CRM's external id and
    every custom field's value (in key order, as the importer's SQL writes it)."""
    parts: list[Any] = [name, email, company or "", external_id]
    parts += [_json_text(value) for _key, value in sorted((custom or {}).items())]
    return " ".join(str(part) for part in parts if part not in ("", None)).lower()


def _json_text(value: Any) -> str:
    """A custom value as PostgreSQL's jsonb_each_text and SQLite's json_each print it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@transaction.atomic
def leads_insert_generated(*, workshop: Workshop, leads: Iterable[GeneratedLead]) -> int:
    """Insert freshly generated leads and their activities in batches (demo data and
    benchmarks); the importer has its own streaming path."""
    total = 0
    batch: list[GeneratedLead] = []
    low: int | None = None

    def flush() -> None:
        nonlocal total, low
        rows = [
            Lead(
                workshop=workshop,
                external_id=g.external_id,
                name=g.name,
                email=g.email,
                search_text=search_text(g.name, g.email, g.fields.get("company"), g.external_id),
                **g.fields,
            )
            for g in batch
        ]
        created = Lead.objects.bulk_create(rows, batch_size=BATCH)
        if low is None and created:
            low = created[0].pk
        LeadActivity.objects.bulk_create(
            [
                LeadActivity(lead=lead, kind=kind, at=at)
                for lead, g in zip(created, batch, strict=True)
                for kind, at in g.activities
            ],
            batch_size=BATCH * 5,
        )
        total += len(rows)
        batch.clear()

    for generated in leads:
        batch.append(generated)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    if low is not None:
        # The new leads are the workshop's from the first new id on: a range, not a list.
        leads_arrived.send(
            sender=Lead,
            workshop_id=workshop.pk,
            leads=Lead.objects.filter(workshop=workshop, id__gte=low),
        )
    return total
