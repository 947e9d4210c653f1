"""The proposal pages: the list, a proposal with its diff, discussion, votes and
backtest, its live updates, its revisions, and the consensus policy page."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from definitions import roles, rules
from definitions.authoring import builder
from definitions.catalog.selectors import catalog_for, describe_changes, render_lines
from definitions.core.extensions import extra_context
from definitions.core.forms import apply_errors
from definitions.core.http import AuthedRequest
from definitions.core.markdown import render_markdown
from definitions.core.once import submit_once
from definitions.core.querystring import whole_number
from definitions.deliberation import consensus
from definitions.deliberation import selectors as deliberation_selectors
from definitions.deliberation import services as deliberation_services
from definitions.deliberation.forms import (
    CommentEditForm,
    CommentForm,
    DeclineForm,
    OpenForm,
    PolicyForm,
    RestoreForm,
    VoteForm,
)
from definitions.models import Proposal, ProposalState, VoteChoice
from definitions.roles import Department
from definitions.rules.merge import Side
from definitions.versions import services as version_services
from definitions.versions.selectors import current_version
from definitions.versions.services import is_stale
from definitions.workshops import services as workshop_services
from definitions.workshops.access import (
    get_amendment_for_user,
    get_comment_for_user,
    get_own_proposal_for_user,
    get_proposal_for_user,
    get_version_for_user,
    get_workshop_for_user,
    require,
    require_author_or_admin,
)
from definitions.workshops.forms import EvaluationSettingsForm


def _back(proposal: Proposal, anchor: str = "") -> HttpResponse:
    url = reverse("definitions:proposal_detail", args=[proposal.workshop.slug, proposal.pk])
    return redirect(url + anchor)


@require_GET
def proposal_list(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    state = request.GET.get("state", "")
    if state not in ProposalState.values:
        state = ""
    return render(
        request,
        "definitions/proposal_list.html",
        {
            "workshop": workshop,
            "proposals": deliberation_selectors.proposals_of(workshop, state or None),
            "current": current_version(workshop),
            "state": state,
            "states": ProposalState.choices,
        },
    )


def _live_context(
    request: AuthedRequest,
    proposal: Proposal,
    tokens: deliberation_selectors.LiveTokens | None = None,
    *,
    votes: bool = True,
    discussion: bool = True,
) -> dict[str, Any]:
    """What the polled live parts of the page show: the votes and tally; the
    definition with its comment counts, the amendments and the discussion. Polled
    every few seconds by everyone following a vote, so it computes only the parts
    asked for and nothing else."""
    workshop = proposal.workshop
    # Per-user controls are part of the live parts: a poll must render exactly what a
    # full page load renders for this user (the author's Accept/Decline included).
    context: dict[str, Any] = {
        "workshop": workshop,
        "proposal": proposal,
        "tokens": tokens or deliberation_selectors.live_tokens(proposal),
        "votes_changed": votes,
        "discussion_changed": discussion,
        "can_comment": roles.COMMENT in workshop.user_perms,
        "can_amend": roles.PROPOSE in workshop.user_perms and proposal.state == ProposalState.OPEN,
        "is_author_or_admin": proposal.author_id == request.user.pk
        or roles.CHANGE in workshop.user_perms,
    }
    if votes:
        cast = list(deliberation_selectors.votes_of(proposal))
        confirmed = [v for v in cast if v.revision >= proposal.revision]
        ballots = [consensus.Ballot(v.choice, v.department) for v in confirmed]
        departments = dict(Department.choices)
        policy = deliberation_services.policy_of(workshop)
        context |= {
            "votes": confirmed,
            "earlier_votes": [v for v in cast if v.revision < proposal.revision],
            "tallies_hidden": policy.hide_tallies and proposal.state == ProposalState.OPEN,
            "my_vote": next((v for v in cast if v.voter_id == request.user.pk), None),
            "tally": [
                (departments.get(dep, dep), [row[c] for c in consensus.CHOICES])
                for dep, row in sorted(consensus.tally_by_department(ballots).items())
            ],
            "totals": [sum(1 for b in ballots if b.choice == c) for c in consensus.CHOICES],
            "choice_labels": [label for _value, label in VoteChoice.choices],
            "outcome_now": deliberation_services.outcome_of(
                proposal,
                [
                    *ballots,
                    *(
                        consensus.Ballot(v.choice, v.department, False)
                        for v in cast
                        if v.revision < proposal.revision
                    ),
                ],
            )
            if proposal.state == ProposalState.OPEN
            else None,
        }
    if discussion:
        catalog = catalog_for(workshop)
        definition = rules.parse(proposal.document, catalog).definition
        criteria = []
        if definition is not None:
            criteria = [
                (c.id, rules.render_criterion(c, catalog, _, ngettext))
                for c in rules.criteria(definition)
            ]
        comments = deliberation_selectors.comments_of(proposal)
        context |= {
            "definition": definition,
            "catalog": catalog,
            "lines": render_lines(definition, catalog) if definition else [],
            "criteria": dict(criteria),
            "criteria_choices": criteria,
            "comments": comments,
            "anchored": _anchored(comments),
            "amendments": list(proposal.amendments.select_related("author")),
        }
    return context


def _anchored(comments: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for comment in comments:
        if comment.criterion_id:
            counts[comment.criterion_id] = counts.get(comment.criterion_id, 0) + 1
    return counts


def _detail_context(request: AuthedRequest, proposal: Proposal) -> dict[str, Any]:
    """The whole page: the live part and everything around it."""
    live = _live_context(request, proposal)
    workshop, catalog, definition = proposal.workshop, live["catalog"], live["definition"]
    parent_definition = (
        rules.parse(proposal.parent.document, catalog).definition if proposal.parent else None
    )
    policy = deliberation_services.policy_of(workshop)
    current = current_version(workshop)
    stale = is_stale(proposal, current)
    published_since = None
    if stale and current is not None and proposal.parent is not None:
        current_definition = rules.parse(current.document, catalog).definition
        if parent_definition and current_definition:
            published_since = describe_changes(parent_definition, current_definition, catalog)
    return {
        **live,
        "changes": describe_changes(parent_definition, definition, catalog)
        if parent_definition and definition
        else None,
        "rationale_html": render_markdown(proposal.rationale),
        "stale": stale,
        "current_version": current,
        "published_since": published_since,
        "can_vote": roles.VOTE in workshop.user_perms and proposal.state == ProposalState.OPEN,
        "vote_form": VoteForm(),
        "comment_form": CommentForm(
            criteria=live["criteria_choices"], initial=_comment_initial(request)
        ),
        "open_form": OpenForm(
            initial=OpenForm.initial_for(policy.default_voting_days, proposal.rationale)
        ),
        "policy": policy,
        **extra_context("proposal_detail", workshop=workshop, proposal=proposal),
    }


def _comment_initial(request: AuthedRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    reply_to = whole_number(request.GET.get("reply_to"))
    if reply_to is not None:
        initial["parent"] = reply_to
    if request.GET.get("about"):
        initial["criterion_id"] = request.GET["about"][:64]
    return initial


@require_GET
def proposal_detail(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id)
    return render(request, "definitions/proposal_detail.html", _detail_context(request, proposal))


@require_GET
def proposal_live(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    """Polled every few seconds: 204 when nothing changed (htmx then does nothing),
    otherwise the live part of the page."""
    proposal = get_proposal_for_user(request.user, slug, proposal_id)
    tokens = deliberation_selectors.live_tokens(proposal)
    votes = request.GET.get("v") != tokens.votes
    discussion = request.GET.get("d") != tokens.discussion
    if not votes and not discussion:
        return HttpResponse(status=204)
    context = _live_context(request, proposal, tokens, votes=votes, discussion=discussion)
    return render(request, "definitions/proposal_detail.html#live", context)


def _service_call(request: AuthedRequest, proposal: Proposal, call: Any, done: str) -> bool:
    try:
        call()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    messages.success(request, done)
    return True


@require_POST
def proposal_open(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_own_proposal_for_user(request.user, slug, proposal_id, roles.PROPOSE)
    form = OpenForm(request.POST)
    if form.is_valid():
        _service_call(
            request,
            proposal,
            lambda: deliberation_services.proposal_open(
                actor=request.user,
                proposal=proposal,
                closes_at=form.cleaned_data["closes_at"],
                rationale=form.cleaned_data["rationale"],
            ),
            _("The proposal is open for votes."),
        )
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return _back(proposal)


@require_POST
def proposal_withdraw(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_own_proposal_for_user(request.user, slug, proposal_id, roles.PROPOSE)
    _service_call(
        request,
        proposal,
        lambda: deliberation_services.proposal_withdraw(actor=request.user, proposal=proposal),
        _("The proposal was withdrawn."),
    )
    return _back(proposal)


@require_POST
def proposal_close(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id, roles.CHANGE)
    _service_call(
        request,
        proposal,
        lambda: deliberation_services.proposal_close(actor=request.user, proposal=proposal),
        _("Voting closed."),
    )
    return _back(proposal)


@require_POST
def proposal_publish(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id, roles.PUBLISH)
    try:
        version = version_services.version_publish(actor=request.user, proposal=proposal)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(proposal)
    messages.success(request, _("Published as v%(n)s.") % {"n": version.number})
    return redirect("definitions:version_detail", slug=slug, number=version.number)


@require_POST
def vote_cast(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id, roles.VOTE)
    form = VoteForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            deliberation_services.vote_cast(
                actor=request.user,
                proposal=proposal,
                choice=form.cleaned_data["choice"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = _("Choose agree, abstain, disagree or block.")
    if request.htmx:
        context = _detail_context(request, proposal)
        context["vote_error"] = error
        context["vote_saved"] = not error
        if error:
            context["vote_form"] = form
        return render(
            request,
            "definitions/proposal_detail.html#vote-response",
            context,
            status=400 if error else 200,
        )
    if error:
        # Rendered, not redirected: the chosen option and the reason stay as sent.
        context = _detail_context(request, proposal)
        context |= {"vote_error": error, "vote_form": form}
        return render(request, "definitions/proposal_detail.html", context, status=400)
    messages.success(request, _("Your vote is recorded."))
    return _back(proposal, "#vote-panel")


@require_POST
@submit_once
def comment_add(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id, roles.COMMENT)
    form = CommentForm(request.POST, criteria=[(c, c) for c in _ids(proposal)])
    if not form.is_valid():
        messages.error(request, _("Write something first."))
        return _back(proposal, "#comment-form")
    parent = None
    if form.cleaned_data.get("parent"):
        parent = proposal.comments.filter(pk=form.cleaned_data["parent"]).first()
        if parent is None:
            raise Http404
    try:
        comment = deliberation_services.comment_add(
            actor=request.user,
            proposal=proposal,
            body=form.cleaned_data["body"],
            parent=parent,
            criterion_id=form.cleaned_data.get("criterion_id") or "",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(proposal, "#comment-form")
    return _back(proposal, f"#comment-{comment.pk}")


def _ids(proposal: Proposal) -> list[str]:
    return sorted(deliberation_services.criterion_ids(proposal.document))


@require_http_methods(["GET", "POST"])
def comment_edit(
    request: AuthedRequest, slug: str, proposal_id: int, comment_id: int
) -> HttpResponse:
    comment = get_comment_for_user(request.user, slug, proposal_id, comment_id, roles.COMMENT)
    form = CommentEditForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        try:
            deliberation_services.comment_edit(
                actor=request.user, comment=comment, body=form.cleaned_data["body"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _back(comment.proposal, f"#comment-{comment.pk}")
    elif comment.author_id != request.user.pk:
        raise PermissionDenied  # editing is for the author alone, admins included
    return render(
        request,
        "definitions/comment_edit.html",
        {"workshop": comment.proposal.workshop, "comment": comment, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def comment_delete(
    request: AuthedRequest, slug: str, proposal_id: int, comment_id: int
) -> HttpResponse:
    comment = get_comment_for_user(request.user, slug, proposal_id, comment_id, roles.COMMENT)
    require_author_or_admin(request.user, comment.proposal.workshop, comment.author_id)
    _service_call(
        request,
        comment.proposal,
        lambda: deliberation_services.comment_delete(actor=request.user, comment=comment),
        _("Comment deleted."),
    )
    return _back(comment.proposal, f"#comment-{comment.pk}")


@require_http_methods(["GET", "POST"])
@submit_once
def amendment_suggest(
    request: AuthedRequest, slug: str, proposal_id: int, criterion_id: str
) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id, roles.PROPOSE)
    catalog = catalog_for(proposal.workshop)
    current = _find_criterion(proposal.document, criterion_id)
    if current is None:
        raise Http404
    raw = current
    errors: list[str] = []
    reason = ""
    if request.method == "POST":
        kind = "activity" if "activity" in current else "field"
        raw = builder.parse_criterion(request.POST, criterion_id, kind, catalog)
        reason = request.POST.get("reason", "")
        if request.POST.get("action") == "suggest":
            try:
                deliberation_services.amendment_suggest(
                    actor=request.user,
                    proposal=proposal,
                    criterion_id=criterion_id,
                    replacement=raw,
                    reason=reason,
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(request, _("Your suggestion was sent to the author."))
                return _back(proposal, "#amendments")
    node = builder.single_node(raw, catalog)
    current_text = _render_current(proposal.document, criterion_id, catalog)
    context = {
        "workshop": proposal.workshop,
        "proposal": proposal,
        "node": node,
        "current_text": current_text,
        "errors": errors,
        "reason": reason,
        "fields_by_category": builder.fields_by_category(catalog),
        "activity_kinds": list(catalog.activity_kinds.values()),
        "categories": [(c.value, _(rules.CATEGORY_LABELS[c])) for c in rules.CRITERION_CATEGORIES],
        "window_labels": builder.WINDOW_LABELS,
        "mode_labels": builder.MODE_LABELS,
        "amend": True,
    }
    return render(
        request,
        "definitions/amendment_form.html",
        context,
        status=400 if errors else 200,
    )


def _find_criterion(document: Any, criterion_id: str) -> dict[str, Any] | None:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("id") == criterion_id and ("field" in node or "activity" in node):
                return node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _render_current(document: Any, criterion_id: str, catalog: rules.Catalog) -> str:
    definition = rules.parse(document, catalog).definition
    for criterion in rules.criteria(definition) if definition else ():
        if criterion.id == criterion_id:
            return rules.render_criterion(criterion, catalog, _, ngettext)
    return ""


@require_POST
def amendment_accept(
    request: AuthedRequest, slug: str, proposal_id: int, amendment_id: int
) -> HttpResponse:
    amendment = get_amendment_for_user(request.user, slug, proposal_id, amendment_id, roles.PROPOSE)
    require_author_or_admin(request.user, amendment.proposal.workshop, amendment.proposal.author_id)
    _service_call(
        request,
        amendment.proposal,
        lambda: deliberation_services.amendment_accept(actor=request.user, amendment=amendment),
        _("Amendment accepted: the proposal has a new revision."),
    )
    return _back(amendment.proposal, "#amendments")


@require_POST
def amendment_decline(
    request: AuthedRequest, slug: str, proposal_id: int, amendment_id: int
) -> HttpResponse:
    amendment = get_amendment_for_user(request.user, slug, proposal_id, amendment_id, roles.PROPOSE)
    require_author_or_admin(request.user, amendment.proposal.workshop, amendment.proposal.author_id)
    form = DeclineForm(request.POST)
    response = form.cleaned_data["response"] if form.is_valid() else ""
    _service_call(
        request,
        amendment.proposal,
        lambda: deliberation_services.amendment_decline(
            actor=request.user, amendment=amendment, response=str(response)
        ),
        _("Amendment declined."),
    )
    return _back(amendment.proposal, "#amendments")


@require_GET
def proposal_revisions(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id)
    catalog = catalog_for(proposal.workshop)
    revisions = list(proposal.revisions.select_related("created_by"))
    rows: list[tuple[Any, list[str] | None]] = []
    previous: rules.Definition | None = None
    for revision in revisions:
        definition = rules.parse(revision.document, catalog).definition
        changes: list[str] | None = (
            describe_changes(previous, definition, catalog) if previous and definition else None
        )
        rows.append((revision, changes))
        previous = definition
    return render(
        request,
        "definitions/proposal_revisions.html",
        {"workshop": proposal.workshop, "proposal": proposal, "rows": rows},
    )


@require_http_methods(["GET", "POST"])
def policy_edit(request: AuthedRequest, slug: str) -> HttpResponse:
    """The consensus rules and, in a second form on the same page, how backtests judge
    leads (the handoff stage and the decision window)."""
    workshop = get_workshop_for_user(request.user, slug)
    policy = deliberation_services.policy_of(workshop)
    initial = {
        "quorum_percent": policy.quorum_percent,
        "required_departments": policy.required_departments,
        "majority_percent": policy.majority_percent,
        "block_vetoes": policy.block_vetoes,
        "default_voting_days": policy.default_voting_days,
        "hide_tallies": policy.hide_tallies,
    }
    evaluation_initial = {
        "handoff_stage": workshop.handoff_stage,
        "decision_days": workshop.decision_days,
        "shadow_days": workshop.shadow_days,
        "review_min_leads": workshop.review_min_leads,
    }
    is_evaluation = request.method == "POST" and request.POST.get("section") == "evaluation"
    form = PolicyForm(
        request.POST if request.method == "POST" and not is_evaluation else None, initial=initial
    )
    evaluation_form = EvaluationSettingsForm(
        request.POST if is_evaluation else None, initial=evaluation_initial, prefix="evaluation"
    )
    if is_evaluation:
        require(workshop, roles.CHANGE)
        if evaluation_form.is_valid():
            try:
                workshop_services.workshop_evaluation_update(
                    actor=request.user, workshop=workshop, **evaluation_form.cleaned_data
                )
            except ValidationError as exc:
                apply_errors(evaluation_form, exc)
            else:
                messages.success(request, _("The evaluation settings are saved."))
                return redirect("definitions:policy_edit", slug=slug)
    elif request.method == "POST":
        require(workshop, roles.CHANGE)
        if form.is_valid():
            try:
                deliberation_services.policy_update(
                    actor=request.user, workshop=workshop, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("The consensus rules are saved."))
                return redirect("definitions:policy_edit", slug=slug)
    return render(
        request,
        "definitions/policy.html",
        {
            "workshop": workshop,
            "form": form,
            "evaluation_form": evaluation_form,
            "can_edit": roles.CHANGE in workshop.user_perms,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def version_restore(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    """Going back to an earlier version is a decision: a reason, a confirmation page
    with the diff against the current version and both backtests, then either a
    proposal to restore it (voted like any other) or, for an admin, an emergency
    rollback recorded as such."""
    version = get_version_for_user(request.user, slug, number)
    workshop = version.workshop
    require(workshop, roles.PROPOSE)
    current = current_version(workshop)
    if current is None or current.pk == version.pk:
        messages.error(request, _("This is already the current version."))
        return redirect("definitions:version_history", slug=slug)
    form = RestoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        emergency = request.POST.get("action") == "emergency"
        reason = form.cleaned_data["reason"]
        try:
            if emergency:
                require(workshop, roles.PUBLISH)
                if not form.cleaned_data["confirm_emergency"]:
                    raise ValidationError(
                        {
                            "confirm_emergency": _(
                                "Tick the box to confirm a rollback without a vote."
                            )
                        }
                    )
                new = version_services.version_rollback(
                    actor=request.user, version=version, reason=reason
                )
            else:
                proposal = deliberation_services.restore_propose(
                    actor=request.user, version=version, reason=reason
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if emergency:
                messages.success(
                    request,
                    _("Emergency rollback: v%(old)s is published again as v%(new)s.")
                    % {"old": number, "new": new.number},
                )
                return redirect("definitions:version_detail", slug=slug, number=new.number)
            messages.success(request, _("The restore is proposed and open for votes."))
            return _back(proposal)
    catalog = catalog_for(workshop)
    old = rules.parse(current.document, catalog).definition
    new_definition = rules.parse(version.document, catalog).definition
    return render(
        request,
        "definitions/version_restore.html",
        {
            "workshop": workshop,
            "version": version,
            "current": current,
            "form": form,
            "changes": describe_changes(old, new_definition, catalog)
            if old and new_definition
            else None,
            "can_publish": roles.PUBLISH in workshop.user_perms,
            **extra_context("version_restore", workshop=workshop, versions=[current, version]),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def proposal_rebase(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    """Carry a stale proposal onto the current version; each conflicting criterion is
    shown with the three texts (base, published, proposal) and settled here."""
    proposal = get_own_proposal_for_user(request.user, slug, proposal_id, roles.PROPOSE)
    current, result = deliberation_services.rebase_preview(proposal)
    if result is None or current is None:
        messages.info(request, _("This proposal is already based on the current version."))
        return _back(proposal)
    resolutions: dict[str, Side] = {}
    error = ""
    if request.method == "POST":
        for conflict in result.conflicts:
            choice = request.POST.get(f"resolve-{conflict.node_id}", "")
            if choice in ("ours", "theirs"):
                resolutions[conflict.node_id] = cast(Side, choice)
        try:
            deliberation_services.proposal_rebase(
                actor=request.user, proposal=proposal, resolutions=resolutions
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request,
                _("The proposal is rebased onto v%(n)s.") % {"n": current.number},
            )
            if proposal.state == ProposalState.DRAFT:
                return redirect("definitions:draft_builder", slug=slug, proposal_id=proposal.pk)
            return _back(proposal)
    catalog = catalog_for(proposal.workshop)
    return render(
        request,
        "definitions/proposal_rebase.html",
        {
            "workshop": proposal.workshop,
            "proposal": proposal,
            "current": current,
            "conflicts": [
                (
                    c,
                    [
                        _conflict_text(side, c.node_id, catalog)
                        for side in (c.base, c.theirs, c.ours)
                    ],
                )
                for c in result.conflicts
            ],
            "resolutions": resolutions,
            "error": error,
        },
        status=400 if request.method == "POST" else 200,
    )


def _conflict_text(content: Any, node_id: str, catalog: rules.Catalog) -> str:
    """One side of a conflict in plain language: a criterion as the builder writes it,
    a threshold as its number, a group by its mode."""
    if content is None:
        return _("(removed)")
    if node_id == "@rationale":
        return str(content)
    if node_id in ("@mql", "@sql"):
        return _("%(points)s points") % {"points": content}
    if isinstance(content, dict) and "@mode" in content:
        return _("group “%(id)s”") % {"id": node_id}
    document = {
        "schema_version": 1,
        "qualify": {"id": "g", "all": [content]},
        "disqualify": [],
        "scoring": [],
        "stages": {"mql": 1, "sql": 2, "sales_ready": []},
    }
    definition = rules.parse(document, catalog).definition
    if definition is None:
        return str(content)
    return rules.render_criterion_with_points(
        next(iter(rules.criteria(definition))), catalog, _, ngettext
    )
