"""The compare page: up to four versions and drafts side by side — each definition in
plain language, where each differs from the first, and (from the feedback app, through
the page_context extension point) their backtests and accuracy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from definitions import rules
from definitions.catalog.selectors import catalog_for, describe_changes, render_lines
from definitions.core.extensions import extra_context
from definitions.core.http import AuthedRequest
from definitions.models import Proposal, ProposalState, Version, Workshop
from definitions.workshops.access import get_workshop_for_user, one_or_404

MAX_ITEMS = 4


@dataclass
class Item:
    """One column: a version or a draft."""

    key: str  # "v<number>" or "d<proposal id>"
    label: str
    document: Any
    version: Version | None = None
    proposal: Proposal | None = None
    definition: rules.Definition | None = None
    lines: list[rules.Line] = field(default_factory=list)
    changes: list[str] | None = None  # against the first column; None for the first
    thresholds: tuple[int, int] | None = None


def _ids(values: list[str]) -> list[int]:
    out = []
    for raw in values:
        if raw.isascii() and raw.isdigit() and len(raw) < 10 and int(raw) not in out:
            out.append(int(raw))
    return out


def _items(workshop: Workshop, versions: list[int], drafts: list[int]) -> list[Item]:
    """The chosen columns, versions first; unknown numbers and ids are 404, as on
    their own pages (ids of another workshop's drafts included)."""
    items = []
    for number in versions:
        version: Version = one_or_404(Version.objects, workshop=workshop, number=number)
        items.append(
            Item(
                f"v{number}",
                _("Version v%(n)s") % {"n": number},
                version.document,
                version=version,
            )
        )
    for pk in drafts:
        proposal: Proposal = one_or_404(
            Proposal.objects.select_related("parent", "author"), pk=pk, workshop=workshop
        )
        items.append(
            Item(
                f"d{pk}",
                _("“%(title)s” (%(state)s)")
                % {"title": proposal.title, "state": proposal.get_state_display()},
                proposal.document,
                proposal=proposal,
            )
        )
    return items


def _open_with(workshop: Workshop, raw: str) -> list[int]:
    """A proposal and up to three other open proposals of the workshop."""
    first = _ids([raw])
    if not first:
        return []
    proposal: Proposal = one_or_404(Proposal.objects, pk=first[0], workshop=workshop)
    others = (
        Proposal.objects.filter(workshop=workshop, state=ProposalState.OPEN)
        .exclude(pk=proposal.pk)
        .order_by("-id")
        .values_list("pk", flat=True)[: MAX_ITEMS - 1]
    )
    return [proposal.pk, *others]


@require_GET
def compare(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    catalog = catalog_for(workshop)
    versions = _ids(request.GET.getlist("v"))
    drafts = _ids(request.GET.getlist("d"))
    if request.GET.get("with_open"):
        drafts = _open_with(workshop, request.GET["with_open"])
        versions = []
    error = ""
    if len(versions) + len(drafts) > MAX_ITEMS:
        error = _("Choose at most four versions and drafts to compare.")
        versions, drafts = [], []
    items = _items(workshop, versions, drafts)
    first: rules.Definition | None = None
    for index, item in enumerate(items):
        item.definition = rules.parse(item.document, catalog).definition
        if item.definition is None:
            continue
        item.lines = render_lines(item.definition, catalog)
        item.thresholds = (item.definition.stages.mql, item.definition.stages.sql)
        if index == 0:
            first = item.definition
        elif first is not None:
            item.changes = describe_changes(first, item.definition, catalog)
    status = 400 if error else 200
    return render(
        request,
        "definitions/compare.html",
        {
            "workshop": workshop,
            "items": items,
            "error": error,
            "chosen_versions": {i.version.number for i in items if i.version is not None},
            "chosen_drafts": {i.proposal.pk for i in items if i.proposal is not None},
            "all_versions": Version.objects.filter(workshop=workshop).order_by("-number")[:50],
            "all_drafts": Proposal.objects.filter(workshop=workshop)
            .exclude(state=ProposalState.PUBLISHED)
            .order_by("-id")[:50],
            **extra_context("compare", workshop=workshop, items=items),
        },
        status=status,
    )
