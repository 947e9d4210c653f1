from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext

from definitions.catalog.selectors import catalog_for
from feedback.accuracy.selectors import accuracy_of
from feedback.management.commands._version_command import VersionCommand


class Command(VersionCommand):
    drafts = True
    help = (
        "Accuracy of a version's (or, with --draft ID, a draft's) latest finished "
        "backtest against outcomes and against the reps' verdicts (--verdicts imported, "
        'app or both). The last line is a JSON object {"version", "draft", "run", "handoff", '
        '"outcomes": {tp, fp, fn, tn, precision, recall, f1, n}, "verdicts": {…}, '
        '"cuts": {"qualified": {"outcomes", "verdicts"}, "mql": {…}, "sql": {…}}}: '
        "the headline at the workshop's handoff stage, and every cut."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--verdicts",
            choices=["both", "imported", "app"],
            default="both",
            help="which verdicts count: imported from a CRM, given in the app, or both",
        )
        parser.add_argument("--json", action="store_true", help="(the output is always JSON)")

    def handle(self, *args: Any, **options: Any) -> None:
        workshop, version, draft = self.workshop_and_subject(options)
        run = self.latest_run(workshop, version, draft)
        if run is None:
            what = (
                f"--draft {draft.pk}"
                if draft is not None
                else f"--version {version.number if version else ''}"
            )
            raise CommandError(
                f"That {'draft' if draft is not None else 'version'} has no finished backtest: "
                f"run `python manage.py evaluate --workshop {workshop.slug} {what}` first.",
                returncode=2,
            )
        run.workshop = workshop
        origin = "" if options["verdicts"] == "both" else options["verdicts"]
        result = accuracy_of(run, catalog_for(workshop), gettext, origin=origin)
        self.stdout.write(
            json.dumps(
                {
                    "version": version.number if version is not None else None,
                    "draft": draft.pk if draft is not None else None,
                    "verdicts_counted": options["verdicts"],
                    "run": run.pk,
                    "handoff": result.handoff,
                    "outcomes": result.outcomes.as_dict(),
                    "verdicts": result.verdicts.as_dict(),
                    "cuts": {stage: cut.as_dict() for stage, cut in result.cuts.items()},
                }
            )
        )
