"""manage.py bench_discover: discovery on generated data, timed, in its own process so
its peak memory is discovery's alone (not the generator's)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from definitions import rules
from definitions.models import Version, Workshop
from definitions.versions.services import version_publish_document
from definitions.workshops.services import workshop_create
from feedback.bench.data import load_generated

ROOT = Path(__file__).resolve().parents[3]


class Command(BaseCommand):
    help = (
        "Generate --leads leads with about --events activities (seeded), publish the "
        "articles' worked example and run discovery on it in a child process. The last "
        'line is JSON: {"seconds", "peak_mem_mb", "candidates", "suggestions"}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--events", type=int, default=5_000_000)
        parser.add_argument("--workshop", help="reuse this workshop's leads instead")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["leads"] < 1 or options["events"] < 0:
            raise CommandError("--leads must be at least 1 and --events at least 0.", returncode=2)
        workshop = self._workshop(options)
        version = Version.objects.filter(workshop=workshop).order_by("-number").first()
        if version is None:
            user = workshop.memberships.order_by("id").first()
            version = version_publish_document(
                actor=user.user if user else None,  # type: ignore[arg-type]
                workshop=workshop,
                document=rules.WORKED_EXAMPLE,
                parent=None,
            )
        db = connection.settings_dict
        env_db = (
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
            if db["ENGINE"].endswith("postgresql")
            else ""
        )
        env = {**os.environ, **({"DATABASE_URL": env_db} if env_db else {})}
        started = time.monotonic()
        child = subprocess.run(  # noqa: S603 (our own interpreter and fixed arguments)
            [sys.executable, "manage.py", "suggest", "--workshop", workshop.slug,
             "--version", str(version.number), "--json"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.monotonic() - started
        if child.returncode != 0:
            raise CommandError(child.stderr.strip()[-2000:] or "discovery failed")
        result = json.loads(child.stdout.strip().splitlines()[-1])
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.stdout.write(
            json.dumps(
                {
                    "seconds": round(seconds, 1),
                    "peak_mem_mb": round(peak_kb / 1024, 1),
                    "candidates": result.get("candidates"),
                    "suggestions": len(result["suggestions"]),
                }
            )
        )

    def _workshop(self, options: dict[str, Any]) -> Workshop:
        if options["workshop"]:
            workshop = Workshop.objects.filter(slug=options["workshop"]).first()
            if workshop is None:
                raise CommandError(f"No workshop {options['workshop']!r}.", returncode=2)
            return workshop
        user, _created = get_user_model().objects.get_or_create(username="bench")
        slug = f"bench-discover-{int(time.time())}"
        workshop = workshop_create(actor=user, name=f"Discovery benchmark {slug}", slug=slug)
        self.stderr.write(f"Generating {options['leads']:,} leads into workshop {slug} …")
        load_generated(workshop.pk, options["leads"], options["events"])
        return workshop
