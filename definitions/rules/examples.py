"""Example definitions, in their stored JSON form.

``WORKED_EXAMPLE`` is the articles' worked example (a maker of temperature and
humidity measurement instruments); ``SALES_LEANING_EXAMPLE`` is the stricter variant a
sales team would propose.  Both seed demo workshops and are used in docs and tests.
"""

from __future__ import annotations

from typing import Any

WORKED_EXAMPLE: dict[str, Any] = {
    "schema_version": 1,
    "rationale": (
        "Our lead has three parts: the format (how they reached us), their "
        "characteristics, and their actions. A lead reached us through a price-request "
        "form, a webinar, a high-value white paper or a trusted referral; OR matches our "
        "ideal customer (life science, revenue of at least $300M, headquartered in the "
        "US or Canada, VP or more senior); OR behaved like a buyer (at least five "
        "product pages in one day, or at least two high-value downloads). "
        '"If any combination of these occurs, a lead has been created."\n'
        "We never sell to students. Sales takes a lead once it scores 70 and asks for "
        "a demo, a trial or a price."
    ),
    "qualify": {
        "id": "g-root",
        "any": [
            {
                "id": "g-format",
                "any": [
                    {
                        "id": "format-source",
                        "category": "format",
                        "field": "source",
                        "op": "in",
                        "value": [
                            "web_form_price_request",
                            "webinar",
                            "high_value_white_paper",
                            "trusted_referral",
                        ],
                        "points": 15,
                    }
                ],
            },
            {
                "id": "g-characteristics",
                "all": [
                    {
                        "id": "industry",
                        "category": "firmographic",
                        "field": "industry",
                        "op": "in",
                        "value": ["Life Science"],
                        "points": 10,
                    },
                    {
                        "id": "revenue",
                        "category": "firmographic",
                        "field": "annual_revenue",
                        "op": "gte",
                        "value": 300000000,
                        "points": 10,
                    },
                    {
                        "id": "hq",
                        "category": "firmographic",
                        "field": "country",
                        "op": "in",
                        "value": ["US", "CA"],
                        "points": 5,
                    },
                    {
                        "id": "seniority",
                        "category": "demographic",
                        "field": "seniority",
                        "op": "in",
                        "value": ["vp", "c_level", "owner"],
                        "points": 10,
                    },
                ],
            },
            {
                "id": "g-actions",
                "any": [
                    {
                        "id": "pp5",
                        "category": "behavioural",
                        "activity": "product_page_view",
                        "min_count": 5,
                        "window": "one_day",
                        "points": 20,
                    },
                    {
                        "id": "hv2",
                        "category": "behavioural",
                        "activity": "high_value_download",
                        "min_count": 2,
                        "window": "ever",
                        "points": 20,
                    },
                ],
            },
        ],
    },
    "disqualify": [
        {
            "id": "junk-student-email",
            "category": "demographic",
            "field": "email_domain_kind",
            "op": "eq",
            "value": "edu",
            "points": None,
        },
        {
            "id": "junk-student-title",
            "category": "demographic",
            "field": "job_title",
            "op": "contains",
            "value": "student",
            "points": None,
        },
    ],
    "scoring": [
        {
            "id": "webinar-recent",
            "category": "behavioural",
            "activity": "webinar_attended",
            "min_count": 1,
            "window": "last_days",
            "days": 90,
            "points": 10,
        },
        {
            "id": "free-email",
            "category": "demographic",
            "field": "email_domain_kind",
            "op": "eq",
            "value": "free",
            "points": -10,
        },
    ],
    "stages": {
        "mql": 40,
        "sql": 70,
        "sales_ready": [
            {
                "id": "demo",
                "category": "behavioural",
                "activity": "demo_request",
                "min_count": 1,
                "window": "ever",
                "points": 25,
            },
            {
                "id": "trial",
                "category": "behavioural",
                "activity": "trial_start",
                "min_count": 1,
                "window": "ever",
                "points": 25,
            },
            {
                "id": "price",
                "category": "behavioural",
                "activity": "price_request",
                "min_count": 1,
                "window": "ever",
                "points": 25,
            },
        ],
    },
}

SALES_LEANING_EXAMPLE: dict[str, Any] = {
    "schema_version": 1,
    "rationale": (
        "Sales only wants people ready to buy: the ideal customer profile, confirmed by "
        "a rep on BANT (decision maker, confirmed need, buying within six months), and "
        "a sales-specific action before handover. Free-mail and student contacts are "
        "junk."
    ),
    "qualify": {
        "id": "g-root",
        "all": [
            {
                "id": "g-profile",
                "at_least": 3,
                "of": [
                    {
                        "id": "industry",
                        "category": "firmographic",
                        "field": "industry",
                        "op": "in",
                        "value": ["Life Science", "Pharmaceuticals"],
                        "points": 10,
                    },
                    {
                        "id": "revenue",
                        "category": "firmographic",
                        "field": "annual_revenue",
                        "op": "gte",
                        "value": 500000000,
                        "points": 10,
                    },
                    {
                        "id": "hq",
                        "category": "firmographic",
                        "field": "country",
                        "op": "in",
                        "value": ["US", "CA"],
                        "points": 5,
                    },
                    {
                        "id": "seniority",
                        "category": "demographic",
                        "field": "seniority",
                        "op": "in",
                        "value": ["director", "vp", "c_level", "owner"],
                        "points": 10,
                    },
                ],
            },
            {
                "id": "g-bant",
                "all": [
                    {
                        "id": "authority",
                        "category": "bant",
                        "field": "authority",
                        "op": "eq",
                        "value": "decision_maker",
                        "points": 15,
                    },
                    {
                        "id": "need",
                        "category": "bant",
                        "field": "need",
                        "op": "eq",
                        "value": "confirmed",
                        "points": 15,
                    },
                    {
                        "id": "timeline",
                        "category": "bant",
                        "field": "timeline_days",
                        "op": "lte",
                        "value": 180,
                        "points": 10,
                    },
                ],
            },
        ],
    },
    "disqualify": [
        {
            "id": "junk-free-email",
            "category": "demographic",
            "field": "email_domain_kind",
            "op": "eq",
            "value": "free",
            "points": None,
        },
        {
            "id": "junk-student-email",
            "category": "demographic",
            "field": "email_domain_kind",
            "op": "eq",
            "value": "edu",
            "points": None,
        },
    ],
    "scoring": [
        {
            "id": "budget",
            "category": "bant",
            "field": "budget",
            "op": "in",
            "value": ["confirmed", "planned"],
            "points": 15,
        },
        {
            "id": "pp5-week",
            "category": "behavioural",
            "activity": "product_page_view",
            "min_count": 5,
            "window": "last_days",
            "days": 7,
            "points": 10,
        },
    ],
    "stages": {
        "mql": 60,
        "sql": 90,
        "sales_ready": [
            {
                "id": "demo",
                "category": "behavioural",
                "activity": "demo_request",
                "min_count": 1,
                "window": "last_days",
                "days": 30,
                "points": 20,
            },
            {
                "id": "trial",
                "category": "behavioural",
                "activity": "trial_start",
                "min_count": 1,
                "window": "last_days",
                "days": 30,
                "points": 20,
            },
        ],
    },
}
