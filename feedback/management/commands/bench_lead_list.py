from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from feedback.bench.page_timing import admin_client, median_ms
from feedback.models import Lead


class Command(BaseCommand):
    help = (
        "Time the lead list of a workshop (the whole request: view, queries, template) "
        "for the default page, every sort, a deep page, searches and filters. The last "
        'line is a JSON object {"leads", "pages": {name: median ms}, "worst_ms"}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", required=True, help="workshop slug")
        parser.add_argument("--repeat", type=int, default=5)

    def handle(self, *args: Any, **options: Any) -> None:
        workshop, client = admin_client(options["workshop"])
        sample = Lead.objects.filter(workshop=workshop).order_by("id").first()
        if sample is None:
            raise CommandError("The workshop has no leads.", returncode=2)
        url = reverse("feedback:lead_list", args=[workshop.slug])
        company_word = (sample.company or "x").split()[0]
        pages = {
            name: (url, params)
            for name, params in {
                "first page": {},
                "page 200": {"page": "200"},
                "sort created": {"sort": "created"},
                "sort company": {"sort": "company"},
                "sort revenue": {"sort": "revenue"},
                "search common word": {"q": company_word},
                "search one e-mail": {"q": sample.email or sample.external_id},
                "search nothing matches": {"q": "zzqxj"},
                "filter country": {"field": "country", "value": sample.country or "US"},
                "filter rare value": {"field": "industry", "value": "no such industry"},
            }.items()
        }
        results = median_ms(client, pages, options["repeat"], self.stderr.write)
        total = Lead.objects.filter(workshop=workshop).count()
        self.stdout.write(
            json.dumps({"leads": total, "pages": results, "worst_ms": max(results.values())})
        )
