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
from feedback.models import (
    EvaluationRun,
    LeadFeedback,
    LeadResult,
    RunState,
    VerdictOrigin,
    VerdictTally,
)
from feedback.verdicts.selectors import Group, counted_verdict_groups

# A lead's current verdict: (verdict, reason), or None while nobody has judged it.
Judged = tuple[str, str] | None
# Each run is tallied three times: by the newest verdict of any origin (""), and by
# the newest given in the app and the newest imported, for the accuracy filter.
ORIGINS = ("", VerdictOrigin.APP.value, VerdictOrigin.IMPORTED.value)
# A tally row's group: (run, criterion or "" for all, verdict, reason, qualified, stage).
Key = tuple[int, str, str, str, bool, str]

TALLY = VerdictTally._meta.db_table
# Rows per INSERT: eight parameters each stays under SQLite's oldest limit of 999.
BATCH = 120


def verdicts_lock(workshop_id: int) -> None:
    """Take the workshop's row lock until the transaction ends: every verdict change
    and every run's first count runs under it, one at a time."""
    Workshop.objects.select_for_update(no_key=True).filter(pk=workshop_id).exists()


def current_verdicts(lead_id: int) -> dict[str, Judged]:
    """The verdict that counts for the lead, per origin: the newest current one of any
    rep (the same rule as verdicts.selectors.counted_verdict_groups)."""
    return {origin: current_verdict(lead_id, origin) for origin in ORIGINS}


def current_verdict(lead_id: int, origin: str = "") -> Judged:
    """The verdict that counts for the lead among those of `origin` ("" for any)."""
    current = LeadFeedback.objects.filter(lead_id=lead_id, superseded_at__isnull=True)
    if origin:
        current = current.filter(imported=origin == VerdictOrigin.IMPORTED)
    row = current.order_by("-id").values_list("verdict", "reason").first()
    return (row[0], row[1]) if row else None


def expand(run_id: int, groups: Iterable[Group]) -> Counter[Key]:
    """The tally rows groups of reviewed leads count in, with how many: the run's
    total, and each criterion they matched."""
    counts: Counter[Key] = Counter()
    for verdict, reason, qualified, stage, matched, n in groups:
        for criterion in ["", *filter(None, (matched or "").split(","))]:
            counts[(run_id, criterion, verdict, reason, qualified, stage)] += n
    return counts


def _add(counts: Counter[Key], origin: str = "") -> None:
    rows = [(*key, origin, n) for key, n in counts.items() if n]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            cursor.execute(
                f"INSERT INTO {TALLY}"  # noqa: S608
                " (run_id, criterion, verdict, reason, qualified, stage, origin, n)"
                f" VALUES {', '.join(['(%s, %s, %s, %s, %s, %s, %s, %s)'] * len(batch))}"
                " ON CONFLICT (run_id, criterion, verdict, reason, qualified, stage, origin)"
                f" DO UPDATE SET n = {TALLY}.n + excluded.n",
                [value for row in batch for value in row],
            )


def tally_lead(
    *, workshop_id: int, lead_id: int, before: dict[str, Judged], after: dict[str, Judged]
) -> None:
    """Move the lead from its groups under ``before`` to those under ``after`` in every
    done run of the workshop that judged it (a lead newer than a run is in none of its
    groups), for each origin. Call it under verdicts_lock, with the lead's
    current_verdicts before and after the change."""
    moved = [o for o in ORIGINS if before.get(o) != after.get(o)]
    if not moved:
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
    rows = list(results)
    for origin in moved:
        counts: Counter[Key] = Counter()
        for run_id, qualified, stage, matched in rows:
            for judged, delta in ((before.get(origin), -1), (after.get(origin), 1)):
                if judged is not None:
                    counts.update(expand(run_id, [(*judged, qualified, stage, matched, delta)]))
        _add(counts, origin)


def tally_run(run: EvaluationRun) -> None:
    """Count a run from the verdicts, as it becomes done (under verdicts_lock); also
    after an import changed many verdicts at once (one grouped query per origin
    instead of one move per lead)."""
    VerdictTally.objects.filter(run=run).delete()
    for origin in ORIGINS:
        _add(expand(run.pk, counted_verdict_groups(run, origin)), origin)


def tally_runs_of(workshop_id: int) -> None:
    """Count every done run of the workshop afresh (under verdicts_lock)."""
    for run in EvaluationRun.objects.filter(workshop_id=workshop_id, state=RunState.DONE):
        tally_run(run)


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
