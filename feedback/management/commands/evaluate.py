from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import CommandError

from feedback.backtests import services as backtest_services
from feedback.management.commands._version_command import VersionCommand
from feedback.models import EvaluationRun, RunState


class Command(VersionCommand):
    drafts = True
    help = (
        "Backtest a version (or, with --draft ID, a draft) of a workshop's definition "
        "against all its leads, in this "
        "process, printing progress. The last line is a JSON object "
        '{"run", "leads", "qualified", "junk", "mql", "sql", "seconds"}.'
    )

    def handle(self, *args: Any, **options: Any) -> None:
        workshop, version, draft = self.workshop_and_subject(options)
        started = time.perf_counter()
        # A fresh run every time: the command exists to measure and to refresh.
        run = backtest_services.backtest_start(
            actor=None,
            workshop=workshop,
            version=version,
            proposal=draft,
            enqueue=False,
            reuse=False,
        )

        def progress(current: EvaluationRun) -> None:
            total = max(current.leads_total, 1)
            self.stderr.write(
                f"{100 * current.leads_done // total:3d}%  {current.leads_done:,} of "
                f"{current.leads_total:,} leads  {time.perf_counter() - started:6.1f} s"
            )

        try:
            run = backtest_services.backtest_run_inline(run, on_progress=progress)
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
