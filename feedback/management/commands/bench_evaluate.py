from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from definitions import rules
from definitions.models import Version, Workshop
from definitions.versions.services import version_publish_document
from definitions.workshops.services import workshop_create
from feedback.backtests import services as backtest_services
from feedback.bench.data import load_generated
from feedback.models import EvaluationRun, Lead, LeadActivity, RunState, WorkerHeartbeat
from leadworkshop.celery import app

ROOT = Path(__file__).resolve().parents[3]


class Command(BaseCommand):
    help = (
        "Generate --leads leads with about --events activities (seeded), start --workers "
        "Celery worker processes and backtest the articles' worked example through the "
        "real task path. The last line is a JSON object "
        '{"leads", "events", "seconds", "leads_per_s", "peak_mem_mb"}: seconds from '
        "the start of the run to done, and the largest peak resident memory of any "
        "worker process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--events", type=int, default=5_000_000)
        parser.add_argument("--workers", type=int, default=2, help="worker processes")
        parser.add_argument(
            "--workshop", help="reuse this bench workshop's data instead of generating it"
        )
        parser.add_argument("--keep", action="store_true", help="keep the bench workshop")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["leads"] < 1 or options["events"] < 0 or options["workers"] < 1:
            raise CommandError("--leads and --workers must be at least 1.", returncode=2)
        user, _created = get_user_model().objects.get_or_create(username="bench")
        workshop, events = self._workshop(user, options)
        version = Version.objects.filter(workshop=workshop).order_by("-number").first()
        if version is None:
            version = version_publish_document(
                actor=user, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
            )
        queue = f"bench-{os.getpid()}-{int(time.time())}"
        worker = self._start_worker(queue, options["workers"])
        try:
            app.conf.task_default_queue = queue
            app.conf.task_always_eager = False
            started = time.perf_counter()
            with transaction.atomic():
                run = backtest_services.backtest_start(
                    actor=user, workshop=workshop, version=version, reuse=False
                )
            peak = self._wait(run, worker, started)
            seconds = time.perf_counter() - started
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        run.refresh_from_db()
        leads = run.leads_done
        self.stderr.write(f"database: {connection.vendor}; stages: {run.stage_counts}")
        self.stdout.write(
            json.dumps(
                {
                    "leads": leads,
                    "events": events,
                    "seconds": round(seconds, 2),
                    "leads_per_s": round(leads / seconds),
                    "peak_mem_mb": round(peak, 1),
                }
            )
        )
        if not options["keep"] and not options["workshop"]:
            _drop(workshop)

    def _workshop(self, user: Any, options: dict[str, Any]) -> tuple[Workshop, int]:

        if options["workshop"]:
            workshop = Workshop.objects.filter(slug=options["workshop"]).first()
            if workshop is None:
                raise CommandError(f"No workshop {options['workshop']!r}.", returncode=2)
            events = LeadActivity.objects.filter(lead__workshop=workshop).count()
            return workshop, events
        slug = f"bench-eval-{int(time.time())}"
        workshop = workshop_create(actor=user, name=f"Backtest benchmark {slug}", slug=slug)
        self.stderr.write(f"Generating {options['leads']:,} leads into workshop {slug} …")
        leads, events = load_generated(workshop.pk, options["leads"], options["events"])
        self.stderr.write(f"{leads:,} leads and {events:,} activities stored.")
        return workshop, events

    def _start_worker(self, queue: str, processes: int) -> subprocess.Popen[bytes]:
        db = connection.settings_dict
        env = {**os.environ, "CELERY_TASK_DEFAULT_QUEUE": queue}
        if db["ENGINE"].endswith("postgresql"):
            env["DATABASE_URL"] = (
                f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
                f"{db['PORT'] or 5432}/{db['NAME']}"
            )
        hostname = f"{queue}@bench"
        worker = subprocess.Popen(  # noqa: S603 (our own interpreter and fixed arguments)
            [sys.executable, "-m", "celery", "-A", "leadworkshop", "worker",
             f"--concurrency={processes}", "--pool=prefork", "--loglevel=WARNING",
             "--without-mingle", "--without-gossip", f"--hostname={hostname}", "-Q", queue],
            cwd=ROOT, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not WorkerHeartbeat.objects.filter(hostname=hostname).exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise CommandError("The Celery worker did not start.")
            time.sleep(0.2)
        return worker

    def _wait(self, run: EvaluationRun, worker: subprocess.Popen[bytes], started: float) -> float:
        peak = 0.0
        last = -1
        deadline = time.monotonic() + settings.BACKTEST_TIMEOUT_SECONDS
        while True:
            peak = max(peak, _peak_mb(worker.pid))
            state, done, total = EvaluationRun.objects.filter(pk=run.pk).values_list(
                "state", "leads_done", "leads_total"
            )[0]
            if done != last:
                self.stderr.write(
                    f"{done:,} of {total:,} leads  {time.perf_counter() - started:6.1f} s"
                )
                last = done
            if state not in (RunState.QUEUED, RunState.RUNNING):
                break
            if worker.poll() is not None or time.monotonic() > deadline:
                raise CommandError("The worker stopped or the run timed out.")
            time.sleep(0.05)
        if state != RunState.DONE:
            run.refresh_from_db()
            raise CommandError(f"The backtest ended {state}: {run.message}")
        return max(peak, _peak_mb(worker.pid))


def _peak_mb(pid: int) -> float:
    """The largest peak resident set (VmHWM) of the worker and its pool processes."""
    best = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return best


def _drop(workshop: Workshop) -> None:
    # In SQL: the ORM's cascade would fetch millions of ids first.
    with connection.cursor() as cursor:
        for sql in (
            "DELETE FROM feedback_leadresult WHERE run_id IN"
            " (SELECT id FROM feedback_evaluationrun WHERE workshop_id = %s)",
            "DELETE FROM feedback_leadactivity WHERE lead_id IN"
            " (SELECT id FROM feedback_lead WHERE workshop_id = %s)",
            "DELETE FROM feedback_lead WHERE workshop_id = %s",
        ):
            cursor.execute(sql, [workshop.pk])
    assert not Lead.objects.filter(workshop=workshop).exists()
    Workshop.objects.filter(pk=workshop.pk).delete()
