"""Import pages: upload, map the columns, watch the progress, read the errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from definitions import roles
from definitions.catalog.selectors import catalog_for
from definitions.core.http import AuthedRequest
from definitions.core.once import submit_once
from definitions.workshops.access import get_workshop_for_user
from feedback.access import get_import_for_user
from feedback.imports import limits
from feedback.imports import mapping as mapping_stage
from feedback.imports import read as tabular
from feedback.imports import services as import_services
from feedback.imports.forms import OptionsForm, UploadForm
from feedback.imports.report import rejection_reasons
from feedback.models import ImportJob, ImportKind, ImportState

FINAL = (ImportState.DONE, ImportState.FAILED, ImportState.CANCELLED)


@require_http_methods(["GET", "POST"])
@submit_once
def import_list(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.IMPORT_LEADS)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job, _shape = import_services.import_upload(
                actor=request.user,
                workshop=workshop,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("feedback:import_mapping", slug=slug, job_id=job.pk)
    return render(
        request,
        "feedback/import_list.html",
        {
            "workshop": workshop,
            "form": form,
            "jobs": ImportJob.objects.filter(workshop=workshop).select_related("created_by")[:50],
            "max_mb": round(settings.IMPORT_MAX_BYTES / 1e6),
        },
        status=400 if request.method == "POST" else 200,
    )


def _targets(workshop: Any, kind: str) -> list[tuple[str, str]]:
    if kind == ImportKind.ACTIVITIES:
        return [
            ("ignore", _("Ignore")),
            ("external_id", _("Lead external id")),
            ("kind", _("Activity kind")),
            ("at", _("Time")),
        ]
    catalog = catalog_for(workshop)
    options = [
        ("ignore", _("Ignore")),
        ("external_id", _("External id (identifies the lead)")),
        ("name", _("Name")),
        ("email", _("E-mail")),
    ]
    options += [(f"field:{s.key}", s.label) for s in catalog.fields.values()]
    options.append(("new_field", _("New custom field…")))
    options.append(("rep", _("Rep (who gave the imported sales verdicts)")))
    return options


@require_http_methods(["GET", "POST"])
def import_mapping(request: AuthedRequest, slug: str, job_id: int) -> HttpResponse:
    job = get_import_for_user(request.user, slug, job_id)
    if job.state != ImportState.UPLOADED:
        return redirect("feedback:import_detail", slug=slug, job_id=job.pk)
    try:
        shape = tabular.preview(Path(job.file.path))
    except (limits.TabularError, OSError):
        messages.error(request, _("The uploaded file can no longer be read; upload it again."))
        return redirect("feedback:import_list", slug=slug)
    suggested = mapping_stage.suggested_mapping(job, shape)
    # A mapping file from the command line may name only some options.
    options = {**mapping_stage.default_options(), **(suggested.get("options") or {})}
    initial_options = {**options, "null_tokens": ", ".join(t for t in options["null_tokens"] if t)}
    options_form = OptionsForm(request.POST or None, initial=initial_options)
    mapping = suggested
    errors: list[str] = []
    if request.method == "POST":
        if options_form.is_valid():
            mapping, errors = mapping_stage.mapping_from_form(
                job, request.POST, options_form.options()
            )
            try:
                if not errors:
                    import_services.import_start(actor=request.user, job=job, mapping=mapping)
            except ValidationError as exc:
                errors = exc.messages
            else:
                if not errors:
                    return redirect("feedback:import_detail", slug=slug, job_id=job.pk)
        else:
            errors = [_("Check the options.")]
    rows = mapping_stage.page_rows(job, shape, mapping)
    return render(
        request,
        "feedback/import_mapping.html",
        {
            "workshop": job.workshop,
            "job": job,
            "shape": shape,
            "rows": rows,
            "unmapped_rows": [row for row in rows if row.unmapped],
            "targets": _targets(job.workshop, job.kind),
            "options_form": options_form,
            "errors": errors,
            "field_types": [
                ("text", _("Text")),
                ("number", _("Number")),
                ("boolean", _("Yes/no")),
                ("date", _("Date")),
                ("choice", _("Choice")),
            ],
        },
        status=400 if errors else 200,
    )


@require_GET
def import_detail(request: AuthedRequest, slug: str, job_id: int) -> HttpResponse:
    job = get_import_for_user(request.user, slug, job_id)
    percent = 100 if job.state in FINAL else min(99, int(100 * job.bytes_done / max(job.size, 1)))
    context = {
        "workshop": job.workshop,
        "job": job,
        "percent": percent,
        "final": job.state in FINAL,
        "reasons": rejection_reasons(job) if job.state in FINAL and job.errors else [],
    }
    template = (
        "feedback/import_detail.html#import-progress"
        if request.htmx
        else "feedback/import_detail.html"
    )
    return render(request, template, context)


@require_POST
def import_cancel(request: AuthedRequest, slug: str, job_id: int) -> HttpResponse:
    job = get_import_for_user(request.user, slug, job_id)
    try:
        import_services.import_cancel(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("feedback:import_detail", slug=slug, job_id=job.pk)


@require_POST
def import_retry(request: AuthedRequest, slug: str, job_id: int) -> HttpResponse:
    job = get_import_for_user(request.user, slug, job_id)
    try:
        import_services.import_retry(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("feedback:import_detail", slug=slug, job_id=job.pk)


@require_POST
def import_remap(request: AuthedRequest, slug: str, job_id: int) -> HttpResponse:
    job = get_import_for_user(request.user, slug, job_id)
    try:
        import_services.import_remap(actor=request.user, job=job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("feedback:import_detail", slug=slug, job_id=job.pk)
    return redirect("feedback:import_mapping", slug=slug, job_id=job.pk)


@require_GET
def import_errors(request: AuthedRequest, slug: str, job_id: int) -> HttpResponse:
    job = get_import_for_user(request.user, slug, job_id)
    response = HttpResponse(job.error_report, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
