"""A seeded generator of realistic historical leads for Acme Instruments.

Deterministic for a seed, streaming (one lead at a time, so it scales to millions),
and shaped like the source articles: most contacts are not ready to buy, about a
quarter are sales-ready, and buying correlates with the worked example's traits
(life science, large revenue, North America, senior titles, demo/trial requests) —
but not perfectly, so definitions can be measurably better or worse.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

INDUSTRIES = (
    ("Life Science", 18),
    ("Pharmaceuticals", 12),
    ("Food & Beverage", 12),
    ("HVAC", 10),
    ("Semiconductors", 8),
    ("Logistics", 10),
    ("Education", 8),
    ("Government", 6),
    ("Retail", 10),
    ("Agriculture", 6),
)
COUNTRIES = (
    ("US", 36),
    ("CA", 9),
    ("DE", 10),
    ("GB", 9),
    ("FR", 7),
    ("IT", 6),
    ("JP", 7),
    ("BR", 6),
    ("IN", 6),
    ("MX", 4),
)
SOURCES = (
    ("web_form_price_request", 8),
    ("web_form_contact", 14),
    ("white_paper_download", 16),
    ("high_value_white_paper", 6),
    ("webinar", 14),
    ("trusted_referral", 4),
    ("referral", 6),
    ("business_card", 8),
    ("trade_show", 8),
    ("spreadsheet", 6),
    ("chat", 4),
    ("phone_call", 3),
    ("social_media", 3),
)
CHANNELS = (
    ("organic_search", 30),
    ("paid_search", 20),
    ("email", 15),
    ("social", 10),
    ("event", 12),
    ("partner", 5),
    ("direct", 8),
)
SENIORITY = (
    ("intern", 5),
    ("entry", 20),
    ("senior", 25),
    ("manager", 22),
    ("director", 13),
    ("vp", 8),
    ("c_level", 5),
    ("owner", 2),
)
TITLES = {
    "intern": "Lab Intern",
    "entry": "Lab Technician",
    "senior": "Senior Engineer",
    "manager": "Quality Manager",
    "director": "Director of Operations",
    "vp": "VP Manufacturing",
    "c_level": "Chief Operating Officer",
    "owner": "Owner",
}
FIRST = (
    "Anna",
    "Marco",
    "Sofia",
    "Léa",
    "Ren",
    "Yuki",
    "João",
    "Chloé",
    "Luca",
    "Emma",
    "Noah",
    "Hiro",
    "Giulia",
    "Pedro",
    "Camille",
    "Liam",
    "Aiko",
    "Mateo",
    "Sara",
    "Tom",
)
LAST = (
    "Rossi",
    "Silva",
    "Martin",
    "Tanaka",
    "Müller",
    "Smith",
    "Dubois",
    "Sato",
    "Costa",
    "Bianchi",
    "Johnson",
    "Lefèvre",
    "Suzuki",
    "Oliveira",
    "Brown",
    "Ferrari",
    "Kato",
)
COMPANY_PARTS = (
    "Bio",
    "Cryo",
    "Thermo",
    "Hydro",
    "Lab",
    "Pharma",
    "Agri",
    "Nova",
    "Vita",
    "Astra",
    "Delta",
    "Polar",
    "Terra",
    "Omni",
    "Quanta",
)
COMPANY_ENDS = (
    "Systems",
    "Labs",
    "Foods",
    "Solutions",
    "Corp",
    "Group",
    "Industries",
    "Logistics",
    "Sciences",
    "Instruments",
)
FREE_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com")


@dataclass
class GeneratedLead:
    external_id: str
    name: str
    email: str
    fields: dict[str, object]
    activities: list[tuple[str, datetime]] = field(default_factory=list)


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*table, strict=True)
    choice: str = rng.choices(values, weights=weights)[0]
    return choice


def generate(
    count: int, *, seed: int = 42, now: datetime | None = None, id_prefix: str = "L"
) -> Iterator[GeneratedLead]:
    rng = random.Random(seed)
    now = now or datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(count):
        yield _lead(rng, i, now, id_prefix)


def _lead(rng: random.Random, i: int, now: datetime, id_prefix: str) -> GeneratedLead:
    industry = _pick(rng, INDUSTRIES)
    country = _pick(rng, COUNTRIES)
    seniority = _pick(rng, SENIORITY)
    source = _pick(rng, SOURCES)
    kind_roll = rng.random()
    domain_kind = "business" if kind_roll < 0.72 else ("free" if kind_roll < 0.9 else "edu")
    revenue = round(math.exp(rng.gauss(math.log(80e6), 1.6)), -3)
    employees = max(1, int(revenue / rng.uniform(150_000, 400_000)))
    company = (
        f"{rng.choice(COMPANY_PARTS)}{rng.choice(COMPANY_PARTS).lower()} {rng.choice(COMPANY_ENDS)}"
    )
    first, last = rng.choice(FIRST), rng.choice(LAST)
    slug = company.split()[0].lower()
    if domain_kind == "business":
        domain = f"{slug}.example"
    elif domain_kind == "edu":
        domain = f"{slug}-university.example.edu"
    else:
        domain = rng.choice(FREE_DOMAINS)
    created = now - timedelta(days=rng.uniform(1, 730), seconds=rng.uniform(0, 86400))

    # A latent "fit" and "intent" drive behaviour and outcome, so the worked example's
    # traits predict conversion without deciding it.
    fit = 0.0
    fit += 1.2 if industry in ("Life Science", "Pharmaceuticals") else 0.0
    fit += 0.9 if revenue >= 300e6 else (0.3 if revenue >= 50e6 else -0.4)
    fit += 0.5 if country in ("US", "CA") else 0.0
    fit += {"vp": 0.9, "c_level": 1.0, "owner": 0.8, "director": 0.6}.get(seniority, -0.2)
    fit -= 2.5 if domain_kind == "edu" else (0.8 if domain_kind == "free" else 0.0)
    intent = rng.gauss(0.0, 1.0) + (
        0.8 if source in ("web_form_price_request", "trusted_referral") else 0.0
    )

    activities: list[tuple[str, datetime]] = []

    def add(kind: str, n: int, spread_days: float) -> None:
        for _ in range(n):
            moment = created + timedelta(
                days=rng.uniform(0, spread_days), minutes=rng.uniform(0, 600)
            )
            if moment <= now:  # history only: nothing happens after "now"
                activities.append((kind, moment))

    add("page_view", rng.randint(0, 6), 60)
    pages = max(0, int(rng.gauss(1.5 + intent * 1.5, 2)))
    if intent > 0.8 and rng.random() < 0.6:
        # A burst of product pages on one day: "visited at least five product pages".
        day = created + timedelta(days=rng.uniform(0, 30))
        for _ in range(rng.randint(5, 9)):
            moment = day + timedelta(minutes=rng.uniform(0, 300))
            if moment <= now:
                activities.append(("product_page_view", moment))
    else:
        add("product_page_view", pages, 45)
    add("download", rng.randint(0, 2), 60)
    add("high_value_download", max(0, int(rng.gauss(0.3 + intent * 0.6, 0.8))), 60)
    add("email_open", rng.randint(0, 8), 120)
    if source == "webinar" or rng.random() < 0.1:
        add("webinar_attended", 1, 90)
    ready = fit + intent + rng.gauss(0, 0.8) > 1.6  # about a quarter of all leads
    if ready:
        add("demo_request", 1, 40)
        if rng.random() < 0.35:
            add("trial_start", 1, 50)
        if rng.random() < 0.3:
            add("price_request", 1, 50)

    bant_known = ready or rng.random() < 0.25
    score = fit + intent + (1.5 if ready else 0.0) + rng.gauss(0, 1.0)
    converted = score > 3.4
    opportunity = converted or score > 2.6
    fields: dict[str, object] = {
        "source": source,
        "channel": _pick(rng, CHANNELS),
        "company": company,
        "industry": industry,
        "country": country,
        "region": None,
        "employees": float(employees),
        "annual_revenue": float(revenue),
        "email_domain": domain,
        "job_title": TITLES[seniority],
        "seniority": seniority,
        "email_domain_kind": domain_kind,
        "budget": (rng.choice(("confirmed", "planned", "none")) if bant_known else None),
        "authority": (
            (
                "decision_maker"
                if seniority in ("vp", "c_level", "owner", "director")
                else rng.choice(("influencer", "gatekeeper"))
            )
            if bant_known
            else None
        ),
        "need": (
            ("confirmed" if ready else rng.choice(("possible", "none"))) if bant_known else None
        ),
        "timeline_days": (float(rng.choice((30, 60, 90, 180, 365))) if bant_known else None),
        "created_at": created,
        "reached_stage": "customer" if converted else ("opportunity" if opportunity else "lead"),
        "converted": converted,
        "deal_value": float(round(rng.uniform(8_000, 120_000), -2)) if converted else None,
        "closed_at": created + timedelta(days=rng.uniform(20, 120)) if converted else None,
    }
    if fields["closed_at"] is not None and fields["closed_at"] > now:  # type: ignore[operator]
        fields["closed_at"] = now
    # One event of a kind per instant (the activity table's unique key).
    activities = sorted(set(activities))
    return GeneratedLead(
        external_id=f"{id_prefix}{i + 1:07d}",
        name=f"{first} {last}",
        email=f"{first.lower()}.{last.lower()}@{domain}".replace("é", "e")
        .replace("ü", "u")
        .replace("è", "e")
        .replace("ã", "a"),
        fields=fields,
        activities=activities,
    )
