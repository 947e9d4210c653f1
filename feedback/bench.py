"""A realistic CRM export for benchmarks and load tests: the seeded lead generator
written as the kind of CSV a marketing-automation tool produces (its own header names,
"Yes"/"No" flags, thousands separators, an aggregate "Total Visits" column), plus the
mapping that imports it. Written row by row, so millions of rows need no memory."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from feedback.generator import generate

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


def write_csv(path: Path, rows: int, *, seed: int = 7) -> None:
    """Write `rows` generated leads to `path` (UTF-8, comma-separated)."""
    tmp = path.with_suffix(path.suffix + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for lead in generate(rows, seed=seed, id_prefix="P"):
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
