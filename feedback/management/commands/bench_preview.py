"""manage.py bench_preview: the builder's live evidence timed as a user gets it."""

from __future__ import annotations

import copy
import json
import re
import statistics
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.versions.selectors import current_version
from definitions.versions.services import version_publish_document
from definitions.workshops.services import workshop_create
from feedback.accuracy.preview import SAMPLE_LEADS
from feedback.bench.data import load_generated
from feedback.bench.page_timing import admin_client
from feedback.models import Lead

PREVIEW_MS = re.compile(r'data-preview-ms="(\d+)"')


class Command(BaseCommand):
    help = (
        "Open a draft of the current version in the builder --repeat times, each time "
        "after changing it (a revenue bound and the MQL threshold), and time the whole "
        "request: parsing, the definition checks, the live preview against the current "
        "version on the fixed sample, the page. Without --workshop, generates --leads "
        'leads first. The last line is JSON: {"leads", "sample", "p50_ms", "p95_ms", '
        '"preview_p95_ms"}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", help="reuse this workshop's leads (slug)")
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--events", type=int, default=5_000_000)
        parser.add_argument("--repeat", type=int, default=20)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["repeat"] < 1 or options["leads"] < 1:
            raise CommandError("--repeat and --leads must be at least 1.", returncode=2)
        slug = options["workshop"] or self._generate(options)
        workshop, client = admin_client(slug)
        version = current_version(workshop)
        if version is None:
            raise CommandError("The workshop has no published version.", returncode=2)
        actor = get_user_model().objects.get(pk=int(client.session["_auth_user_id"]))
        proposal = authoring_services.proposal_create(
            actor=actor, workshop=workshop, title="bench_preview", parent=version
        )
        url = reverse("definitions:draft_builder", args=[workshop.slug, proposal.pk])
        client.get(
            url, secure=True
        )  # warm: the folded texts, the value ranges, the version's parse
        times: list[float] = []
        preview_times: list[float] = []
        try:
            for i in range(options["repeat"]):
                document = _changed(version.document, i)
                proposal = authoring_services.proposal_save_document(
                    actor=actor, proposal=proposal, document=document,
                    expected_revision=proposal.revision, title=proposal.title,
                )  # fmt: skip
                started = time.perf_counter()
                response = client.get(url, secure=True)
                times.append((time.perf_counter() - started) * 1000)
                # The page says how long its preview took (the client keeps no context
                # outside tests).
                found = PREVIEW_MS.search(response.content.decode())
                if response.status_code != 200 or found is None:
                    raise CommandError(f"request {i}: HTTP {response.status_code}, no preview")
                preview_times.append(float(found.group(1)))
                self.stderr.write(f"{i:3d} {times[-1]:8.1f} ms (preview {found.group(1)} ms)")
        finally:
            proposal.delete()
        self.stdout.write(
            json.dumps(
                {
                    "leads": Lead.objects.filter(workshop=workshop).count(),
                    "sample": min(SAMPLE_LEADS, Lead.objects.filter(workshop=workshop).count()),
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(_p95(times), 1),
                    "preview_p95_ms": round(_p95([float(t) for t in preview_times]), 1),
                }
            )
        )

    def _generate(self, options: dict[str, Any]) -> str:
        user, _created = get_user_model().objects.get_or_create(username="bench")
        slug = f"bench-preview-{int(time.time())}"
        workshop = workshop_create(actor=user, name=f"Preview benchmark {slug}", slug=slug)
        self.stderr.write(f"Generating {options['leads']:,} leads into workshop {slug} …")
        load_generated(workshop.pk, options["leads"], options["events"])
        version_publish_document(
            actor=user, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
        )
        return slug


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _changed(document: Any, i: int) -> Any:
    """The version with the i-th edit: every revenue bound and the MQL threshold moved,
    as someone trying values in the builder would."""
    changed = copy.deepcopy(document)
    stack: list[Any] = [changed]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("field") == "annual_revenue" and isinstance(node.get("value"), int | float):
                node["value"] = int(node["value"] * (0.5 + 0.1 * (i % 10)))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    stages = changed["stages"]
    stages["mql"] = max(0, min(stages["sql"], stages["mql"] + (i % 7) - 3))
    return changed
