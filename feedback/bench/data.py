"""A realistic CRM export for benchmarks and load tests: the seeded lead generator
written as the kind of CSV a marketing-automation tool produces (its own header names,
"Yes"/"No" flags, thousands separators, an aggregate "Total Visits" column), plus the
mapping that imports it. Written row by row, so millions of rows need no memory."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

from django.db import connection

from definitions.models import Workshop
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated, search_text
from feedback.models import Lead, LeadActivity

HEADER = [
    "Prospect ID",
    "Lead Name",
    "Email",
    "Company",
    "Lead Source",
    "Channel",
    "Industry",
    "Country",
    "Employees",
    "Annual Revenue",
    "Job Title",
    "Seniority",
    "Email Domain",
    "Domain Kind",
    "Budget",
    "Authority",
    "Need",
    "Timeline (days)",
    "Created",
    "Stage",
    "Converted",
    "Deal Value",
    "Closed",
    "Total Visits",
]

FIELD_COLUMNS = {
    "Company": "company",
    "Lead Source": "source",
    "Channel": "channel",
    "Industry": "industry",
    "Country": "country",
    "Employees": "employees",
    "Annual Revenue": "annual_revenue",
    "Job Title": "job_title",
    "Seniority": "seniority",
    "Email Domain": "email_domain",
    "Domain Kind": "email_domain_kind",
    "Budget": "budget",
    "Authority": "authority",
    "Need": "need",
    "Timeline (days)": "timeline_days",
    "Created": "created_at",
    "Stage": "reached_stage",
    "Converted": "converted",
    "Deal Value": "deal_value",
    "Closed": "closed_at",
}


def mapping() -> dict[str, Any]:
    """The mapping for files written by write_csv, in docs/import-mapping.md's format."""
    columns: dict[str, Any] = {
        "Prospect ID": {"target": "external_id"},
        "Lead Name": {"target": "name"},
        "Email": {"target": "email"},
        "Total Visits": {
            "target": "new_field",
            "key": "total_visits",
            "label": "Total visits",
            "type": "number",
            "category": "behavioural",
        },
    }
    columns.update({h: {"target": "field", "field": f} for h, f in FIELD_COLUMNS.items()})
    return {"version": 1, "options": {"decimal": "auto", "date_order": "ymd"}, "columns": columns}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        # Whole amounts the way a CRM prints them: 1,250,000
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if hasattr(value, "isoformat"):
        return str(value.isoformat(timespec="seconds"))
    return str(value)


def write_csv(path: Path, rows: int, *, seed: int = 7, id_prefix: str = "P") -> None:
    """Write `rows` generated leads to `path` (UTF-8, comma-separated)."""
    tmp = path.with_suffix(path.suffix + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for lead in generate(rows, seed=seed, id_prefix=id_prefix):
            f = lead.fields
            writer.writerow(
                [
                    lead.external_id,
                    lead.name,
                    lead.email,
                    *(_cell(f[field]) for field in FIELD_COLUMNS.values()),
                    str(sum(1 for kind, _at in lead.activities if kind.endswith("page_view"))),
                ]
            )
    tmp.rename(path)  # a half-written file is never mistaken for a finished one


def load_generated(workshop_id: int, leads: int, events: int, *, seed: int = 7) -> tuple[int, int]:
    """Put ``leads`` generated leads and about ``events`` activities into a workshop by
    PostgreSQL COPY (the ORM elsewhere), for backtest benchmarks. The generator gives
    each lead its own natural activity count; activities are thinned at random (seeded)
    to reach the requested total, never invented. Returns what was stored."""

    sample = list(generate(min(leads, 2000), seed=seed))
    natural = sum(len(g.activities) for g in sample) / max(len(sample), 1)
    keep = min(1.0, events / max(leads, 1) / max(natural, 1e-9))
    rng = random.Random(seed)
    columns = [
        "source", "channel", "company", "industry", "country", "region", "employees",
        "annual_revenue", "email_domain", "job_title", "seniority", "email_domain_kind",
        "budget", "authority", "need", "timeline_days", "created_at", "reached_stage",
        "converted", "deal_value", "closed_at",
    ]  # fmt: skip
    kept: dict[str, list[tuple[str, Any]]] = {}
    stored_events = 0
    if connection.vendor != "postgresql":
        batch = list(generate(leads, seed=seed))
        for g in batch:
            g.activities = [a for a in g.activities if rng.random() < keep]
        leads_insert_generated(workshop=Workshop.objects.get(pk=workshop_id), leads=batch)
        return leads, sum(len(g.activities) for g in batch)
    names = ", ".join(["workshop_id", "external_id", "name", "email", "search_text",
                       "custom", "imported_at", "updated_at", *columns])  # fmt: skip
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {Lead._meta.db_table} ({names}) FROM STDIN") as copy:
            for g in generate(leads, seed=seed):
                copy.write_row(
                    [workshop_id, g.external_id, g.name, g.email,
                     search_text(g.name, g.email, g.fields.get("company"), g.external_id), "{}",
                     "now", "now", *(g.fields.get(c) for c in columns)]
                )  # fmt: skip
                kept[g.external_id] = [a for a in g.activities if rng.random() < keep]
        # Read before the COPY starts: the connection cannot run a query during one.
        ids = list(Lead.objects.filter(workshop_id=workshop_id).values_list("external_id", "id"))
        table = LeadActivity._meta.db_table
        with cursor.copy(f"COPY {table} (lead_id, kind, at) FROM STDIN") as copy:
            for external_id, lead_id in ids:
                for kind, at in kept[external_id]:
                    copy.write_row((lead_id, kind, at))
                    stored_events += 1
        cursor.execute(f"ANALYZE {Lead._meta.db_table}")
        cursor.execute(f"ANALYZE {table}")
    return leads, stored_events
