"""Writes to leads: mark a workshop's leads changed (backtests go stale), the search
text, and inserting generated leads in batches."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from definitions.models import Workshop
from feedback.leads.generator import GeneratedLead
from feedback.models import Lead, LeadActivity

BATCH = 2000


def leads_changed(*, workshop_id: int) -> None:
    """Record that leads or activities of a workshop changed (import or API): every
    backtest from before now is stale, and housekeeping re-runs the ones people read."""
    Workshop.objects.filter(pk=workshop_id).update(leads_changed_at=timezone.now())


def search_text(name: str, email: str, company: Any) -> str:
    """What the lead list searches, lower-cased (as SQL lower() does in the importer),
    so "müller" finds "Müller"."""
    return " ".join(str(part) for part in (name, email, company or "") if part).lower()


@transaction.atomic
def leads_insert_generated(*, workshop: Workshop, leads: Iterable[GeneratedLead]) -> int:
    """Insert freshly generated leads and their activities in batches (demo data and
    benchmarks); the importer has its own streaming path."""
    total = 0
    batch: list[GeneratedLead] = []

    def flush() -> None:
        nonlocal total
        rows = [
            Lead(
                workshop=workshop,
                external_id=g.external_id,
                name=g.name,
                email=g.email,
                search_text=search_text(g.name, g.email, g.fields.get("company")),
                **g.fields,
            )
            for g in batch
        ]
        created = Lead.objects.bulk_create(rows, batch_size=BATCH)
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
    return total
