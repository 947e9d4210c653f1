"""A version's decision record (page, PDF on A4 or Letter, Markdown) and the workshop's
decision log as CSV. Members only: the version comes through the access module, so an
outsider gets 404."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from definitions.core.http import AuthedRequest
from definitions.workshops.access import get_version_for_user, get_workshop_for_user
from feedback.imports.read import csv_safe
from feedback.reviews import exports
from feedback.reviews import selectors as review_selectors


@require_GET
def decision_record(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    version = get_version_for_user(request.user, slug, number)
    record = review_selectors.decision_record(version)
    return render(
        request, "feedback/decision_record.html", exports.record_context(record, printable=False)
    )


@require_GET
def decision_record_pdf(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    version = get_version_for_user(request.user, slug, number)
    paper = request.GET.get("paper", "a4").strip().lower() or "a4"
    if paper not in exports.PAPERS:
        return HttpResponseBadRequest(
            _("Unknown paper size: choose a4 or letter."), content_type="text/plain; charset=utf-8"
        )
    record = review_selectors.decision_record(version)
    response = HttpResponse(exports.to_pdf(record, paper, request), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{slug}-v{version.number}-decision-record-{paper}.pdf"'
    )
    return response


@require_GET
def decision_record_md(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    version = get_version_for_user(request.user, slug, number)
    record = review_selectors.decision_record(version)
    response = HttpResponse(
        exports.to_markdown(record), content_type="text/markdown; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{slug}-v{version.number}-decision-record.md"'
    )
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
def decision_log_csv(request: AuthedRequest, slug: str) -> StreamingHttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    # One row per version: built now, in the reader's language, then streamed.
    rows = list(exports.log_rows(review_selectors.decision_log(workshop)))
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        for row in rows:
            yield writer.writerow([csv_safe(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-decision-log.csv"'
    return response
