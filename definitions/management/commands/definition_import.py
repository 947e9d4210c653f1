from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from definitions.authoring import services as authoring_services
from definitions.catalog import documents
from definitions.models import Membership, Workshop
from definitions.roles import Role


class Command(BaseCommand):
    help = (
        "Create a draft from a JSON definition file. Prints 'draft <id>'; on invalid input "
        "exits 2 with every error on stderr and saves nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", required=True, help="workshop slug")
        parser.add_argument("--title", default="", help="title of the draft (default: file name)")
        parser.add_argument("file", help="path to the JSON file, or - for stdin")

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = Workshop.objects.filter(slug=options["workshop"]).first()
        if workshop is None:
            raise CommandError(f"No workshop with slug {options['workshop']!r}.", returncode=2)
        path = options["file"]
        try:
            raw = self.stdin_bytes() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.", returncode=2) from None
        # The command acts for the workshop's first admin, so the audit log has an actor.
        admin = Membership.objects.filter(workshop=workshop, role=Role.ADMIN).first()
        if admin is None:
            raise CommandError("The workshop has no admin to act as.", returncode=2)
        try:
            proposal = authoring_services.proposal_import(
                actor=admin.user,
                workshop=workshop,
                raw=raw,
                title=options["title"] or Path(path).name,
            )
        except documents.DefinitionInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"{error.path or '(document)'}: {error.message}")
            raise CommandError(
                f"{len(exc.errors)} error(s); nothing saved.", returncode=2
            ) from None
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages), returncode=2) from None
        self.stdout.write(f"draft {proposal.pk}")

    def stdin_bytes(self) -> bytes:
        import sys

        return sys.stdin.buffer.read()
