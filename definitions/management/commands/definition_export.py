from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from definitions import rules
from definitions.catalog.selectors import catalog_for
from definitions.models import Proposal, Version, Workshop
from definitions.versions.exports import to_json_text, to_markdown


class Command(BaseCommand):
    help = "Write a workshop's definition (current version by default) to stdout."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # --version selects a definition version here; it replaces Django's banner option.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", required=True, help="workshop slug")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--version", type=int, help="version number (default: current)")
        which.add_argument("--draft", type=int, help="draft (proposal) id")
        parser.add_argument("--format", choices=["json", "md"], default="json")
        parser.add_argument("--language", default="en", help="language of the Markdown text")

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = Workshop.objects.filter(slug=options["workshop"]).first()
        if workshop is None:
            raise CommandError(f"No workshop with slug {options['workshop']!r}.", returncode=2)
        title: str
        if options["draft"] is not None:
            proposal = Proposal.objects.filter(workshop=workshop, pk=options["draft"]).first()
            if proposal is None:
                raise CommandError(f"No draft {options['draft']} in {workshop.slug}.", returncode=2)
            document, title = proposal.document, proposal.title
        else:
            versions = Version.objects.filter(workshop=workshop).order_by("-number")
            if options["version"] is not None:
                versions = versions.filter(number=options["version"])
            version = versions.first()
            if version is None:
                raise CommandError(f"No such version in {workshop.slug}.", returncode=2)
            document, title = version.document, f"{workshop.name} v{version.number}"
        if options["format"] == "json":
            self.stdout.write(to_json_text(document), ending="")
            return
        with translation.override(options["language"]):
            catalog = catalog_for(workshop)
            definition = rules.parse(document, catalog).definition
            if definition is None:
                raise CommandError("The stored document does not validate.", returncode=2)
            self.stdout.write(to_markdown(definition, catalog, title=title), ending="")
