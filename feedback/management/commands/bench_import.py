from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from definitions.models import Workshop
from definitions.workshops.services import workshop_create
from feedback.bench import data as bench
from feedback.imports import run as import_run
from feedback.imports import services as import_services
from feedback.models import ImportState


class Command(BaseCommand):
    help = (
        "Import a generated CRM export of --rows leads through the real import path "
        "(upload, mapping, worker run) into a fresh workshop. The last line is a JSON "
        'object {"rows", "seconds", "rows_per_s", "peak_mem_mb", "csv"}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=1_000_000)
        parser.add_argument(
            "--csv", help="where the generated file lives; reused if it exists already"
        )
        parser.add_argument("--keep", action="store_true", help="keep the bench workshop")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = options["rows"]
        if rows < 1:
            raise CommandError("--rows must be at least 1.", returncode=2)
        path = Path(options["csv"] or Path(tempfile.gettempdir()) / f"lw-bench-{rows}.csv")
        if not path.exists():
            self.stderr.write(f"Generating {rows:,} leads into {path} …")
            bench.write_csv(path, rows)
        # A million-lead export is bigger than the web upload limit; the benchmark
        # measures the import, not the limit.
        settings.IMPORT_MAX_BYTES = max(settings.IMPORT_MAX_BYTES, path.stat().st_size + 1)
        user, _created = get_user_model().objects.get_or_create(username="bench")
        slug = f"bench-{int(time.time())}"
        workshop = workshop_create(actor=user, name=f"Import benchmark {slug}", slug=slug)
        try:
            started = time.perf_counter()
            with path.open("rb") as handle:
                job, _shape = import_services.import_upload(
                    actor=user, workshop=workshop, upload=File(handle, name=path.name)
                )
            import_services.import_start(
                actor=user, job=job, mapping=bench.mapping(), enqueue=False
            )
            size = max(job.size, 1)

            def progress(done: int, done_bytes: int, errors: int) -> None:
                elapsed = time.perf_counter() - started
                self.stderr.write(
                    f"{100 * done_bytes // size:3d}%  {done:,} rows  {elapsed:6.1f} s"
                )

            job = import_run.import_run(job.pk, on_progress=progress)
            seconds = time.perf_counter() - started
            if job.state != ImportState.DONE or job.imported != rows:
                raise CommandError(
                    f"The import did not finish cleanly: {job.state}, {job.imported} "
                    f"imported, {job.errors} errors. {job.message}"
                )
            # ru_maxrss is in KiB on Linux: the whole process's high-water mark.
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            self.stderr.write(f"database: {connection.vendor}")
            self.stdout.write(
                json.dumps(
                    {
                        "rows": rows,
                        "seconds": round(seconds, 2),
                        "rows_per_s": round(rows / seconds),
                        "peak_mem_mb": round(peak, 1),
                        "csv": str(path),
                    }
                )
            )
        finally:
            if not options["keep"]:
                # In SQL: the ORM's cascade would fetch a million lead ids first.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "DELETE FROM feedback_leadactivity WHERE lead_id IN"
                        " (SELECT id FROM feedback_lead WHERE workshop_id = %s)",
                        [workshop.pk],
                    )
                    cursor.execute(
                        "DELETE FROM feedback_lead WHERE workshop_id = %s", [workshop.pk]
                    )
                Workshop.objects.filter(pk=workshop.pk).delete()
