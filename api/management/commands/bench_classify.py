from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client

from api.services import api_key_create
from definitions import rules
from definitions.authoring.services import proposal_create
from definitions.models import Version, Workshop
from definitions.versions.services import version_publish_document
from definitions.workshops.services import workshop_create
from feedback.shadows import services as shadow_services
from feedback.shadows.services import MAX_RUNNING, running, shadow_start, shadow_stop


class Command(BaseCommand):
    help = (
        "Time --requests calls of POST /api/v1/workshops/{slug}/classify through the whole "
        "Django stack (middleware, API key, validation, evaluation) with one lead of "
        "realistic fields and activities, with --shadows proposals (0 to 3) running in "
        "shadow. The last line is a JSON object "
        '{"requests", "shadows", "p50_ms", "p95_ms", "p99_ms", "max_ms", "shadow_p50_ms", '
        '"shadow_p95_ms"} (the last two: the time spent on the shadows within each request).'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=2000)
        parser.add_argument(
            "--shadows",
            type=int,
            default=0,
            help="How many proposals run in shadow while it measures (0 to 3).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["requests"] < 20:
            raise CommandError("--requests must be at least 20.", returncode=2)
        if not 0 <= options["shadows"] <= MAX_RUNNING:
            raise CommandError(f"--shadows must be 0 to {MAX_RUNNING}.", returncode=2)
        user, _created = get_user_model().objects.get_or_create(username="bench")
        workshop = Workshop.objects.filter(slug="bench-classify").first()
        if workshop is None:
            workshop = workshop_create(actor=user, name="Classify benchmark", slug="bench-classify")
        if not Version.objects.filter(workshop=workshop).exists():
            version_publish_document(
                actor=user, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
            )
        self._shadows(user, workshop, options["shadows"])
        _key, token = api_key_create(actor=user, workshop=workshop, name="bench")
        now = datetime.now(tz=UTC)
        body = json.dumps(
            {
                "source": "webinar",
                "channel": "event",
                "company": "Helix Labs",
                "industry": "Life Science",
                "country": "US",
                "annual_revenue": 420_000_000,
                "employees": 1800,
                "job_title": "VP Quality",
                "seniority": "vp",
                "email_domain_kind": "business",
                "activities": [
                    {"kind": kind, "at": (now - timedelta(hours=h)).isoformat()}
                    for h, kind in enumerate(
                        ["product_page_view"] * 6 + ["high_value_download", "demo_request"]
                    )
                ],
            }
        )
        # The shadows' own part of each request (finding the running ones, judging, keeping
        # the probes), timed where it happens: on a shared machine the difference of two
        # whole-request percentiles is mostly noise.
        shadow_ms: list[float] = []
        original = shadow_services.shadows_probe

        def timed(**kwargs: Any) -> int:
            started = time.perf_counter()
            try:
                return original(**kwargs)
            finally:
                shadow_ms.append((time.perf_counter() - started) * 1000)

        shadow_services.shadows_probe = timed
        client = Client(headers={"Authorization": f"Bearer {token}"})
        url = f"/api/v1/workshops/{workshop.slug}/classify"
        timings: list[float] = []
        for index in range(options["requests"] + 20):
            started = time.perf_counter()
            response = client.post(url, data=body, content_type="application/json", secure=True)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise CommandError(f"{response.status_code}: {response.content[:300]!r}")
            if index >= 20:  # the first calls warm caches and imports
                timings.append(elapsed)
        shadow_services.shadows_probe = original
        cuts = statistics.quantiles(timings, n=100)
        shadow_cuts = statistics.quantiles(shadow_ms[20:], n=100)
        self.stderr.write(f"last answer: {response.json()}")
        self.stdout.write(
            json.dumps(
                {
                    "requests": len(timings),
                    "shadows": options["shadows"],
                    "p50_ms": round(cuts[49], 2),
                    "p95_ms": round(cuts[94], 2),
                    "p99_ms": round(cuts[98], 2),
                    "max_ms": round(max(timings), 2),
                    "shadow_p50_ms": round(shadow_cuts[49], 2),
                    "shadow_p95_ms": round(shadow_cuts[94], 2),
                }
            )
        )

    def _shadows(self, user: Any, workshop: Workshop, count: int) -> None:
        """Exactly ``count`` shadow runs, each a variant of the worked example (another
        MQL threshold), so every call is judged by them too."""
        for shadow in running(workshop.pk):
            shadow_stop(actor=user, shadow=shadow)
        for n in range(count):
            document = json.loads(json.dumps(rules.WORKED_EXAMPLE))
            document["stages"]["mql"] = 30 + 10 * n
            proposal = proposal_create(
                actor=user, workshop=workshop, title=f"Shadow {n + 1}", document=document
            )
            shadow_start(actor=user, proposal=proposal)
