"""A deliberately poor first guess for the generated leads (feedback/leads/generator.py):
it hands sales the free-mail and student addresses, which the generator makes the
least likely to convert, so a search for improvements has real ones to find."""

from __future__ import annotations

from typing import Any

POOR_DEFINITION: dict[str, Any] = {
    "schema_version": 1,
    "rationale": "A first guess: anyone who wrote to us from a personal address.",
    "qualify": {
        "id": "g-root",
        "any": [
            {
                "id": "personal-mail",
                "category": "demographic",
                "field": "email_domain_kind",
                "op": "in",
                "value": ["free", "edu"],
                "points": 10,
            }
        ],
    },
    "disqualify": [],
    "scoring": [],
    "stages": {
        "mql": 0,
        "sql": 100,
        "sales_ready": [
            {
                "id": "demo",
                "category": "behavioural",
                "activity": "demo_request",
                "min_count": 1,
                "window": "ever",
                "points": 0,
            }
        ],
    },
}
