"""The door to imports: store an upload and read its shape, start an import with a
mapping (queued for the worker), cancel and retry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from definitions.core.audit import log_action
from definitions.core.ratelimits import RateLimited, rate_limit_take
from definitions.models import Workshop
from feedback.imports import limits
from feedback.imports import read as tabular
from feedback.models import ImportJob, ImportKind, ImportMapping, ImportState

if TYPE_CHECKING:
    from django.contrib.auth.models import User
from definitions.core.jobs import enqueue
from feedback.imports.mapping import compile_plan, header_signature


@transaction.atomic
def import_upload(
    *, actor: User, workshop: Workshop, upload: File[Any], kind: str = ImportKind.LEADS
) -> tuple[ImportJob, tabular.Preview]:
    """Store the file and read its shape; ValidationError for a file we cannot use."""
    limit = settings.IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            {
                "file": _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": round(upload.size / 1e6, 1), "limit": round(limit / 1e6)}
            }
        )
    if kind not in ImportKind.values:
        raise ValidationError({"kind": _("Choose leads or activities.")})
    try:
        rate_limit_take(user=actor, action="upload")
    except RateLimited as exc:
        raise ValidationError({"file": exc.messages}) from None
    job = ImportJob(
        workshop=workshop,
        created_by=actor,
        kind=kind,
        original_name=(upload.name or "upload")[:255],
        size=upload.size or 0,
        encoding="utf-8",
        delimiter=",",
    )
    job.file.save(f"{workshop.slug}-{timezone.now():%Y%m%d%H%M%S}.upload", upload, save=False)
    try:
        shape = tabular.preview(Path(job.file.path))
    except limits.TabularError as exc:
        job.file.delete(save=False)
        raise ValidationError({"file": str(exc)}) from None
    job.encoding, job.delimiter = shape.encoding, shape.delimiter
    job.headers = [c.name for c in shape.columns]
    job.rows_estimated = shape.estimated_rows
    job.save()
    log_action(
        "feedback.import.uploaded",
        actor=actor,
        workshop=workshop,
        job=job.pk,
        file=job.original_name,
    )
    return job, shape


@transaction.atomic
def import_start(
    *, actor: User, job: ImportJob, mapping: dict[str, Any], enqueue: bool = True
) -> ImportJob:
    """Queue the import for the worker (or, with enqueue=False, leave it to the
    caller to run import_run in-process, as the command line does)."""
    if job.state != ImportState.UPLOADED:
        raise ValidationError(_("This import has already started."))
    compile_plan(job, mapping)  # refuse a broken mapping before queueing
    ImportMapping.objects.update_or_create(
        workshop=job.workshop,
        signature=header_signature(job.headers),
        defaults={"mapping": mapping},
    )
    job.mapping = mapping
    job.state = ImportState.QUEUED
    job.save(update_fields=["mapping", "state"])
    log_action(
        "feedback.import.started",
        actor=actor,
        workshop=job.workshop,
        job=job.pk,
        file=job.original_name,
    )
    if enqueue:
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    try:
        enqueue("feedback.tasks.run_import", job_id)
    except Exception as exc:  # the broker is down: say so on the job, not with a 500
        ImportJob.objects.filter(pk=job_id, state=ImportState.QUEUED).update(
            state=ImportState.FAILED,
            message=_("The background worker cannot be reached (%(error)s). Try again in a moment.")
            % {"error": type(exc).__name__},
        )


@transaction.atomic
def import_cancel(*, actor: User, job: ImportJob) -> ImportJob:
    updated = ImportJob.objects.filter(
        pk=job.pk, state__in=[ImportState.QUEUED, ImportState.RUNNING]
    ).update(state=ImportState.CANCELLING)
    if not updated:
        raise ValidationError(_("Only a waiting or running import can be cancelled."))
    # A queued job no worker has picked up yet is cancelled at once.
    ImportJob.objects.filter(pk=job.pk, started_at__isnull=True).update(
        state=ImportState.CANCELLED,
        finished_at=timezone.now(),
        message=_("Cancelled: nothing was imported."),
    )
    log_action("feedback.import.cancel_requested", actor=actor, workshop=job.workshop, job=job.pk)
    job.refresh_from_db()
    return job


def import_retry(*, actor: User, job: ImportJob) -> ImportJob:
    if job.state not in (ImportState.FAILED, ImportState.CANCELLED):
        raise ValidationError(_("Only a failed or cancelled import can be run again."))
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.UPLOADED, started_at=None, finished_at=None
    )
    job.refresh_from_db()
    return import_start(actor=actor, job=job, mapping=job.mapping)


@transaction.atomic
def import_remap(*, actor: User, job: ImportJob) -> ImportJob:
    """Back to the mapping page with the same file: after rejected rows, a failure or
    a cancel. Running it again is safe: leads merge by external id, unchanged rows are
    not written."""
    if job.state not in (ImportState.DONE, ImportState.FAILED, ImportState.CANCELLED):
        raise ValidationError(_("This import is still running."))
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.UPLOADED, started_at=None, finished_at=None, message=""
    )
    log_action("feedback.import.remapped", actor=actor, workshop=job.workshop, job=job.pk)
    job.refresh_from_db()
    return job
