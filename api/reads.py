"""What integrations read through /api/v1/: the key's workshop's versions, proposals
and the accuracy of a version's latest backtest. Mounted on the API in api/api.py;
the key decides the workshop, so nothing here takes a slug."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from ninja import P, PathEx, Query, QueryEx, Router
from ninja.errors import HttpError, ValidationError
from pydantic import BaseModel, Field

from api import schemas
from api.models import ApiKey
from definitions.catalog.selectors import catalog_for
from definitions.core.events import absolute_url
from definitions.models import Proposal, ProposalState, Version, Vote
from feedback.accuracy.selectors import accuracy_of
from feedback.backtests.selectors import latest_done_run

router = Router(tags=["workshop"])

ERRORS: dict[int, Any] = {401: schemas.Message, 422: schemas.ValidationErrors}
MAX_LIST = 200
Limit = QueryEx[int, P(ge=1, le=MAX_LIST, description="At most this many, newest first.")]
VersionNumber = PathEx[int, P(ge=1, le=2**31 - 1, description="The version's number.")]
ProposalId = PathEx[int, P(ge=1, le=2**63 - 1, description="The proposal's id.")]
VersionQuery = QueryEx[
    int | None,
    P(ge=1, le=2**31 - 1, description="A version number; the current version when left out."),
]
NO_VERSION = gettext_lazy("No version with this number in this workshop.")


def _key(request: HttpRequest) -> ApiKey:
    return cast(ApiKey, request.auth)  # type: ignore[attr-defined]


def _known_query(request: HttpRequest, *allowed: str) -> None:
    """Refuse a query parameter the operation does not have (a misspelt `limt` must
    not silently read as the default), as 422 with its path."""
    unknown = [name for name in request.GET if name not in allowed]
    if unknown:
        raise ValidationError(
            [
                {"loc": ["query", name], "msg": "Unknown parameter.", "type": "extra_forbidden"}
                for name in unknown
            ]
        )


# ------------------------------------------------------------------ shapes


class VersionOut(BaseModel):
    number: int
    note: str
    published_at: datetime
    published_by: str | None
    parent: int | None = Field(description="The number of the version it was derived from.")
    url: str = Field(description="The version's page.")


class VersionDetailOut(VersionOut):
    document: dict[str, Any] = Field(
        description="The definition document (docs/definition-format.md)."
    )


class ProposalOut(BaseModel):
    id: int
    title: str
    state: Literal["draft", "open", "accepted", "rejected", "withdrawn", "published"]
    revision: int
    parent: int | None = Field(description="The number of the version it changes.")
    opened_at: datetime | None
    closes_at: datetime | None
    closed_at: datetime | None
    outcome: str = Field(description="The outcome statement, once voting closed.")
    published_version: int | None
    url: str


class ProposalDetailOut(ProposalOut):
    rationale: str
    votes: dict[str, int] = Field(description="Votes cast, per choice (agree, abstain, …).")
    document: dict[str, Any]


class ConfusionOut(BaseModel):
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None
    n: int


class CutOut(BaseModel):
    outcomes: ConfusionOut = Field(description="Measured against the CRM's outcomes.")
    verdicts: ConfusionOut = Field(description="Measured against the sales reps' verdicts.")


class AccuracyOut(BaseModel):
    version: int
    run: int = Field(description="The backtest measured (its latest finished one).")
    finished_at: datetime | None
    leads: int
    qualified: int
    handoff: str = Field(description="The workshop's handoff stage: the headline's cut.")
    outcomes: ConfusionOut
    verdicts: ConfusionOut
    cuts: dict[str, CutOut] = Field(description="Every cut: qualified, mql, sql.")


# ------------------------------------------------------------------ reads


def _version_out(version: Version, slug: str) -> dict[str, Any]:
    return {
        "number": version.number,
        "note": version.note,
        "published_at": version.published_at,
        "published_by": version.published_by.get_username() if version.published_by else None,
        "parent": version.parent.number if version.parent else None,
        "url": absolute_url(reverse("definitions:version_detail", args=[slug, version.number])),
    }


def _proposal_out(proposal: Proposal, slug: str) -> dict[str, Any]:
    return {
        "id": proposal.pk,
        "title": proposal.title,
        "state": proposal.state,
        "revision": proposal.revision,
        "parent": proposal.parent.number if proposal.parent else None,
        "opened_at": proposal.opened_at,
        "closes_at": proposal.closes_at,
        "closed_at": proposal.closed_at,
        "outcome": proposal.outcome,
        "published_version": (
            proposal.published_version.number if proposal.published_version else None
        ),
        "url": absolute_url(reverse("definitions:proposal_detail", args=[slug, proposal.pk])),
    }


def _versions(key: ApiKey) -> Any:
    return Version.objects.filter(workshop_id=key.workshop_id).select_related(
        "published_by", "parent"
    )


def _proposals(key: ApiKey) -> Any:
    # Drafts are their authors' work in progress: the API shows what is put to a vote.
    return (
        Proposal.objects.filter(workshop_id=key.workshop_id)
        .exclude(state=ProposalState.DRAFT)
        .select_related("parent", "published_version")
    )


@router.get(
    "/versions",
    response={200: list[VersionOut], **ERRORS},
    operation_id="versions_list",
    summary="List the published versions, newest first",
)
def versions_list(request: HttpRequest, limit: Limit = 50) -> list[dict[str, Any]]:
    _known_query(request, "limit")
    key = _key(request)
    return [_version_out(v, key.workshop.slug) for v in _versions(key).order_by("-number")[:limit]]


@router.get(
    "/versions/{number}",
    response={200: VersionDetailOut, 404: schemas.Message, **ERRORS},
    operation_id="version_get",
    summary="Read one version with its definition document",
)
def version_get(request: HttpRequest, number: VersionNumber) -> dict[str, Any]:
    _known_query(request)
    key = _key(request)
    version = _versions(key).filter(number=number).first()
    if version is None:
        raise HttpError(404, str(NO_VERSION))
    return {**_version_out(version, key.workshop.slug), "document": version.document}


@router.get(
    "/proposals",
    response={200: list[ProposalOut], **ERRORS},
    operation_id="proposals_list",
    summary="List the proposals put to a vote, newest first",
)
def proposals_list(
    request: HttpRequest,
    state: Query[Literal["open", "accepted", "rejected", "withdrawn", "published"] | None] = None,
    limit: Limit = 50,
) -> list[dict[str, Any]]:
    """Every proposal except drafts; `state` narrows the list."""
    _known_query(request, "state", "limit")
    key = _key(request)
    proposals = _proposals(key)
    if state is not None:
        proposals = proposals.filter(state=state)
    return [
        _proposal_out(p, key.workshop.slug)
        for p in proposals.order_by("-created_at", "-id")[:limit]
    ]


@router.get(
    "/proposals/{proposal_id}",
    response={200: ProposalDetailOut, 404: schemas.Message, **ERRORS},
    operation_id="proposal_get",
    summary="Read one proposal with its vote counts and document",
)
def proposal_get(request: HttpRequest, proposal_id: ProposalId) -> dict[str, Any]:
    _known_query(request)
    key = _key(request)
    proposal = _proposals(key).filter(pk=proposal_id).first()
    if proposal is None:
        raise HttpError(404, gettext("No proposal with this id in this workshop."))
    votes = dict(
        Vote.objects.filter(proposal=proposal)
        .values("choice")
        .annotate(n=Count("id"))
        .values_list("choice", "n")
    )
    return {
        **_proposal_out(proposal, key.workshop.slug),
        "rationale": proposal.rationale,
        "votes": votes,
        "document": proposal.document,
    }


@router.get(
    "/accuracy",
    response={200: AccuracyOut, 404: schemas.Message, **ERRORS},
    operation_id="accuracy_get",
    summary="The accuracy of a version's latest finished backtest",
)
def accuracy_get(request: HttpRequest, version: VersionQuery = None) -> dict[str, Any]:
    """Measured against outcomes and against the reps' verdicts, at the workshop's
    handoff stage and at every cut. `version` defaults to the current one; 404 when
    it does not exist or has no finished backtest yet."""
    _known_query(request, "version")
    key = _key(request)
    versions = _versions(key).order_by("-number")
    chosen = (versions.filter(number=version) if version is not None else versions).first()
    run = latest_done_run(key.workshop, version=chosen) if chosen is not None else None
    if chosen is None:
        raise HttpError(404, str(NO_VERSION))
    if run is None:
        raise HttpError(404, gettext("This version has no finished backtest yet."))
    run.workshop = key.workshop
    measured = accuracy_of(run, catalog_for(key.workshop), gettext)
    counts = run.stage_counts or {}
    return {
        "version": chosen.number,
        "run": run.pk,
        "finished_at": run.finished_at,
        "leads": run.leads_total,
        "qualified": counts.get("qualified", 0),
        "handoff": measured.handoff,
        "outcomes": measured.outcomes.as_dict(),
        "verdicts": measured.verdicts.as_dict(),
        "cuts": {stage: cut.as_dict() for stage, cut in measured.cuts.items()},
    }
