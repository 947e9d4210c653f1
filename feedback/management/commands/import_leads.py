from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from definitions.models import Membership, Workshop
from definitions.roles import Role
from feedback.imports import limits
from feedback.imports import mapping as import_mapping
from feedback.imports import read as tabular
from feedback.imports import run as import_run
from feedback.imports import services as import_services
from feedback.models import ImportJob, ImportKind, ImportState


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file of leads (or activities) with a mapping file "
        "(docs/import-mapping.md); without --mapping, with the mapping saved for files "
        "with this header, else the suggested one (CRM presets), printed as JSON first. "
        "--dry-run prints that mapping and imports nothing. Prints progress; the last "
        "line is a JSON object "
        '{"imported": n, "updated": n, "unchanged": n, "errors": n}. Exits 0 when every '
        "row was imported, 3 when some rows were rejected (the error report's path is "
        "printed), 2 for unusable input (nothing imported)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", required=True, help="workshop slug")
        parser.add_argument(
            "--mapping", help="mapping JSON file (default: the saved or suggested mapping)"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print the mapping that would be used (checked) and import nothing",
        )
        parser.add_argument("--kind", choices=ImportKind.values, default=ImportKind.LEADS)
        parser.add_argument("file", help="CSV or XLSX file")

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = Workshop.objects.filter(slug=options["workshop"]).first()
        if workshop is None:
            raise CommandError(f"No workshop with slug {options['workshop']!r}.", returncode=2)
        admin = Membership.objects.filter(workshop=workshop, role=Role.ADMIN).first()
        if admin is None:
            raise CommandError("The workshop has no admin to act as.", returncode=2)
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}", returncode=2)
        mapping: dict[str, Any] | None = None
        if options["mapping"]:
            try:
                mapping = json.loads(Path(options["mapping"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot read the mapping: {exc}", returncode=2) from None
        if options["dry_run"]:
            self._dry_run(workshop, path, options["kind"], mapping)
            return
        try:
            with path.open("rb") as handle:
                job, shape = import_services.import_upload(
                    actor=admin.user,
                    workshop=workshop,
                    upload=File(handle, name=path.name),
                    kind=options["kind"],
                )
            if mapping is None:
                mapping = import_mapping.suggested_mapping(job, shape)
                self.stdout.write(json.dumps(mapping, indent=2, ensure_ascii=False))
            for line in import_mapping.unmapped_lines(job, shape, mapping):
                self.stderr.write(line)
            import_services.import_start(actor=admin.user, job=job, mapping=mapping, enqueue=False)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages), returncode=2) from None
        size = max(job.size, 1)

        def progress(rows: int, done_bytes: int, errors: int) -> None:
            # Rows are checked once all are read: no error count to show before that.
            self.stderr.write(f"{100 * done_bytes // size:3d}%  {rows:,} rows read")

        job = import_run.import_run(job.pk, on_progress=progress)
        self.stdout.write(
            json.dumps(
                {
                    "imported": job.imported,
                    "updated": job.updated,
                    "unchanged": job.unchanged,
                    "errors": job.errors,
                }
            )
        )
        if job.state != ImportState.DONE:
            raise CommandError(job.message or job.get_state_display(), returncode=2)
        if job.warnings:
            self.stderr.write(
                f"{job.warnings} cells could not be read and were left empty (see the report)."
            )
        if job.verdicts:
            self.stderr.write(f"{job.verdicts} leads' imported sales verdicts given or changed.")
        if job.errors:
            report = Path(settings.VAR_DIR) / "reports" / f"import-{job.pk}-errors.csv"
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(job.error_report, encoding="utf-8")
            self.stderr.write(f"{job.errors} rows rejected; the report: {report}")
            sys.exit(3)

    def _dry_run(
        self, workshop: Workshop, path: Path, kind: str, mapping: dict[str, Any] | None
    ) -> None:
        """The mapping an import would use, checked against the file; nothing stored."""
        try:
            shape = tabular.preview(path)
        except limits.TabularError as exc:
            raise CommandError(str(exc), returncode=2) from None
        job = ImportJob(workshop=workshop, kind=kind, headers=[c.name for c in shape.columns])
        if mapping is None:
            mapping = import_mapping.suggested_mapping(job, shape)
        try:
            import_mapping.compile_plan(job, mapping)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages), returncode=2) from None
        for line in import_mapping.unmapped_lines(job, shape, mapping):
            self.stderr.write(line)
        self.stdout.write(json.dumps(mapping, indent=2, ensure_ascii=False))
