"""Version pages: one version (with its diff and backtest), its export and print page,
the history with comparisons, and rollback."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from definitions import rules
from definitions.catalog.selectors import (
    catalog_for,
    describe_changes,
    render_lines,
)
from definitions.core import labels
from definitions.core.extensions import extra_context
from definitions.core.http import AuthedRequest
from definitions.core.querystring import whole_number
from definitions.versions import selectors as version_selectors
from definitions.versions.rendering import document_response, parsed, print_page
from definitions.workshops.access import (
    get_version_for_user,
    get_workshop_for_user,
)


@require_GET
def version_export(request: AuthedRequest, slug: str, number: int, fmt: str) -> HttpResponse:
    version = get_version_for_user(request.user, slug, number)
    return document_response(
        version.document,
        version.workshop,
        fmt,
        title=_("%(workshop)s — lead definition v%(n)s")
        % {"workshop": version.workshop.name, "n": version.number},
        subtitle=_("Published %(date)s") % {"date": labels.day_text(version.published_at)},
        filename=f"{slug}-v{version.number}",
    )


@require_GET
def version_detail(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    version = get_version_for_user(request.user, slug, number)
    catalog = catalog_for(version.workshop)
    definition = parsed(version.workshop, version.document, catalog)
    parent_definition = (
        parsed(version.workshop, version.parent.document, catalog) if version.parent else None
    )
    return render(
        request,
        "definitions/version_detail.html",
        {
            "workshop": version.workshop,
            "version": version,
            "lines": render_lines(definition, catalog) if definition else [],
            "changes": (
                describe_changes(parent_definition, definition, catalog)
                if parent_definition and definition
                else None
            ),
            **extra_context("version_detail", workshop=version.workshop, version=version),
        },
    )


@require_GET
def version_print(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    version = get_version_for_user(request.user, slug, number)
    return print_page(
        request,
        version.workshop,
        version.document,
        _("%(workshop)s — lead definition v%(n)s")
        % {"workshop": version.workshop.name, "n": version.number},
        _("Published %(date)s") % {"date": labels.day_text(version.published_at)},
    )


@require_GET
def version_history(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    versions = list(version_selectors.versions_of(workshop))
    numbers = {v.number: v for v in versions}
    compare = None
    a, b = request.GET.get("a", ""), request.GET.get("b", "")
    first, second = whole_number(a), whole_number(b)
    if first in numbers and second in numbers:
        assert first is not None and second is not None
        catalog = catalog_for(workshop)
        old = rules.parse(numbers[first].document, catalog).definition
        new = rules.parse(numbers[second].document, catalog).definition
        if old and new:
            compare = (first, second, describe_changes(old, new, catalog))
    return render(
        request,
        "definitions/version_history.html",
        {
            "workshop": workshop,
            "versions": versions,
            "compare": compare,
            "a": a,
            "b": b,
            "current": versions[0] if versions else None,
        },
    )
