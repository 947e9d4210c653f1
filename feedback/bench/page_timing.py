"""Whole-request page timings for the bench commands (bench_lead_list, bench_pages):
one request at a time through Django's test client, medians of a few."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from django.core.management.base import CommandError
from django.test import Client

from definitions.models import Membership, Workshop
from definitions.roles import Role


def admin_client(slug: str) -> tuple[Workshop, Client]:
    """The workshop, and a client logged in as its first admin (who may see every
    page); a missing workshop or admin stops the command with a message."""
    workshop = Workshop.objects.filter(slug=slug).first()
    if workshop is None:
        raise CommandError(f"No workshop {slug!r}.", returncode=2)
    admin = Membership.objects.filter(workshop=workshop, role=Role.ADMIN).first()
    if admin is None:
        raise CommandError("The workshop has no admin to act as.", returncode=2)
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin.user)
    return workshop, client


# name → (URL, query parameters)
Pages = dict[str, tuple[str, dict[str, str]]]


def median_ms(
    client: Client, pages: Pages, repeat: int, say: Callable[[str], None]
) -> dict[str, float]:
    """The median time of each page over ``repeat`` requests; any answer but 200 stops."""
    results: dict[str, float] = {}
    for name, (url, params) in pages.items():
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise CommandError(f"{name}: HTTP {response.status_code}")
        results[name] = round(statistics.median(times), 1)
        say(f"{name:24s} {results[name]:8.1f} ms")
    return results
