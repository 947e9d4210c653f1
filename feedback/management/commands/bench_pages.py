from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from definitions.models import Proposal
from feedback.bench.page_timing import admin_client, median_ms
from feedback.models import LeadFeedback, LeadResult
from feedback.verdicts.selectors import queue_run


class Command(BaseCommand):
    help = (
        "Time the pages whose cost could grow with a workshop's history (the whole "
        "request, one at a time): the workshop home, the accuracy page, the triage "
        "queue, a proposal page and a lead page, acting as the workshop's first admin. "
        'The last line is a JSON object {"verdicts", "pages": {name: median ms}, '
        '"worst_ms"}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", required=True, help="workshop slug")
        parser.add_argument("--repeat", type=int, default=15)

    def handle(self, *args: Any, **options: Any) -> None:
        workshop, client = admin_client(options["workshop"])
        _version, run = queue_run(workshop)
        if run is None:
            raise CommandError("The workshop has no backtested version.", returncode=2)
        slug = workshop.slug
        lead = LeadResult.objects.filter(run=run, qualified=True).values("lead_id")[:1]
        pages = {
            "workshop home": (reverse("definitions:workshop_home", args=[slug]), {}),
            "accuracy": (reverse("feedback:accuracy", args=[slug]), {}),
            "queue": (reverse("feedback:feedback_queue", args=[slug]), {}),
            "queue page 30": (reverse("feedback:feedback_queue", args=[slug]), {"page": "30"}),
            "lead page": (reverse("feedback:lead_detail", args=[slug, lead[0]["lead_id"]]), {}),
        }
        proposal = Proposal.objects.filter(workshop=workshop).order_by("-pk").first()
        if proposal is not None:
            pages["proposal page"] = (
                reverse("definitions:proposal_detail", args=[slug, proposal.pk]),
                {},
            )
        results = median_ms(client, pages, options["repeat"], self.stderr.write)
        verdicts = LeadFeedback.objects.filter(workshop=workshop, superseded_at__isnull=True)
        self.stdout.write(
            json.dumps(
                {
                    "verdicts": verdicts.count(),
                    "pages": results,
                    "worst_ms": max(results.values()),
                }
            )
        )
