"""Writes for discovery runs: start one (queued for the worker), the worker's run with
its progress, the housekeeping sweep, and an admin's word on a field suspected of
leaking the outcome.

Discovery reads every labelled lead and takes seconds to a minute, so it never runs in
a request: the page starts a run, the worker (feedback.tasks.discovery_task) calls
discovery_execute, and the page polls the run's progress. The run stores the
Discovery's JSON, so the page and "turn into a proposal" read exactly the figures the
engine measured.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from definitions import roles
from definitions.catalog.selectors import catalog_for
from definitions.core.audit import log_action
from definitions.core.jobs import enqueue
from definitions.core.ratelimits import rate_limit_take
from definitions.models import Version, Workshop
from definitions.workshops.access import workshop_perms
from feedback.models import DiscoveryRun, LeakageClearance, RunState
from feedback.suggestions.discovery import discover
from feedback.suggestions.selectors import active_discovery
from feedback.suggestions.types import Goal, GoalError

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)


@transaction.atomic
def discovery_start(
    *, actor: User, workshop: Workshop, version: Version, goal: Goal
) -> DiscoveryRun:
    """Queue a discovery run of ``version`` for ``goal``; a run of the same version and
    goal still under way is returned instead (two clicks start one run)."""
    if version.workshop_id != workshop.pk:
        raise ValueError("the version belongs to another workshop")
    # One start at a time per workshop, as for backtests: the check and the insert
    # below must not interleave with another request's.
    Workshop.objects.select_for_update(no_key=True).filter(pk=workshop.pk).exists()
    workshop.refresh_from_db(fields=["leads_changed_at"])
    running = active_discovery(workshop, version, goal)
    if running is not None:
        return running
    rate_limit_take(user=actor, action="discovery")
    run = DiscoveryRun.objects.create(
        workshop=workshop,
        version=version,
        goal=goal.to_json(),
        leads_changed_at=workshop.leads_changed_at,
        created_by=actor,
        step=_("Waiting for the background worker."),
    )
    log_action(
        "feedback.discovery.started",
        actor=actor,
        workshop=workshop,
        discovery=run.pk,
        version=version.number,
        objective=goal.objective,
        target=goal.target,
    )
    # The worker writes the suggestions' titles and evidence in the language of the
    # person who asked for them.
    language = translation.get_language() or settings.LANGUAGE_CODE
    transaction.on_commit(lambda: _enqueue(run.pk, language))
    return run


def _enqueue(run_id: int, language: str) -> None:
    try:
        enqueue("feedback.tasks.discovery_task", run_id, language)
    except Exception as exc:  # the broker is down: say so on the run, not with a 500
        _fail(
            run_id,
            _("The background worker cannot be reached (%(error)s). Try again in a moment.")
            % {"error": type(exc).__name__},
        )


def discovery_execute(run_id: int, language: str | None = None) -> None:
    """The worker's part: run discovery for a queued run, saving its progress as it
    goes, and store the answer. Any error marks the run failed with a message for the
    reader; a run is never left running. Safe to call twice (only a queued run runs)."""
    with transaction.atomic():
        run = (
            DiscoveryRun.objects.select_for_update()
            .select_related("workshop", "version")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.state != RunState.QUEUED:
            return
        run.state = RunState.RUNNING
        run.progress = 0
        run.step = ""
        run.message = ""
        run.save(update_fields=["state", "progress", "step", "message"])

    def progress(percent: int, step: str) -> None:
        # Its own write, outside any transaction of the engine's, so the page sees it now.
        DiscoveryRun.objects.filter(pk=run_id, state=RunState.RUNNING).update(
            progress=max(0, min(100, int(percent))), step=str(step)[:200]
        )

    with translation.override(language or settings.LANGUAGE_CODE):
        try:
            goal = Goal.from_json(run.goal)
            result = discover(run.workshop, run.version, goal, progress=progress)
        except Exception as error:
            discovery_fail(run_id, error)
            return
        DiscoveryRun.objects.filter(pk=run_id, state=RunState.RUNNING).update(
            state=RunState.DONE,
            progress=100,
            step=_("Done."),
            result=result.to_json(),
            finished_at=timezone.now(),
        )


def discovery_fail(run_id: int, error: BaseException) -> None:
    """Mark a run failed after an error in the worker, saying why in plain words."""
    log.exception("discovery run %s failed", run_id, exc_info=error)
    if isinstance(error, ValidationError):
        message = " ".join(error.messages)
    elif isinstance(error, GoalError):
        message = _("The goal cannot be pursued: %(error)s") % {"error": str(error)}
    else:
        message = _("The search for improvements failed: %(error)s") % {
            "error": type(error).__name__
        }
    _fail(run_id, message)


def _fail(run_id: int, message: str) -> None:
    DiscoveryRun.objects.filter(pk=run_id, state__in=[RunState.QUEUED, RunState.RUNNING]).update(
        state=RunState.FAILED, message=message[:2000], finished_at=timezone.now()
    )


@transaction.atomic
def discovery_retry(*, actor: User, run: DiscoveryRun) -> DiscoveryRun:
    """Start a failed run's version and goal again (a new run: the failed one stays as
    the record of what went wrong)."""
    if run.state != RunState.FAILED:
        raise ValidationError(_("Only a failed search can be run again."))
    return discovery_start(
        actor=actor, workshop=run.workshop, version=run.version, goal=Goal.from_json(run.goal)
    )


def discoveries_expire_overdue() -> int:
    """Fail discovery runs whose worker died or never took them (a worker killed hard,
    a lost message), after the backtests' time-out, so the page offers a retry."""
    limit = timezone.now() - timedelta(seconds=settings.BACKTEST_TIMEOUT_SECONDS)
    return DiscoveryRun.objects.filter(
        Q(state=RunState.RUNNING) | Q(state=RunState.QUEUED), created_at__lt=limit
    ).update(
        state=RunState.FAILED,
        message=_("Timed out: no answer for too long. Run it again."),
        finished_at=timezone.now(),
    )


# ------------------------------------------------------------------ leakage


def _require_admin(actor: User, workshop: Workshop) -> None:
    if roles.CHANGE not in workshop_perms(actor, workshop):
        raise PermissionDenied


def _field_label(workshop: Workshop, field: str) -> str:
    catalog = catalog_for(workshop)
    entry = catalog.fields.get(field)
    if entry is None:
        raise ValidationError(
            _("There is no field “%(field)s” in this workshop.") % {"field": field}
        )
    return str(entry.label)


@transaction.atomic
def leakage_clear(*, actor: User, workshop: Workshop, field: str) -> LeakageClearance:
    """An admin says a field suspected of leaking the outcome is known before it:
    discovery may use it from the next run on."""
    _require_admin(actor, workshop)
    label = _field_label(workshop, field)
    clearance, created = LeakageClearance.objects.get_or_create(
        workshop=workshop, field=field, defaults={"cleared_by": actor}
    )
    if created:
        log_action(
            "feedback.leakage.cleared", actor=actor, workshop=workshop, field=field, label=label
        )
    return clearance


@transaction.atomic
def leakage_restore(*, actor: User, workshop: Workshop, field: str) -> None:
    """Put a cleared field back under suspicion (discovery leaves it out again)."""
    _require_admin(actor, workshop)
    deleted, _rows = LeakageClearance.objects.filter(workshop=workshop, field=field).delete()
    if deleted:
        log_action("feedback.leakage.restored", actor=actor, workshop=workshop, field=field)
