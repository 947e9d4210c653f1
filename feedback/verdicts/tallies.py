"""Writes that keep the verdict tallies (models.VerdictTally) equal to counting the
verdicts afresh, so the accuracy pages and the workshop's dashboard read a few hundred
rows per run however many verdicts the reps have given.

Two kinds of write change a tally: a run becoming done (it is counted once, from the
verdicts) and a verdict given or taken back (its lead moves from one group to another
in every done run of the workshop). Both take the workshop's verdict lock first, so
they happen one at a time and never miss each other. Done runs' results never change
(a run is re-run only from failed or cancelled, and then it starts from nothing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction

from definitions.models import Workshop
from feedback.models import EvaluationRun, LeadFeedback, LeadResult, RunState, VerdictTally
from feedback.verdicts.selectors import Group, counted_verdict_groups

# A lead's current verdict: (verdict, reason), or None while nobody has judged it.
Judged = tuple[str, str] | None
# A tally row's group: (run, criterion or "" for all, verdict, reason, qualified, stage).
Key = tuple[int, str, str, str, bool, str]

TALLY = VerdictTally._meta.db_table
# Rows per INSERT: seven parameters each stays under SQLite's oldest limit of 999.
BATCH = 140


def verdicts_lock(workshop_id: int) -> None:
    """Take the workshop's row lock until the transaction ends: every verdict change
    and every run's first count runs under it, one at a time."""
    Workshop.objects.select_for_update(no_key=True).filter(pk=workshop_id).exists()


def current_verdict(lead_id: int) -> Judged:
    """The verdict that counts for the lead: the newest current one of any rep (the
    same rule as accuracy_selectors.counted_verdict_groups)."""
    row = (
        LeadFeedback.objects.filter(lead_id=lead_id, superseded_at__isnull=True)
        .order_by("-id")
        .values_list("verdict", "reason")
        .first()
    )
    return (row[0], row[1]) if row else None


def expand(run_id: int, groups: Iterable[Group]) -> Counter[Key]:
    """The tally rows groups of reviewed leads count in, with how many: the run's
    total, and each criterion they matched."""
    counts: Counter[Key] = Counter()
    for verdict, reason, qualified, stage, matched, n in groups:
        for criterion in ["", *filter(None, (matched or "").split(","))]:
            counts[(run_id, criterion, verdict, reason, qualified, stage)] += n
    return counts


def _add(counts: Counter[Key]) -> None:
    rows = [(*key, n) for key, n in counts.items() if n]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            cursor.execute(
                f"INSERT INTO {TALLY} (run_id, criterion, verdict, reason, qualified, stage, n)"  # noqa: S608
                f" VALUES {', '.join(['(%s, %s, %s, %s, %s, %s, %s)'] * len(batch))}"
                " ON CONFLICT (run_id, criterion, verdict, reason, qualified, stage)"
                f" DO UPDATE SET n = {TALLY}.n + excluded.n",
                [value for row in batch for value in row],
            )


def tally_lead(*, workshop_id: int, lead_id: int, before: Judged, after: Judged) -> None:
    """Move the lead from its groups under ``before`` to those under ``after`` in every
    done run of the workshop that judged it (a lead newer than a run is in none of its
    groups). Call it under verdicts_lock, with the lead's current verdict before and
    after the change."""
    if before == after:
        return
    runs = list(
        EvaluationRun.objects.filter(workshop_id=workshop_id, state=RunState.DONE).values_list(
            "pk", flat=True
        )
    )
    # By primary key (run, lead): the runs first, so no plan can scan the results.
    results = LeadResult.objects.filter(run_id__in=runs, lead_id=lead_id).values_list(
        "run_id", "qualified", "stage", "matched"
    )
    counts: Counter[Key] = Counter()
    for run_id, qualified, stage, matched in results:
        for judged, delta in ((before, -1), (after, 1)):
            if judged is not None:
                counts.update(expand(run_id, [(*judged, qualified, stage, matched, delta)]))
    _add(counts)


def tally_run(run: EvaluationRun) -> None:
    """Count a run from the verdicts, as it becomes done (under verdicts_lock)."""
    VerdictTally.objects.filter(run=run).delete()
    _add(expand(run.pk, counted_verdict_groups(run)))


@transaction.atomic
def tally_workshop(workshop_id: int) -> int:
    """Count every done run of the workshop afresh: after verdicts were written around
    the services (the load test's generated history). Returns how many runs."""
    verdicts_lock(workshop_id)
    runs = list(EvaluationRun.objects.filter(workshop_id=workshop_id, state=RunState.DONE))
    for run in runs:
        tally_run(run)
    return len(runs)


def on_run_done(sender: type, *, run: EvaluationRun, **_: Any) -> None:
    """A run that becomes done is counted against the verdicts at once, under the lock
    every verdict change takes: from then on the verdict services keep its tallies."""
    verdicts_lock(run.workshop_id)
    tally_run(run)
