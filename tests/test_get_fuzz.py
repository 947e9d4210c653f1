"""Every GET view, property-tested with hostile query strings: never a 500.

The views are enumerated from the URL resolver, so a new URL pattern is walked without
anyone adding it here; a pattern whose path arguments this file cannot fill fails
`test_every_url_pattern_can_be_filled_with_a_real_object` instead of being skipped.
Path arguments are real objects of one seeded workshop (its slug, a published version's
number, an open proposal, a draft, a lead, an import, a backtest run, …) and the
workshop's admin is logged in, so each view gets past its access check and really reads
the query string. NUL bytes and out-of-range numbers only fail on PostgreSQL, so run
this file there too (CI does):
DATABASE_URL=postgres://… pytest tests/test_get_fuzz.py
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from api import services as api_services
from definitions.catalog import services as catalog_services
from definitions.models import Membership, Workshop
from feedback.models import Lead
from tests.test_permissions import make_objects

FUZZ = settings(
    max_examples=int(os.environ.get("GET_FUZZ_EXAMPLES", "20")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# The query keys the views read (grep request.GET in the views), and a few they don't.
KEYS = (
    "page", "q", "field", "value", "sort", "state", "reply_to", "about", "v", "d", "a", "b",
    "version", "show", "stage", "source", "result", "change", "criterion", "next", "run",
    "status", "mine", "order", "format", "language", "f_shoe",
)  # fmt: skip

HOSTILE = (
    "", " ", "0", "1", "2", "-1", "-0", "+1", "1.5", "1,000", "007",
    "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "1000000000000000000", "1" * 40, "9" * 5000, "1e308", "1e400", "-1e400", "nan", "inf",
    "²", "١٢", "\uff11\uff12", "Ⅻ", "\x00", "a\x00b", "\x01\x1f\x7f", "\ud800", "x\udfffy",
    "x" * 10_000, "é" * 10_000, "2024-02-30", "2024-02-29", "0001-01-01", "9999-12-31",
    "true", "yes", "no", "on", "%", "_", "'", '"', "\\", "<script>", "../", "//evil.example",
    "shoe", "annual_revenue", "employees", "company", "created_at", "converted", "source",
    "industry", "json", "md", "csv", "qualified", "junk", "sql", "mql", "lead", "mine", "all",
    "unreviewed", "reviewed", "newest", "revenue", "draft", "open", "accepted", "revenue",
)  # fmt: skip


# Every key at once with each of these values, before the random examples: the
# findings that must never come back, whatever Hypothesis draws. Each value goes with
# one filter field (the lead list's `field`), or with each of FILTER_FIELDS: a built-in
# text, a custom text, a custom number, a built-in number and a built-in date field.
CORE = (
    ("1000000000000000000", "company"), ("-9223372036854775809", "shoe"),
    ("\ud800", "motto"), ("x" * 10_000, "company"), ("²", "annual_revenue"),
    ("0001-01-01", "created_at"), ("9999-12-31", "created_at"), ("a\x00b", "created_at"),
)  # fmt: skip
CORE_FILTER = ("\x00", "9" * 5000, "1e400", "nan")
FILTER_FIELDS = ("company", "motto", "shoe", "annual_revenue", "created_at")


def core_examples() -> list[list[tuple[str, str]]]:
    every_key = [k for k in KEYS if k != "field"]
    pairs = [*CORE, *((v, f) for v in CORE_FILTER for f in FILTER_FIELDS)]
    return [[(k, value) for k in every_key] + [("field", field)] for value, field in pairs]


def values(real: list[str]) -> st.SearchStrategy[str]:
    return (
        st.sampled_from(HOSTILE)
        | st.sampled_from(real)
        | st.integers(min_value=-(10**25), max_value=10**25).map(str)
        | st.text(max_size=12)
        | st.text(st.characters(categories=["Cs", "Cc", "Co", "Zs"]), max_size=4)
    )


def encode(text: str) -> str:
    """Percent-encode as UTF-8, lone surrogates included (as their CESU bytes, which a
    browser never sends but an attacker can): Django decodes them as U+FFFD."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def query_string(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)


@dataclass(frozen=True)
class Target:
    name: str
    route: str
    arguments: tuple[str, ...]


def targets(resolver: URLResolver | None = None, ns: str = "", route: str = "") -> Iterator[Target]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # Django's own admin: staff only, not ours to fuzz
            inner = f"{ns}{entry.namespace}:" if entry.namespace else ns
            yield from targets(entry, inner, route + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            arguments = tuple(re.findall(r"<(?:\w+:)?(\w+)>", str(entry.pattern)))
            yield Target(ns + (entry.name or ""), route + str(entry.pattern), arguments)


TARGETS = list(targets())

# Which real object fills which path argument (several: each is walked).
FILLERS: dict[str, tuple[str, ...]] = {
    "slug": ("slug",),
    "membership_id": ("membership_id",),
    "proposal_id": ("proposal_id", "draft_id"),
    "number": ("number",),
    "fmt": ("fmt", "md"),
    "entry_id": ("field_id", "kind_id"),
    "comment_id": ("comment_id",),
    "criterion_id": ("criterion_id",),
    "amendment_id": ("amendment_id",),
    "run_id": ("run_id",),
    "discovery_id": ("discovery_id",),
    "shadow_id": ("shadow_id",),
    "lead_id": ("lead_id",),
    "job_id": ("job_id",),
    "key_id": ("key_id",),
    "endpoint_id": ("endpoint_id",),
    "external_id": ("external_id",),
    "invitation_id": ("invitation_id",),
    "token": ("invite_token",),
}


def test_every_url_pattern_can_be_filled_with_a_real_object() -> None:
    unfilled = {
        f"{t.name or t.route}: <{a}>" for t in TARGETS for a in t.arguments if a not in FILLERS
    }
    assert not unfilled, f"add a real object for these to FILLERS: {sorted(unfilled)}"
    assert all(t.name for t in TARGETS), "an unnamed URL pattern cannot be reversed"
    assert len(TARGETS) > 50  # the walk found the app's URLs, not an empty resolver


def _invitation_token(body: str) -> str:
    found = re.search(r"/invitations/link/([\w-]+)/", body)
    assert found, "the invitation e-mail has no link"
    return found.group(1)


@pytest.fixture
def seeded(
    admin: Any, workshop: Workshop, viewer: Any, django_capture_on_commit_callbacks: Any
) -> dict[str, Any]:
    with django_capture_on_commit_callbacks(execute=True):  # the invitation e-mail
        objects = make_objects(admin, workshop)
    for n in range(3):
        Lead.objects.create(
            workshop=workshop,
            external_id=f"p{n}",
            name=f"Page {n}",
            annual_revenue=10.0**n,
            custom={"shoe": n},
        )
    catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="motto",
        label="Motto",
        type="text",
        category="firmographic",
    )
    _key, token = api_services.api_key_create(actor=admin, workshop=workshop, name="Fuzz")
    return {
        **objects,
        "slug": workshop.slug,
        "md": "md",
        "external_id": "x1",
        # The e-mailed link of make_objects' invitation (only its hash is stored).
        "invite_token": _invitation_token(str(mail.outbox[-1].body)),
        "membership_id": Membership.objects.get(workshop=workshop, user=viewer).pk,
        "token": token,
    }


def urls_of(target: Target, seeded: dict[str, Any]) -> list[str]:
    """The target's URL once per filler of its path arguments (no combinations: each
    argument's alternatives are walked with the others at their first filler)."""
    first = {a: seeded[FILLERS[a][0]] for a in target.arguments}
    urls = [reverse(target.name, kwargs=first)]
    for argument in target.arguments:
        for other in FILLERS[argument][1:]:
            urls.append(reverse(target.name, kwargs={**first, argument: seeded[other]}))
    return urls


def walk(client: Client, url: str, headers: dict[str, str], real: list[str]) -> None:
    """The core examples, then Hypothesis's, against one URL."""

    @FUZZ
    @given(
        pairs=st.lists(
            st.tuples(st.sampled_from(KEYS) | st.text(max_size=6), values(real)), max_size=6
        )
    )
    def one(pairs: list[tuple[str, str]]) -> None:
        response = client.get(f"{url}?{query_string(pairs)}", headers=headers)
        assert response.status_code < 500, (url, [(k, v[:40]) for k, v in pairs])

    for pairs in core_examples():
        one = example(pairs=pairs)(one)
    one()


@pytest.mark.django_db
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_no_query_string_makes_a_get_view_fail(
    target: Target, admin: Any, seeded: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(admin)
    api = target.name.startswith("api-v1:")
    headers = {"Authorization": f"Bearer {seeded['token']}"} if api else {}
    real = [str(v) for k, v in seeded.items() if k != "token"]
    for url in urls_of(target, seeded):
        plain = client.get(url, headers=headers)
        assert plain.status_code < 500, url
        if plain.status_code != 405:  # a POST-only view reads no query string
            walk(client, url, headers, real)
