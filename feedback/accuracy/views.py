"""The accuracy page (every version and draft against outcomes and the reps'
verdicts, with charts), its print version and the CSV downloads."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from definitions.catalog.selectors import catalog_for
from definitions.core.http import AuthedRequest
from definitions.core.querystring import whole_number
from definitions.workshops.access import get_workshop_for_user
from feedback.access import get_run_for_user
from feedback.accuracy import selectors as accuracy_selectors
from feedback.imports.read import csv_safe
from feedback.models import LeadResult, RunState, VerdictOrigin
from feedback.verdicts import selectors as verdict_selectors


def _accuracy_context(
    request: AuthedRequest, workshop: Any, wanted: str | None = None
) -> dict[str, Any]:
    catalog = catalog_for(workshop)
    origin = request.GET.get("verdicts", "")
    if origin not in accuracy_selectors.VERDICT_ORIGINS:
        origin = ""
    rows = accuracy_selectors.version_accuracies(workshop, catalog, _, origin)
    number = whole_number(request.GET.get("version") if wanted is None else wanted)
    chosen = accuracy_selectors.chosen_row(rows, number)
    drafts = accuracy_selectors.draft_accuracies(workshop, catalog, _, origin)
    return {
        "workshop": workshop,
        "origin": origin,
        "origins": [
            ("", _("Both")),
            (VerdictOrigin.IMPORTED.value, _("Imported from the CRM")),
            (VerdictOrigin.APP.value, _("Given in the app")),
        ],
        "rows": rows,
        "chosen": chosen,
        "drafts": drafts,
        "charts": _charts(rows, chosen),
    }


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _charts(rows: list[Any], chosen: Any) -> dict[str, Any]:
    """The accuracy charts' numbers (the tables on the page show the same)."""
    if chosen is None:
        return {}
    trend = list(reversed(rows))
    acc = chosen[1]
    best = acc.best.threshold if acc.best else None
    return {
        "trend": {
            "type": "line",
            "labels": [f"v{version.number}" for version, _acc in trend],
            "y": "%",
            "max": 100,
            "datasets": [
                {
                    "label": _("Precision (outcomes)"),
                    "data": [_percent(a.outcomes.precision.value) for _v, a in trend],
                },
                {
                    "label": _("Recall (outcomes)"),
                    "data": [_percent(a.outcomes.recall.value) for _v, a in trend],
                },
                {
                    "label": _("Precision (reps)"),
                    "data": [
                        _percent(a.verdicts.precision.value)
                        if a.verdicts.precision.enough
                        else None
                        for _v, a in trend
                    ],
                },
            ],
        },
        "bands": {
            "type": "bar",
            "labels": [
                f"{b.low}+" if b.high is None else f"{b.low}\N{EN DASH}{b.high}" for b in acc.bands
            ],
            "x": _("Score"),
            "y": "%",
            "datasets": [
                {
                    "label": _("Conversion"),
                    "data": [_percent(b.conversion.value) for b in acc.bands],
                }
            ],
        },
        "sweep": {
            "type": "line",
            "labels": [p.threshold for p in acc.sweep],
            "x": _("MQL threshold"),
            "y": "%",
            "max": 100,
            "datasets": [
                {
                    "label": _("Precision"),
                    "data": [_percent(p.confusion.precision.value) for p in acc.sweep],
                    "radius": [6 if p.threshold == best else 0 for p in acc.sweep],
                },
                {
                    "label": _("Recall"),
                    "data": [_percent(p.confusion.recall.value) for p in acc.sweep],
                    "radius": [6 if p.threshold == best else 0 for p in acc.sweep],
                },
            ],
        },
    }


@require_GET
def accuracy(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    return render(request, "feedback/accuracy.html", _accuracy_context(request, workshop))


@require_GET
def accuracy_print(request: AuthedRequest, slug: str) -> HttpResponse:
    """The accuracy report on paper: the same numbers, no navigation."""
    workshop = get_workshop_for_user(request.user, slug)
    return render(
        request,
        "feedback/accuracy_print.html",
        {**_accuracy_context(request, workshop), "printed_at": timezone.now()},
    )


def _csv_response(rows: Iterator[list[object]], filename: str) -> StreamingHttpResponse:
    """A CSV streamed row by row (a run has a row per lead), cells formula-escaped."""

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    response = StreamingHttpResponse(
        (writer.writerow([csv_safe(v) for v in row]) for row in rows),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def verdicts_csv(request: AuthedRequest, slug: str) -> StreamingHttpResponse:
    workshop = get_workshop_for_user(request.user, slug)

    def rows() -> Iterator[list[object]]:
        yield [
            _("time"), _("rep"), _("external id"), _("lead"), _("verdict"), _("reason"),
            _("note"), _("version"), _("qualified"), _("stage"), _("score"), _("current"),
        ]  # fmt: skip
        for f in verdict_selectors.verdicts_of(workshop).iterator(chunk_size=2000):
            yield [
                f.created_at.isoformat(), f.rep.get_username(), f.lead.external_id, str(f.lead),
                f.verdict, f.reason, f.note, f.version.number if f.version else "",
                f.qualified, f.stage, f.score, f.superseded_at is None,
            ]  # fmt: skip

    return _csv_response(rows(), f"{workshop.slug}-verdicts.csv")


@require_GET
def run_results_csv(
    request: AuthedRequest, slug: str, run_id: int
) -> HttpResponse | StreamingHttpResponse:
    run = get_run_for_user(request.user, slug, run_id)
    if run.state != RunState.DONE:
        messages.info(
            request,
            _("This backtest has not finished: its results can be exported once it is done."),
        )
        return redirect("feedback:run_detail", slug=slug, run_id=run.pk)

    def rows() -> Iterator[list[object]]:
        yield [_("external id"), _("lead"), _("company"), _("qualified"), _("junk"), _("score"),
               _("stage"), _("matched criteria")]  # fmt: skip
        results = (
            LeadResult.objects.filter(run=run)
            .select_related("lead")
            .order_by("lead_id")
            .only(
                "lead__external_id",
                "lead__name",
                "lead__email",
                "lead__company",
                "qualified",
                "junk",
                "score",
                "stage",
                "matched",
            )
        )
        for r in results.iterator(chunk_size=5000):
            yield [r.lead.external_id, str(r.lead), r.lead.company, r.qualified, r.junk,
                   r.score, r.stage, r.matched]  # fmt: skip

    return _csv_response(rows(), f"{run.workshop.slug}-backtest-{run.pk}.csv")
