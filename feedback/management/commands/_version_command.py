"""What `evaluate`, `accuracy` and `suggest` share: --workshop SLUG and --version N
(default: the current version), or --draft ID where `drafts` is on, resolved with a
clear message when either does not exist. The leading underscore keeps Django from
listing this module as a command."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from definitions.models import Proposal, Version, Workshop
from feedback.models import EvaluationRun, RunState


class VersionCommand(BaseCommand):
    # Whether the command also takes --draft ID (a draft or proposal's current revision).
    drafts = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # "--version N" is these commands' own option; Django's --version (its release)
        # gives way.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", required=True, help="the workshop's short name")
        which = parser.add_mutually_exclusive_group() if self.drafts else parser
        which.add_argument("--version", type=int, help="version number (default: current)")
        if self.drafts:
            which.add_argument(
                "--draft", type=int, help="draft (proposal) id, instead of a version"
            )

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

    def workshop_and_subject(
        self, options: dict[str, Any]
    ) -> tuple[Workshop, Version | None, Proposal | None]:
        """The workshop and either the version or the draft the options name."""
        if options.get("draft") is None:
            workshop, version = self.workshop_and_version(options)
            return workshop, version, None
        found = Workshop.objects.filter(slug=options["workshop"]).first()
        if found is None:
            raise CommandError(f"No workshop {options['workshop']!r}.", returncode=2)
        workshop = found
        draft = Proposal.objects.filter(workshop=workshop, pk=options["draft"]).first()
        if draft is None:
            raise CommandError(f"No draft {options['draft']} in {workshop.slug}.", returncode=2)
        return workshop, None, draft

    def latest_run(
        self, workshop: Workshop, version: Version | None, draft: Proposal | None
    ) -> EvaluationRun | None:
        """The latest finished backtest of the version, or of the draft's current
        revision."""
        runs = EvaluationRun.objects.filter(workshop=workshop, state=RunState.DONE)
        if draft is not None:
            runs = runs.filter(proposal=draft, proposal_revision=draft.revision)
        else:
            runs = runs.filter(version=version)
        return runs.order_by("-id").first()
