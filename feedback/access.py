"""Lookups of the feedback app's objects (leads, backtest and discovery runs, imports)
for a user: each asks definitions.workshops.access for the workshop, so the decision
about who may see or do what stays in that one module. Another workshop's id is 404."""

from __future__ import annotations

from typing import TYPE_CHECKING

from definitions import roles
from feedback.models import DiscoveryRun, EvaluationRun, ImportJob, Lead, ShadowRun

if TYPE_CHECKING:
    from definitions.core.http import AnyUser

from definitions.workshops.access import get_workshop_for_user, one_or_404


def get_lead_for_user(user: AnyUser, slug: str, lead_id: int) -> Lead:
    """A lead of workshop `slug`; another workshop's lead id is 404."""

    workshop = get_workshop_for_user(user, slug)
    lead: Lead = one_or_404(Lead.objects, pk=lead_id, workshop=workshop)
    lead.workshop = workshop
    return lead


def get_run_for_user(
    user: AnyUser, slug: str, run_id: int, perm: str | None = None
) -> EvaluationRun:
    """A backtest run of workshop `slug`: every member may read it; `perm` to act."""

    workshop = get_workshop_for_user(user, slug, perm)
    run: EvaluationRun = one_or_404(
        EvaluationRun.objects.select_related("version", "proposal", "created_by"),
        pk=run_id,
        workshop=workshop,
    )
    run.workshop = workshop
    return run


def get_import_for_user(user: AnyUser, slug: str, job_id: int) -> ImportJob:
    """An import of workshop `slug`, for those who may import (admins)."""

    workshop = get_workshop_for_user(user, slug, roles.IMPORT_LEADS)
    job: ImportJob = one_or_404(ImportJob.objects, pk=job_id, workshop=workshop)
    job.workshop = workshop
    return job


def get_discovery_for_user(
    user: AnyUser, slug: str, discovery_id: int, perm: str | None = None
) -> DiscoveryRun:
    """A discovery run of workshop `slug`: every member may read it; `perm` to act."""

    workshop = get_workshop_for_user(user, slug, perm)
    run: DiscoveryRun = one_or_404(
        DiscoveryRun.objects.select_related("version", "created_by"),
        pk=discovery_id,
        workshop=workshop,
    )
    run.workshop = workshop
    return run


def get_shadow_for_user(
    user: AnyUser, slug: str, shadow_id: int, perm: str | None = None
) -> ShadowRun:
    """A shadow run of workshop `slug`: every member may read it; `perm` to act."""

    workshop = get_workshop_for_user(user, slug, perm)
    shadow: ShadowRun = one_or_404(
        ShadowRun.objects.select_related("proposal", "started_by"), pk=shadow_id, workshop=workshop
    )
    shadow.workshop = workshop
    shadow.proposal.workshop = workshop
    return shadow
