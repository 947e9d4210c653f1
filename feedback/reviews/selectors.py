"""Reads of the version reviews and the decision records: a version's review as the
pages show it, the reviews for the workshop home, one version's whole record (the
definition, its diff, the vote, the discussion, the evidence, the review) and the
workshop's decision log."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count
from django.utils.dateparse import parse_datetime

from definitions import rules
from definitions.catalog.selectors import catalog_for, describe_changes, render_lines
from definitions.models import (
    Amendment,
    AmendmentState,
    Comment,
    HandoffStage,
    Proposal,
    Version,
    Vote,
    VoteChoice,
    Workshop,
)
from definitions.roles import Department
from feedback.models import VersionReview
from feedback.reviews.figures import Comparison, Review, review_of
from feedback.reviews.hooks import shadow_evidence_at_publish


def review_for(version: Version, workshop: Workshop) -> Review:
    """The version's review; an empty one (not counted yet) when it has no row."""
    row = VersionReview.objects.filter(version=version).first()
    if row is None:
        row = VersionReview(version=version, workshop=workshop)
    return review_of(row, number=version.number, minimum=workshop.review_min_leads)


def home_reviews(workshop: Workshop, limit: int = 3) -> list[tuple[Version, Review]]:
    """The newest versions whose review is ready (enough decided leads), for the home
    page: two indexed queries whatever the number of leads."""
    rows = (
        VersionReview.objects.filter(
            workshop=workshop,
            computed_at__isnull=False,
            decided__gte=workshop.review_min_leads,
        )
        .select_related("version")
        .order_by("-version__number")[:limit]
    )
    return [
        (row.version, review_of(row, number=row.version.number, minimum=workshop.review_min_leads))
        for row in rows
    ]


@dataclass(frozen=True)
class VoteLine:
    voter: str
    choice: str
    choice_label: str
    reason: str
    revision: int
    cast_at: datetime


@dataclass(frozen=True)
class DepartmentVotes:
    department: str
    label: str
    votes: list[VoteLine]
    tally: list[tuple[str, int]]  # (choice label, count), in the choices' order


@dataclass(frozen=True)
class CommentLine:
    author: str
    body: str
    created_at: datetime
    depth: int
    criterion_id: str


@dataclass(frozen=True)
class Promise:
    """The backtest the vote saw, as counted when the version was published."""

    run: int | None
    as_of: datetime | None
    leads: int
    handoff: str
    stages: dict[str, int]

    @property
    def handoff_label(self) -> str:
        if self.handoff not in HandoffStage.values:
            return self.handoff
        return str(HandoffStage(self.handoff).label)


@dataclass(frozen=True)
class DecisionRecord:
    workshop: Workshop
    version: Version
    lines: list[rules.Line]
    changes: list[str] | None
    proposal: Proposal | None
    departments: list[DepartmentVotes]
    tally: list[tuple[str, int]]
    amendments: list[Amendment]
    comments: list[CommentLine]
    promise: Promise | None
    comparisons: list[Comparison]
    shadow: dict[str, Any] | None
    review: Review
    extra: dict[str, Any] = field(default_factory=dict)


def _name(user: Any) -> str:
    if user is None:
        return "—"
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return str(full or user.get_username())


def _departments(proposal: Proposal) -> tuple[list[DepartmentVotes], list[tuple[str, int]]]:
    labels = dict(VoteChoice.choices)
    order = {value: i for i, value in enumerate(Department.values)}
    votes = sorted(
        proposal.votes.select_related("voter"),
        key=lambda v: (order.get(v.department, len(order)), v.cast_at, v.pk),
    )
    grouped: dict[str, list[VoteLine]] = {}
    for vote in votes:
        grouped.setdefault(vote.department, []).append(
            VoteLine(
                voter=_name(vote.voter),
                choice=vote.choice,
                choice_label=str(labels.get(vote.choice, vote.choice)),
                reason=vote.reason,
                revision=vote.revision,
                cast_at=vote.cast_at,
            )
        )
    department_labels = dict(Department.choices)
    departments = []
    for department, lines in grouped.items():
        counted = Counter(line.choice for line in lines)
        departments.append(
            DepartmentVotes(
                department=department,
                label=str(department_labels.get(department, department)),
                votes=lines,
                tally=[(str(labels[c]), counted[c]) for c in VoteChoice.values if counted[c]],
            )
        )
    overall = Counter(vote.choice for vote in votes)
    tally = [(str(labels[c]), overall[c]) for c in VoteChoice.values]
    return departments, tally


def _comments(proposal: Proposal) -> list[CommentLine]:
    """The discussion the vote closed on: every comment not deleted, posted before the
    vote closed, in thread order (the comments the decision settled)."""
    comments = proposal.comments.filter(deleted_at__isnull=True).select_related("author")
    if proposal.closed_at is not None:
        comments = comments.filter(created_at__lte=proposal.closed_at)
    rows = list(comments.order_by("created_at", "id"))
    children: dict[int | None, list[Comment]] = {}
    present = {c.pk for c in rows}
    for comment in rows:
        parent = comment.parent_id if comment.parent_id in present else None
        children.setdefault(parent, []).append(comment)
    out: list[CommentLine] = []

    def walk(parent: int | None, depth: int) -> None:
        for comment in children.get(parent, []):
            out.append(
                CommentLine(
                    author=_name(comment.author),
                    body=comment.body,
                    created_at=comment.created_at,
                    depth=min(depth, 4),
                    criterion_id=comment.criterion_id,
                )
            )
            walk(comment.pk, depth + 1)

    walk(None, 0)
    return out


def _promise(review: Review) -> Promise | None:
    data = review.row.promise or {}
    if not data:
        return None
    as_of = parse_datetime(str(data.get("as_of") or ""))
    return Promise(
        run=data.get("run"),
        as_of=as_of,
        leads=int(data.get("leads") or 0),
        # The stage the comparison is made at: the observation's, when counted.
        handoff=str((review.row.observed or {}).get("handoff") or data.get("handoff") or ""),
        stages={str(k): int(v) for k, v in (data.get("stages") or {}).items()},
    )


def decision_record(version: Version) -> DecisionRecord:
    """Everything the record of `version` shows, in the reader's language."""
    workshop = version.workshop
    catalog = catalog_for(workshop)
    definition = rules.parse(version.document, catalog).definition
    parent = version.parent
    parent_definition = rules.parse(parent.document, catalog).definition if parent else None
    proposal = Proposal.objects.filter(published_version=version).select_related("author").first()
    departments: list[DepartmentVotes] = []
    tally: list[tuple[str, int]] = []
    amendments: list[Amendment] = []
    comments: list[CommentLine] = []
    if proposal is not None:
        departments, tally = _departments(proposal)
        amendments = list(
            Amendment.objects.filter(proposal=proposal)
            .exclude(state=AmendmentState.PENDING)
            .select_related("author", "decided_by")
            .order_by("created_at", "id")
        )
        comments = _comments(proposal)
    review = review_for(version, workshop)
    return DecisionRecord(
        workshop=workshop,
        version=version,
        lines=render_lines(definition, catalog) if definition else [],
        changes=(
            describe_changes(parent_definition, definition, catalog)
            if parent_definition and definition
            else None
        ),
        proposal=proposal,
        departments=departments,
        tally=tally,
        amendments=amendments,
        comments=comments,
        promise=_promise(review),
        comparisons=review.comparisons,
        shadow=shadow_evidence_at_publish(version, proposal),
        review=review,
    )


@dataclass(frozen=True)
class LogRow:
    version: Version
    proposal: Proposal | None
    tally: dict[str, int]
    review: Review


def decision_log(workshop: Workshop) -> list[LogRow]:
    """Every version with its proposal, its vote count and its review, newest first:
    three queries and one count of votes grouped by proposal and choice."""
    versions = list(
        Version.objects.filter(workshop=workshop).select_related("published_by").order_by("-number")
    )
    proposals = {
        p.published_version_id: p
        for p in Proposal.objects.filter(workshop=workshop, published_version__isnull=False)
    }
    reviews = {r.version_id: r for r in VersionReview.objects.filter(workshop=workshop)}
    counts: dict[int, dict[str, int]] = {}
    for proposal_id, choice, n in _vote_counts([p.pk for p in proposals.values()]):
        counts.setdefault(proposal_id, {})[choice] = n
    rows = []
    for version in versions:
        proposal = proposals.get(version.pk)
        row = reviews.get(version.pk) or VersionReview(version=version, workshop=workshop)
        rows.append(
            LogRow(
                version=version,
                proposal=proposal,
                tally=counts.get(proposal.pk, {}) if proposal else {},
                review=review_of(row, number=version.number, minimum=workshop.review_min_leads),
            )
        )
    return rows


def _vote_counts(proposal_ids: list[int]) -> list[tuple[int, str, int]]:
    return list(
        Vote.objects.filter(proposal_id__in=proposal_ids)
        .values_list("proposal_id", "choice")
        .annotate(n=Count("id"))
        .values_list("proposal_id", "choice", "n")
    )
