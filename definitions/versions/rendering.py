"""A definition document as a download (JSON, Markdown) or a print page, for versions
and drafts alike."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render

from definitions import rules
from definitions.catalog.selectors import (
    catalog_for,
    render_lines,
)
from definitions.core.http import AuthedRequest
from definitions.models import (
    Workshop,
)
from definitions.versions.exports import to_json_text, to_markdown


def parsed(workshop: Workshop, document: Any, catalog: rules.Catalog) -> rules.Definition | None:
    return rules.parse(document, catalog).definition


def document_response(
    document: Any,
    workshop: Workshop,
    fmt: str,
    *,
    title: str,
    subtitle: str,
    filename: str,
) -> HttpResponse:
    if fmt == "json":
        response = HttpResponse(to_json_text(document), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
        return response
    if fmt == "md":
        catalog = catalog_for(workshop)
        definition = parsed(workshop, document, catalog)
        if definition is None:
            raise Http404
        text = to_markdown(definition, catalog, title=title, subtitle=subtitle)
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.md"'
        return response
    raise Http404


def print_page(
    request: AuthedRequest, workshop: Workshop, document: Any, heading: str, subheading: str
) -> HttpResponse:
    catalog = catalog_for(workshop)
    definition = parsed(workshop, document, catalog)
    return render(
        request,
        "definitions/print.html",
        {
            "workshop": workshop,
            "heading": heading,
            "subheading": subheading,
            "lines": render_lines(definition, catalog) if definition else [],
        },
    )
