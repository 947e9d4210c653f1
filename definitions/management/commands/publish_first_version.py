from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from definitions.catalog import documents
from definitions.management.commands._operator import (
    acting_admin,
    refusals_exit_2,
    workshop_by_slug,
)
from definitions.versions import services as version_services
from definitions.versions.selectors import current_version


class Command(BaseCommand):
    help = (
        "Publish a workshop's first version from a JSON definition file, when it has none "
        "(later versions go through a proposal and its vote). Recorded in the audit log in "
        "the name of the first admin. Prints 'version 1'; exits 2 listing every error (with "
        "its JSON path) on an invalid file, or when a version exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", required=True, help="workshop slug")
        parser.add_argument("--note", default="", help="why (shown in the history)")
        parser.add_argument("file", help="path to the JSON definition")

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = workshop_by_slug(options["workshop"])
        if current_version(workshop) is not None:
            raise CommandError(
                "The workshop already has a published version; propose a change instead.",
                returncode=2,
            )
        path = Path(options["file"])
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.", returncode=2) from None
        try:
            with refusals_exit_2():
                document = documents.load_json_document(raw)
                version = version_services.version_publish_document(
                    actor=acting_admin(workshop),
                    workshop=workshop,
                    document=document,
                    parent=None,
                    note=options["note"] or path.name,
                )
        except documents.DefinitionInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"{error.path or '(document)'}: {error.message}")
            raise CommandError(
                f"{len(exc.errors)} error(s); nothing published.", returncode=2
            ) from None
        self.stdout.write(f"version {version.number}")
