from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from definitions.catalog import catalog_for
from definitions.models import Version, Workshop
from feedback.accuracy_selectors import accuracy_of
from feedback.backtest_selectors import latest_done_run


class Command(BaseCommand):
    help = (
        "Accuracy of a version's latest finished backtest against outcomes and against "
        'the reps\' verdicts. The last line is a JSON object {"version", "run", '
        '"outcomes": {tp, fp, fn, tn, precision, recall, f1, n}, "verdicts": {…}}.'
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        # "--version N" is this command's own option; Django's --version gives way.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workshop", required=True, help="the workshop's short name")
        parser.add_argument("--version", type=int, help="version number (default: current)")

    def handle(self, *args: Any, **options: Any) -> None:
        workshop = Workshop.objects.filter(slug=options["workshop"]).first()
        if workshop is None:
            raise CommandError(f"No workshop {options['workshop']!r}.", returncode=2)
        versions = Version.objects.filter(workshop=workshop).order_by("-number")
        if options["version"] is not None:
            versions = versions.filter(number=options["version"])
        version = versions.first()
        if version is None:
            raise CommandError("That workshop has no such version.", returncode=2)
        run = latest_done_run(workshop, version=version)
        if run is None:
            raise CommandError(
                f"v{version.number} has no finished backtest: run "
                f"`python manage.py evaluate --workshop {workshop.slug} "
                f"--version {version.number}` first.",
                returncode=2,
            )
        run.workshop = workshop
        result = accuracy_of(run, catalog_for(workshop), gettext)
        self.stdout.write(
            json.dumps(
                {
                    "version": version.number,
                    "run": run.pk,
                    "outcomes": result.outcomes.as_dict(),
                    "verdicts": result.verdicts.as_dict(),
                }
            )
        )
