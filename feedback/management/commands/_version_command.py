"""What `evaluate` and `accuracy` share: --workshop SLUG and --version N (default: the
current version), resolved with a clear message when either does not exist. The
leading underscore keeps Django from listing this module as a command."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from definitions.models import Version, Workshop


class VersionCommand(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # "--version N" is these commands' own option; Django's --version (its release)
        # gives way.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", required=True, help="the workshop's short name")
        parser.add_argument("--version", type=int, help="version number (default: current)")

    def workshop_and_version(self, options: dict[str, Any]) -> tuple[Workshop, Version]:
        workshop = Workshop.objects.filter(slug=options["workshop"]).first()
        if workshop is None:
            raise CommandError(f"No workshop {options['workshop']!r}.", returncode=2)
        versions = Version.objects.filter(workshop=workshop).order_by("-number")
        if options["version"] is not None:
            versions = versions.filter(number=options["version"])
        version = versions.first()
        if version is None:
            raise CommandError("That workshop has no such version.", returncode=2)
        return workshop, version
