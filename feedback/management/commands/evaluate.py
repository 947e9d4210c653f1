from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from definitions.models import Version, Workshop
from feedback import backtest_services as svc
from feedback.models import EvaluationRun, RunState


class Command(BaseCommand):
    help = (
        "Backtest a version of a workshop's definition against all its leads, in this "
        "process, printing progress. The last line is a JSON object "
        '{"run", "leads", "qualified", "junk", "mql", "sql", "seconds"}.'
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # "--version N" is this command's own option; Django's --version (its release)
        # gives way.
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
        started = time.perf_counter()
        # A fresh run every time: the command exists to measure and to refresh.
        run = svc.backtest_start(
            actor=None, workshop=workshop, version=version, enqueue=False, reuse=False
        )

        def progress(current: EvaluationRun) -> None:
            total = max(current.leads_total, 1)
            self.stderr.write(
                f"{100 * current.leads_done // total:3d}%  {current.leads_done:,} of "
                f"{current.leads_total:,} leads  {time.perf_counter() - started:6.1f} s"
            )

        try:
            run = svc.backtest_run_inline(run, on_progress=progress)
        except Exception as error:
            raise CommandError(f"The backtest failed: {error}") from error
        if run.state != RunState.DONE:
            raise CommandError(f"The backtest ended {run.state}: {run.message}")
        counts = run.stage_counts
        self.stdout.write(
            json.dumps(
                {
                    "run": run.pk,
                    "leads": run.leads_done,
                    "qualified": counts.get("qualified", 0),
                    "junk": counts.get("junk", 0),
                    "mql": counts.get("mql", 0),
                    "sql": counts.get("sql", 0),
                    "seconds": round(time.perf_counter() - started, 2),
                }
            )
        )
