"""Reads for the suggestions page: discovery runs and the fields admins cleared."""

from __future__ import annotations

from django.db.models import QuerySet

from definitions.models import Version, Workshop
from feedback.models import DiscoveryRun, LeakageClearance, RunState
from feedback.suggestions.types import Discovery, Goal


def latest_discovery(workshop: Workshop, version: Version) -> DiscoveryRun | None:
    """The newest discovery run of ``version``, whatever its goal or state."""
    return (
        DiscoveryRun.objects.filter(workshop=workshop, version=version)
        .select_related("version", "created_by")
        .order_by("-id")
        .first()
    )


def active_discovery(workshop: Workshop, version: Version, goal: Goal) -> DiscoveryRun | None:
    """A run of the same version and goal still waiting or running, if any."""
    wanted = goal.to_json()
    for run in DiscoveryRun.objects.filter(
        workshop=workshop, version=version, state__in=[RunState.QUEUED, RunState.RUNNING]
    ).order_by("-id"):
        if run.goal == wanted:
            return run
    return None


def discovery_in(workshop: Workshop, discovery_id: int) -> bool:
    return DiscoveryRun.objects.filter(workshop=workshop, pk=discovery_id).exists()


def discovery_of(run: DiscoveryRun) -> Discovery | None:
    """The stored answer of a finished run, as the engine's types."""
    if run.state != RunState.DONE or not run.result:
        return None
    return Discovery.from_json(run.result)


def discovery_goal(run: DiscoveryRun) -> Goal:
    return Goal.from_json(run.goal)


def discovery_is_stale(run: DiscoveryRun, workshop: Workshop) -> bool:
    """Leads changed (an import, the API) since the run read them."""
    if run.state != RunState.DONE:
        return False
    changed = workshop.leads_changed_at
    return changed is not None and (run.leads_changed_at is None or changed > run.leads_changed_at)


def cleared_fields(workshop: Workshop) -> QuerySet[LeakageClearance]:
    """The fields an admin declared known before the outcome, newest first."""
    return (
        LeakageClearance.objects.filter(workshop=workshop)
        .select_related("cleared_by")
        .order_by("-cleared_at", "-id")
    )
