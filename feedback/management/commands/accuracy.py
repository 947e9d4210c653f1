from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext

from definitions.catalog.selectors import catalog_for
from feedback.accuracy.selectors import accuracy_of
from feedback.backtests.selectors import latest_done_run
from feedback.management.commands._version_command import VersionCommand


class Command(VersionCommand):
    help = (
        "Accuracy of a version's latest finished backtest against outcomes and against "
        'the reps\' verdicts. The last line is a JSON object {"version", "run", "handoff", '
        '"outcomes": {tp, fp, fn, tn, precision, recall, f1, n}, "verdicts": {…}, '
        '"cuts": {"qualified": {"outcomes", "verdicts"}, "mql": {…}, "sql": {…}}}: '
        "the headline at the workshop's handoff stage, and every cut."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        workshop, version = self.workshop_and_version(options)
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
                    "handoff": result.handoff,
                    "outcomes": result.outcomes.as_dict(),
                    "verdicts": result.verdicts.as_dict(),
                    "cuts": {stage: cut.as_dict() for stage, cut in result.cuts.items()},
                }
            )
        )
