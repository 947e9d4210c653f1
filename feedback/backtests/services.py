"""Writes for backtests: start, the worker's chunks, finish, cancel, retry, expiry.

A run is split into chunks of consecutive lead ids (BACKTEST_CHUNK_LEADS each) that
any number of workers evaluate in parallel. Each chunk is one transaction that
replaces its own range of results, so a chunk redelivered after a worker died simply
does its work again. The run row counts finished chunks; whichever chunk finishes last
sums the counts and marks the run done (a chord without a result backend). Results
are read only from done runs, so a failed, cancelled or half-finished run shows
nothing.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from definitions import rules
from definitions.catalog.selectors import catalog_for
from definitions.core import events
from definitions.core.audit import log_action
from definitions.core.jobs import enqueue
from definitions.core.ratelimits import rate_limit_take
from definitions.models import Proposal, ProposalState, Version, Workshop
from definitions.versions.selectors import current_version
from feedback.backtests import signals
from feedback.backtests.selectors import STAGES, latest_done_run, latest_run, matched_criterion
from feedback.backtests.sql import Statement, compile_range, fold_prepare
from feedback.leads.services import leads_changed  # noqa: F401  (re-exported for callers)
from feedback.models import EvaluationRun, Lead, LeadResult, RunState

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)


class RunAbandoned(Exception):
    """The run was cancelled, failed or restarted while a chunk worked on it."""


# ------------------------------------------------------------------------- helpers


def run_definition(run: EvaluationRun) -> rules.Definition:
    """The run's document as a definition, checked against today's catalog (a custom
    field deleted since would make it unevaluable: that is a clear failure)."""
    result = rules.parse(run.document, catalog_for(run.workshop, translated=False))
    if result.definition is None:
        first = result.errors[0]
        raise ValidationError(
            _("The definition no longer fits the field catalog: %(path)s: %(error)s")
            % {"path": first.path or "/", "error": first.render(_)}
        )
    return result.definition


def is_stale(run: EvaluationRun, workshop: Workshop) -> bool:
    """Leads changed (import or API) after the run's moment, or the workshop's decision
    window is no longer the one the run judged its leads with."""
    if run.state != RunState.DONE:
        return False
    changed = workshop.leads_changed_at
    return (changed is not None and changed > run.as_of) or (
        run.decision_days != workshop.decision_days
    )


def run_for_version(workshop: Workshop, version: Version) -> EvaluationRun | None:
    """The finished backtest that describes ``version``: its own or, for a restored
    version without one, the restored version's (the same text), while the leads have
    not changed since it ran."""
    run = latest_done_run(workshop, version=version)
    source, seen = version, {version.pk}
    while run is None and source.restored_from_id is not None:
        source = source.restored_from  # type: ignore[assignment]
        if source.pk in seen:
            break
        seen.add(source.pk)
        candidate = latest_done_run(workshop, version=source)
        if candidate is not None and not is_stale(candidate, workshop):
            run = candidate
    return run


def on_version_published(sender: object, *, version: Version, **_: Any) -> None:
    """A version became current through a decision: unless a finished backtest already
    describes it, start one now, so the reps' queue can switch to it when it is done
    (until then the queue keeps the previous version's run)."""
    if run_for_version(version.workshop, version) is not None:
        return
    try:
        backtest_start(actor=None, workshop=version.workshop, version=version)
    except ValidationError:
        # The text no longer fits the catalog: the version page says so; the queue
        # keeps the previous run.
        log.warning(
            "version v%s of workshop %s cannot be backtested", version.number, version.workshop_id
        )


# ---------------------------------------------------------------------------- start


@transaction.atomic
def backtest_start(
    *,
    actor: User | None,
    workshop: Workshop,
    version: Version | None = None,
    proposal: Proposal | None = None,
    enqueue: bool = True,
    reuse: bool = True,
) -> EvaluationRun:
    """Backtest a version or a proposal's current draft against every lead.

    Idempotent: a run of the same document that is under way, or done and not stale,
    is returned instead of starting another (unless ``reuse`` is off). With
    ``enqueue`` off the caller runs it (backtest_run_inline)."""
    if (version is None) == (proposal is None):
        raise ValueError("backtest exactly one of version and proposal")
    # One start at a time per workshop: two clicks must not start two runs.
    Workshop.objects.select_for_update(no_key=True).filter(pk=workshop.pk).exists()
    workshop.refresh_from_db(fields=["leads_changed_at", "decision_days"])
    previous = latest_run(workshop, version=version, proposal=proposal)
    if (
        reuse
        and previous is not None
        and (
            previous.is_active
            or (previous.state == RunState.DONE and not is_stale(previous, workshop))
        )
    ):
        return previous
    if actor is not None:  # the system's own runs (publishing, the demo) are not limited
        rate_limit_take(user=actor, action="backtest")
    document = version.document if version is not None else proposal.document  # type: ignore[union-attr]
    run = EvaluationRun.objects.create(
        workshop=workshop,
        version=version,
        proposal=proposal,
        proposal_revision=proposal.revision if proposal is not None else None,
        document=document,
        as_of=timezone.now(),
        decision_days=workshop.decision_days,
        created_by=actor,
    )
    run_definition(run)  # refuse an unevaluable document now, not in the worker
    log_action(
        "feedback.run.started",
        actor=actor,
        workshop=workshop,
        run=run.pk,
        version=version.number if version is not None else None,
        proposal=proposal.pk if proposal is not None else None,
    )
    if enqueue:
        transaction.on_commit(lambda: _enqueue_prepare(run.pk))
    return run


def _enqueue_prepare(run_id: int) -> None:
    try:
        enqueue("feedback.tasks.backtest_prepare_task", run_id)
    except Exception as exc:  # the broker is down: say so on the run, not with a 500
        _fail(
            run_id,
            _("The background worker cannot be reached (%(error)s). Try again in a moment.")
            % {"error": type(exc).__name__},
        )


# --------------------------------------------------------------------- the worker


def _chunks(workshop_id: int, size: int) -> tuple[int, list[tuple[int, int, int]]]:
    """(leads, chunks): the workshop's id range cut into equal parts of about ``size``
    leads each, as (index, low, high). Min, max and count come from the index at
    once; ids interleaved with another workshop's only make some chunks smaller."""
    agg = Lead.objects.filter(workshop_id=workshop_id).aggregate(
        low=Min("id"), high=Max("id"), leads=Count("id")
    )
    if not agg["leads"]:
        return 0, []
    parts = max(1, math.ceil(agg["leads"] / size))
    width = math.ceil((agg["high"] + 1 - agg["low"]) / parts)
    edges = [agg["low"] + k * width for k in range(parts)] + [agg["high"] + 1]
    return agg["leads"], [(k, edges[k], edges[k + 1]) for k in range(parts)]


def backtest_prepare(run_id: int) -> list[tuple[int, int, int]]:
    """Start a queued run: clear what an earlier attempt left, fold the texts the
    definition compares, and cut the leads into chunks. Returns the chunks
    (index, low, high) for the caller to queue or run."""
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.state != RunState.QUEUED:
            return []
        LeadResult.objects.filter(run=run).delete()
        definition = run_definition(run)
        leads, chunks = _chunks(run.workshop_id, settings.BACKTEST_CHUNK_LEADS)
        now = timezone.now()
        run.state = RunState.RUNNING
        run.started_at = run.heartbeat_at = now
        run.finished_at = None
        run.attempts += 1
        run.leads_total = leads
        run.leads_done = run.chunks_done = 0
        run.chunks_total = len(chunks)
        run.chunk_counts = {}
        run.message = ""
        run.save()
    fold_prepare(
        definition, catalog_for(run.workshop, translated=False), workshop_id=run.workshop_id
    )
    if not chunks:
        _finish_if_complete(run.pk)
    return chunks


def backtest_chunk(run_id: int, index: int, low: int, high: int) -> bool:
    """Evaluate the leads with low <= id < high. True when this chunk finished the run."""
    run = EvaluationRun.objects.select_related("workshop").filter(pk=run_id).first()
    if run is None or run.state != RunState.RUNNING or str(index) in run.chunk_counts:
        return False
    definition = run_definition(run)
    catalog = catalog_for(run.workshop, translated=False)
    statement = compile_range(
        definition,
        catalog,
        workshop_id=run.workshop_id,
        as_of=run.as_of,
        low=low,
        high=high,
        decision_days=run.decision_days,
    )
    table = LeadResult._meta.db_table
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("SET LOCAL work_mem = '64MB'")
                    # JIT compiles this wide statement anew for every chunk, which costs
                    # more (seconds) than it saves on a chunk's few hundred thousand rows.
                    cursor.execute("SET LOCAL jit = off")
                cursor.execute(
                    f"DELETE FROM {table} WHERE run_id = %s AND lead_id >= %s AND lead_id < %s",  # noqa: S608
                    [run_id, low, high],
                )
                done, counts = _store_chunk(cursor, run_id, low, high, statement)
            locked = EvaluationRun.objects.select_for_update().get(pk=run_id)
            if locked.state != RunState.RUNNING or locked.attempts != run.attempts:
                raise RunAbandoned
            if str(index) in locked.chunk_counts:
                raise RunAbandoned  # a redelivered copy of this chunk finished first
            locked.chunk_counts[str(index)] = counts
            locked.chunks_done = len(locked.chunk_counts)
            locked.leads_done += done
            locked.heartbeat_at = timezone.now()
            locked.save(update_fields=["chunk_counts", "chunks_done", "leads_done", "heartbeat_at"])
    except RunAbandoned:
        return False
    return _finish_if_complete(run_id)


RESULT_COLUMNS = "lead_id, qualified, junk, score, stage, matched"


def _store_chunk(
    cursor: Any, run_id: int, low: int, high: int, statement: Statement
) -> tuple[int, dict[str, Any]]:
    """Write the chunk's results and return (leads, counts). On PostgreSQL one
    statement does both: the results are computed once, inserted, and summed."""
    table = LeadResult._meta.db_table
    ids = statement.criterion_ids
    if connection.vendor != "postgresql":
        cursor.execute(
            f"INSERT INTO {table} (run_id, {RESULT_COLUMNS}) "  # noqa: S608
            f"SELECT %s, {RESULT_COLUMNS} FROM ({statement.sql}) r",
            [run_id, *statement.params],
        )
        return cursor.rowcount, _chunk_counts(run_id, low, high, ids)
    stages = ", ".join(f"count(*) FILTER (WHERE stage = '{s}')" for s in STAGES)
    sums = "".join(f", coalesce(sum(h{i}), 0)" for i in range(len(ids)))
    cursor.execute(
        f"WITH r AS MATERIALIZED ({statement.sql}), "  # noqa: S608
        f"ins AS (INSERT INTO {table} (run_id, {RESULT_COLUMNS}) "
        f"SELECT %s, {RESULT_COLUMNS} FROM r) "
        f"SELECT count(*), count(*) FILTER (WHERE qualified), {stages}{sums} FROM r",
        [*statement.params, run_id],
    )
    row = cursor.fetchone()
    counts = {
        "stages": {s: n for s, n in zip(STAGES, row[2 : 2 + len(STAGES)], strict=True) if n},
        "qualified": row[1],
        "criteria": dict(zip(ids, row[2 + len(STAGES) :], strict=True)),
    }
    return row[0], counts


def _chunk_counts(run_id: int, low: int, high: int, ids: tuple[str, ...]) -> dict[str, Any]:
    rows = LeadResult.objects.filter(run_id=run_id, lead_id__gte=low, lead_id__lt=high)
    stages = dict(rows.order_by().values_list("stage").annotate(n=Count("lead_id")))
    criteria = rows.aggregate(
        **{f"c{i}": Count("lead_id", filter=Q(matched_criterion(cid))) for i, cid in enumerate(ids)}
    )
    qualified = rows.filter(qualified=True).count()
    return {
        "stages": stages,
        "qualified": qualified,
        "criteria": {cid: criteria[f"c{i}"] for i, cid in enumerate(ids)},
    }


def _finish_if_complete(run_id: int) -> bool:
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().get(pk=run_id)
        if run.state != RunState.RUNNING or run.chunks_done < run.chunks_total:
            return False
        stages: Counter[str] = Counter()
        criteria: Counter[str] = Counter()
        qualified = 0
        for part in run.chunk_counts.values():
            stages.update(part["stages"])
            criteria.update(part["criteria"])
            qualified += part["qualified"]
        run.stage_counts = {**dict(stages), "qualified": qualified}
        run.criterion_counts = dict(criteria)
        run.state = RunState.DONE
        run.finished_at = run.heartbeat_at = timezone.now()
        run.save()
        # The verdicts count it now, in this transaction (feedback.verdicts.tallies).
        signals.run_done.send(sender=EvaluationRun, run=run)
        _emit_finished(run)
        # Older runs of the same document are superseded. Dropping a million results
        # takes seconds, so it happens after the run is shown done, in its own task.
        transaction.on_commit(lambda: _enqueue_cleanup(run.pk))
    return True


def _emit_finished(run: EvaluationRun) -> None:
    """The webhooks' `backtest.finished`, sent when this transaction commits."""
    workshop = Workshop.objects.only("slug").get(pk=run.workshop_id)
    stages = run.stage_counts or {}
    version = (
        Version.objects.filter(pk=run.version_id).values_list("number", flat=True).first()
        if run.version_id
        else None
    )
    events.emit(
        events.BACKTEST_FINISHED,
        workshop_id=run.workshop_id,
        data={
            "workshop": workshop.slug,
            "run": run.pk,
            "state": str(run.state),
            "version": version,
            "proposal": run.proposal_id,
            "leads": run.leads_total,
            "qualified": stages.get("qualified", 0),
            "stages": {k: v for k, v in stages.items() if k != "qualified"},
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "url": events.absolute_url(
                reverse("feedback:run_detail", args=[workshop.slug, run.pk])
            ),
        },
    )


def _enqueue_cleanup(run_id: int) -> None:
    try:
        enqueue("feedback.tasks.backtest_cleanup_task", run_id)
    except Exception:  # the broker is down: the next finished run cleans up instead
        log.warning("could not queue the clean-up after run %s", run_id, exc_info=True)


def backtest_after_done(run_id: int) -> int:
    """The slow work after a run is shown done: count it against outcomes once, for
    the accuracy pages, and drop the runs it supersedes. Returns how many it dropped."""

    run = EvaluationRun.objects.filter(pk=run_id, state=RunState.DONE).first()
    if run is None:
        return 0
    if connection.vendor == "postgresql":
        # Fresh statistics for the new results at once, not whenever autovacuum comes
        # by: the triage queue's plan over a million results depends on them.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {LeadResult._meta.db_table}")
    for _receiver, fields in signals.run_settled.send(sender=EvaluationRun, run=run):
        if fields:  # e.g. the accuracy against outcomes (feedback.accuracy.panels)
            EvaluationRun.objects.filter(pk=run.pk).update(**cast(dict[str, Any], fields))
    return backtests_drop_superseded(run)


def backtests_drop_superseded(run: EvaluationRun) -> int:
    """Delete the finished, failed and cancelled runs older than this done run of the
    same version or proposal, with their results. Returns how many."""
    same = Q(version_id=run.version_id) if run.version_id else Q(proposal_id=run.proposal_id)
    deleted, _per_model = (
        EvaluationRun.objects.filter(same, workshop_id=run.workshop_id, id__lt=run.pk)
        .exclude(state__in=[RunState.QUEUED, RunState.RUNNING])
        .delete()
    )
    return deleted


def _fail(run_id: int, message: str) -> None:
    with transaction.atomic():
        updated = EvaluationRun.objects.filter(
            pk=run_id, state__in=[RunState.QUEUED, RunState.RUNNING]
        ).update(state=RunState.FAILED, message=message[:2000], finished_at=timezone.now())
        if updated:
            LeadResult.objects.filter(run_id=run_id).delete()


def backtest_fail(run_id: int, error: BaseException) -> None:
    """Mark a run failed after an error in the worker; its results are dropped."""
    log.exception("backtest run %s failed", run_id, exc_info=error)
    if isinstance(error, ValidationError):
        message = " ".join(error.messages)
    else:
        message = _("The backtest failed: %(error)s") % {"error": type(error).__name__}
    _fail(run_id, message)


def backtest_run_inline(run: EvaluationRun, on_progress: Any = None) -> EvaluationRun:
    """Run every chunk in this process (the command line, tests, tiny workshops)."""
    for index, low, high in backtest_prepare(run.pk):
        try:
            backtest_chunk(run.pk, index, low, high)
        except Exception as error:
            backtest_fail(run.pk, error)
            raise
        if on_progress is not None:
            on_progress(EvaluationRun.objects.get(pk=run.pk))
    run.refresh_from_db()
    if run.state == RunState.DONE and not run.outcome_stats:
        backtest_after_done(run.pk)
        run.refresh_from_db()
    return run


# ------------------------------------------------------------------ cancel / retry


@transaction.atomic
def backtest_cancel(*, actor: User, run: EvaluationRun) -> EvaluationRun:
    updated = EvaluationRun.objects.filter(
        pk=run.pk, state__in=[RunState.QUEUED, RunState.RUNNING]
    ).update(
        state=RunState.CANCELLED,
        cancel_requested=True,
        finished_at=timezone.now(),
        message=_("Cancelled: no results were kept."),
    )
    if not updated:
        raise ValidationError(_("Only a waiting or running backtest can be cancelled."))
    # Chunks still running find the run cancelled when they try to commit.
    LeadResult.objects.filter(run=run).delete()
    log_action("feedback.run.cancelled", actor=actor, workshop=run.workshop, run=run.pk)
    run.refresh_from_db()
    return run


@transaction.atomic
def backtest_retry(*, actor: User, run: EvaluationRun, enqueue: bool = True) -> EvaluationRun:
    """Run a failed or cancelled backtest again, from scratch, as the same run."""
    updated = EvaluationRun.objects.filter(
        pk=run.pk, state__in=[RunState.FAILED, RunState.CANCELLED]
    ).update(
        state=RunState.QUEUED,
        cancel_requested=False,
        message="",
        started_at=None,
        finished_at=None,
        as_of=timezone.now(),
        decision_days=run.workshop.decision_days,
    )
    if not updated:
        raise ValidationError(_("Only a failed or cancelled backtest can be run again."))
    log_action("feedback.run.retried", actor=actor, workshop=run.workshop, run=run.pk)
    if enqueue:
        transaction.on_commit(lambda: _enqueue_prepare(run.pk))
    run.refresh_from_db()
    return run


# ------------------------------------------------------------------- housekeeping


def backtests_expire_overdue() -> int:
    """Fail running backtests whose workers stopped reporting (a worker killed hard,
    a lost message): their results are dropped and they can be retried."""
    limit = timezone.now() - timedelta(seconds=settings.BACKTEST_TIMEOUT_SECONDS)
    overdue = list(
        EvaluationRun.objects.filter(
            Q(state=RunState.RUNNING, heartbeat_at__lt=limit)
            | Q(state=RunState.QUEUED, created_at__lt=limit)
        ).values_list("pk", flat=True)
    )
    for run_id in overdue:
        _fail(run_id, _("Timed out: no progress for too long. Run it again."))
    return len(overdue)


def backtests_refresh_stale() -> int:
    """Re-run the backtests people look at (the published version, proposals still in
    discussion) once their leads changed; the others stay marked stale."""
    started = 0
    # Leads changed, or a run judged them with another decision window than today's.
    for workshop in Workshop.objects.filter(
        Q(leads_changed_at__isnull=False)
        | Q(Exists(EvaluationRun.objects.filter(workshop=OuterRef("pk"), state=RunState.DONE)))
    ):
        targets: list[dict[str, Any]] = []
        current = current_version(workshop)
        if current is not None:
            targets.append({"version": current})
        for proposal in Proposal.objects.filter(
            workshop=workshop, state__in=[ProposalState.DRAFT, ProposalState.OPEN]
        ):
            targets.append({"proposal": proposal})
        for target in targets:
            previous = latest_run(workshop, **target)
            if previous is not None and is_stale(previous, workshop):
                try:
                    backtest_start(actor=None, workshop=workshop, **target)
                except ValidationError:
                    continue  # the document no longer fits the catalog; shown on its page
                started += 1
    return started
