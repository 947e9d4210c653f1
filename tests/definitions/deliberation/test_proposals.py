"""Deliberation: every state transition and every refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from definitions.authoring import services as authoring_services
from definitions.deliberation import services as deliberation_services
from definitions.models import (
    Amendment,
    Notification,
    Proposal,
    ProposalState,
    PublishedVersionIsImmutable,
    Version,
    Vote,
    Workshop,
)
from definitions.versions import services as version_services
from tests.factories import logged_in, worked_example
from tests.htmlcheck import assert_inert

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(marketer: Any, seller: Any, leader: Any, rep: Any, viewer: Any) -> dict[str, Any]:
    return {"marketer": marketer, "seller": seller, "leader": leader, "rep": rep, "viewer": viewer}


@pytest.fixture
def draft(seller: Any, workshop: Workshop, v1: Version) -> Proposal:
    document: Any = worked_example()
    document["stages"]["mql"] = 55
    return authoring_services.proposal_create(
        actor=seller, workshop=workshop, title="Raise the MQL bar", document=document
    )


def open_(proposal: Proposal, actor: Any, days: int = 3) -> Proposal:
    return deliberation_services.proposal_open(
        actor=actor,
        proposal=proposal,
        closes_at=timezone.now() + timedelta(days=days),
        rationale="Too many weak MQLs.",
    )


@pytest.fixture
def opened(draft: Proposal, seller: Any, team: dict[str, Any]) -> Proposal:
    return open_(draft, seller)


def simple_policy(workshop: Workshop, admin: Any, **overrides: Any) -> None:
    values: dict[str, Any] = {
        "quorum_percent": 50,
        "required_departments": [],
        "majority_percent": 50,
        "block_vetoes": True,
        "default_voting_days": 7,
    }
    values.update(overrides)
    deliberation_services.policy_update(actor=admin, workshop=workshop, **values)


# ------------------------------------------------------------------ opening


def test_opening_a_draft_records_revision_one_and_tells_every_member(
    draft: Proposal, seller: Any, team: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        opened = open_(draft, seller)
    assert opened.state == ProposalState.OPEN
    assert list(opened.revisions.values_list("number", flat=True)) == [1]
    recipients = set(
        Notification.objects.filter(verb="proposal.opened").values_list(
            "recipient__username", flat=True
        )
    )
    assert "seller" not in recipients and {"admin", "marketer", "rep", "viewer"} <= recipients
    assert len(mail.outbox) == len(recipients)
    assert "is open for votes" in mail.outbox[0].subject
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_a_broker_outage_does_not_fail_the_request_and_the_sweep_sends_later(
    draft: Proposal,
    seller: Any,
    team: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from definitions import tasks

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(tasks.send_notification_emails, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        open_(draft, seller)
    assert mail.outbox == []
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    tasks.close_due_proposals()
    assert len(mail.outbox) == Notification.objects.count() > 0


@pytest.mark.parametrize(
    ("closes_in", "rationale", "error"),
    [
        (timedelta(minutes=1), "ok", "must be in the future"),
        (timedelta(days=-1), "ok", "must be in the future"),
        (timedelta(days=400), "ok", "at most 90 days"),
        (timedelta(days=2), "   ", "Say why"),
    ],
)
def test_opening_needs_a_sensible_closing_time_and_a_reason(
    draft: Proposal, seller: Any, closes_in: timedelta, rationale: str, error: str
) -> None:
    with pytest.raises(ValidationError, match=error):
        deliberation_services.proposal_open(
            actor=seller, proposal=draft, closes_at=timezone.now() + closes_in, rationale=rationale
        )
    draft.refresh_from_db()
    assert draft.state == ProposalState.DRAFT


def test_only_the_author_or_an_admin_opens_a_proposal(draft: Proposal, marketer: Any) -> None:
    with pytest.raises(PermissionDenied):
        open_(draft, marketer)


def test_an_open_proposal_cannot_be_opened_again_nor_edited_in_the_builder(
    opened: Proposal, seller: Any
) -> None:
    with pytest.raises(ValidationError, match="Only a draft"):
        open_(opened, seller)
    with pytest.raises(ValidationError, match="Only a draft can be edited"):
        authoring_services.proposal_save_document(
            actor=seller, proposal=opened, document=opened.document, expected_revision=1
        )


def test_a_withdrawn_proposal_takes_no_more_votes(
    opened: Proposal, seller: Any, marketer: Any
) -> None:
    withdrawn = deliberation_services.proposal_withdraw(actor=seller, proposal=opened)
    assert withdrawn.state == ProposalState.WITHDRAWN
    with pytest.raises(ValidationError, match="closed"):
        deliberation_services.vote_cast(actor=marketer, proposal=withdrawn, choice="agree")


# ------------------------------------------------------------------ votes


def test_each_member_has_one_vote_which_they_can_change(opened: Proposal, marketer: Any) -> None:
    deliberation_services.vote_cast(actor=marketer, proposal=opened, choice="agree")
    deliberation_services.vote_cast(
        actor=marketer, proposal=opened, choice="disagree", reason="On reflection, no."
    )
    vote = Vote.objects.get(proposal=opened)
    assert (vote.choice, vote.department, vote.revision) == ("disagree", "marketing", 1)


def test_the_database_refuses_a_second_vote_row(opened: Proposal, marketer: Any) -> None:
    deliberation_services.vote_cast(actor=marketer, proposal=opened, choice="agree")
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(
            proposal=opened, voter=marketer, choice="block", department="sales", revision=1
        )


@pytest.mark.parametrize("choice", ["disagree", "block"])
def test_disagree_and_block_need_a_reason(opened: Proposal, marketer: Any, choice: str) -> None:
    with pytest.raises(ValidationError, match="Say why"):
        deliberation_services.vote_cast(actor=marketer, proposal=opened, choice=choice, reason="  ")


def test_a_vote_after_the_closing_time_is_refused(opened: Proposal, marketer: Any) -> None:
    assert opened.closes_at is not None
    later = opened.closes_at + timedelta(seconds=1)
    with pytest.raises(ValidationError, match="closed"):
        deliberation_services.vote_cast(actor=marketer, proposal=opened, choice="agree", now=later)


@pytest.mark.parametrize("who", ["viewer", "rep"])
def test_viewers_and_reps_do_not_vote(opened: Proposal, team: dict[str, Any], who: str) -> None:
    response = logged_in(team[who]).post(
        reverse("definitions:vote_cast", args=["acme", opened.pk]), {"choice": "agree"}
    )
    assert response.status_code == 403
    assert not Vote.objects.exists()


def test_an_outsider_cannot_even_see_the_proposal(opened: Proposal, outsider: Any) -> None:
    client = logged_in(outsider)
    assert (
        client.get(reverse("definitions:proposal_detail", args=["acme", opened.pk])).status_code
        == 404
    )
    assert (
        client.post(
            reverse("definitions:vote_cast", args=["acme", opened.pk]), {"choice": "agree"}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "data",
    [{}, {"choice": "maybe"}, {"choice": "block"}, {"choice": "agree", "reason": "x" * 6000}],
)
def test_a_bad_vote_form_gets_a_message_not_a_500(
    opened: Proposal, marketer: Any, data: dict[str, str]
) -> None:
    response = logged_in(marketer).post(
        reverse("definitions:vote_cast", args=["acme", opened.pk]),
        data,
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not Vote.objects.exists()


# ------------------------------------------------------------------ closing


def test_a_proposal_closes_at_its_time_with_an_outcome_statement(
    opened: Proposal, admin: Any, team: dict[str, Any], workshop: Workshop
) -> None:
    simple_policy(workshop, admin, required_departments=["marketing", "sales"])
    for who in ("marketer", "seller", "leader"):
        deliberation_services.vote_cast(actor=team[who], proposal=opened, choice="agree")
    assert deliberation_services.proposals_close_due(now=timezone.now()) == 0  # not yet
    assert opened.closes_at is not None
    closed = deliberation_services.proposals_close_due(now=opened.closes_at + timedelta(minutes=1))
    opened.refresh_from_db()
    assert closed == 1
    assert opened.state == ProposalState.ACCEPTED
    assert opened.outcome.startswith("Accepted: 3 of 4 voters took part; 3 agree")


def test_a_block_rejects_and_the_statement_says_why(
    opened: Proposal, admin: Any, team: dict[str, Any], workshop: Workshop
) -> None:
    simple_policy(workshop, admin)
    deliberation_services.vote_cast(actor=team["marketer"], proposal=opened, choice="agree")
    deliberation_services.vote_cast(actor=team["seller"], proposal=opened, choice="agree")
    deliberation_services.vote_cast(
        actor=team["leader"], proposal=opened, choice="block", reason="Not this quarter."
    )
    closed = deliberation_services.proposal_close(actor=admin, proposal=opened)
    assert closed.state == ProposalState.REJECTED
    assert "a block was standing" in closed.outcome


def test_only_an_admin_closes_early_and_the_schedule_waits_for_the_time(
    opened: Proposal, seller: Any
) -> None:
    with pytest.raises(PermissionDenied):
        deliberation_services.proposal_close(actor=seller, proposal=opened)
    with pytest.raises(ValidationError, match="still open"):
        deliberation_services.proposal_close(actor=None, proposal=opened)


def test_voters_who_have_not_voted_are_reminded_once_a_day_before(
    opened: Proposal, team: dict[str, Any]
) -> None:
    deliberation_services.vote_cast(actor=team["marketer"], proposal=opened, choice="agree")
    assert opened.closes_at is not None
    almost = opened.closes_at - timedelta(hours=12)
    assert deliberation_services.proposals_remind_closing(now=almost) == 1
    assert deliberation_services.proposals_remind_closing(now=almost) == 0
    reminded = set(
        Notification.objects.filter(verb="proposal.closing_soon").values_list(
            "recipient__username", flat=True
        )
    )
    assert "marketer" not in reminded and {"seller", "leader", "admin"} <= reminded
    assert "rep" not in reminded  # reps do not vote


# ------------------------------------------------------------------ publishing


def accepted(opened: Proposal, admin: Any, team: dict[str, Any], workshop: Workshop) -> Proposal:
    simple_policy(workshop, admin)
    for who in ("marketer", "seller", "leader"):
        deliberation_services.vote_cast(actor=team[who], proposal=opened, choice="agree")
    return deliberation_services.proposal_close(actor=admin, proposal=opened)


def test_an_admin_publishes_an_accepted_proposal_as_the_next_version_once(
    opened: Proposal, admin: Any, team: dict[str, Any], workshop: Workshop, v1: Version
) -> None:
    proposal = accepted(opened, admin, team, workshop)
    version = version_services.version_publish(actor=admin, proposal=proposal)
    assert (version.number, version.parent) == (2, v1)
    assert version.document["stages"]["mql"] == 55
    with pytest.raises(ValidationError, match="already published"):
        version_services.version_publish(actor=admin, proposal=proposal)
    assert Version.objects.filter(workshop=workshop).count() == 2
    with pytest.raises(PublishedVersionIsImmutable):
        version.note = "edited"
        version.save()


def test_a_rejected_proposal_cannot_be_published(
    opened: Proposal, admin: Any, workshop: Workshop
) -> None:
    simple_policy(workshop, admin)
    rejected = deliberation_services.proposal_close(actor=admin, proposal=opened)
    assert rejected.state == ProposalState.REJECTED
    response = logged_in(admin).post(
        reverse("definitions:proposal_publish", args=["acme", opened.pk]), follow=True
    )
    assert "Only an accepted proposal can be published" in response.content.decode()
    assert Version.objects.filter(workshop=workshop).count() == 1


def test_only_admins_publish(
    opened: Proposal, admin: Any, team: dict[str, Any], workshop: Workshop
) -> None:
    proposal = accepted(opened, admin, team, workshop)
    response = logged_in(team["seller"]).post(
        reverse("definitions:proposal_publish", args=["acme", proposal.pk])
    )
    assert response.status_code == 403


def test_a_rollback_publishes_old_content_as_a_new_number(
    opened: Proposal, admin: Any, team: dict[str, Any], workshop: Workshop, v1: Version
) -> None:
    version_services.version_publish(actor=admin, proposal=accepted(opened, admin, team, workshop))
    v3 = version_services.version_rollback(actor=admin, version=v1, reason="v2 broke the queue")
    assert v3.number == 3 and v3.document == v1.document
    with pytest.raises(ValidationError, match="already the current"):
        version_services.version_rollback(actor=admin, version=v3, reason="again")


def test_the_version_history_shows_the_diff_between_any_two_versions(
    opened: Proposal, admin: Any, team: dict[str, Any], workshop: Workshop, viewer: Any
) -> None:
    version_services.version_publish(actor=admin, proposal=accepted(opened, admin, team, workshop))
    html = (
        logged_in(viewer)
        .get(reverse("definitions:version_history", args=["acme"]) + "?a=1&b=2")
        .content.decode()
    )
    assert "From v1 to v2" in html and "MQL threshold 40 → 55" in html


# ------------------------------------------------------------------ amendments


def test_an_accepted_amendment_makes_a_new_revision_and_flags_earlier_votes(
    opened: Proposal, seller: Any, marketer: Any, leader: Any
) -> None:
    deliberation_services.vote_cast(actor=leader, proposal=opened, choice="agree")
    amendment = deliberation_services.amendment_suggest(
        actor=marketer,
        proposal=opened,
        criterion_id="revenue",
        replacement={
            "category": "firmographic",
            "field": "annual_revenue",
            "op": "gte",
            "value": 200000000,
            "points": 10,
        },
        reason="Smaller labs buy too.",
    )
    proposal = deliberation_services.amendment_accept(actor=seller, amendment=amendment)
    assert proposal.revision == 2
    assert list(proposal.revisions.values_list("number", flat=True)) == [1, 2]
    html = (
        logged_in(leader)
        .get(reverse("definitions:proposal_detail", args=["acme", proposal.pk]))
        .content.decode()
    )
    assert "cast on an earlier text (revision 1)" in html
    assert "Annual revenue is at least 200M" in html
    revisions = (
        logged_in(leader)
        .get(reverse("definitions:proposal_revisions", args=["acme", proposal.pk]))
        .content.decode()
    )
    assert "Annual revenue is at least 300M → Annual revenue is at least 200M" in revisions


def test_an_amendment_that_breaks_the_definition_is_refused(
    opened: Proposal, marketer: Any
) -> None:
    with pytest.raises(ValidationError, match="not a number"):
        deliberation_services.amendment_suggest(
            actor=marketer,
            proposal=opened,
            criterion_id="revenue",
            replacement={"field": "annual_revenue", "op": "gte", "value": "lots"},
            reason="x",
        )
    assert not Amendment.objects.exists()


def test_declining_needs_a_reason_and_only_the_author_decides(
    opened: Proposal, seller: Any, marketer: Any, leader: Any
) -> None:
    amendment = deliberation_services.amendment_suggest(
        actor=marketer,
        proposal=opened,
        criterion_id="revenue",
        replacement={"field": "annual_revenue", "op": "gte", "value": 1, "points": 1},
        reason="Everyone is a lead.",
    )
    with pytest.raises(PermissionDenied):
        deliberation_services.amendment_decline(actor=leader, amendment=amendment, response="no")
    with pytest.raises(ValidationError, match="decline"):
        deliberation_services.amendment_decline(actor=seller, amendment=amendment, response=" ")
    declined = deliberation_services.amendment_decline(
        actor=seller, amendment=amendment, response="Too broad."
    )
    assert declined.state == "declined"


def test_the_amendment_form_reuses_the_builder_inputs(opened: Proposal, marketer: Any) -> None:
    url = reverse("definitions:amendment_suggest", args=["acme", opened.pk, "revenue"])
    client = logged_in(marketer)
    assert 'name="n-revenue-value"' in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "n-revenue-field": "annual_revenue",
            "n-revenue-prev_field": "annual_revenue",
            "n-revenue-op": "gte",
            "n-revenue-value": "250000000",
            "n-revenue-points": "10",
            "n-revenue-category": "firmographic",
            "reason": "A middle way.",
            "action": "suggest",
        },
    )
    assert response.status_code == 302
    assert Amendment.objects.get().replacement["value"] == 250000000


# ------------------------------------------------------------------ comments


def test_replies_thread_under_their_comment_and_notify_its_author(
    opened: Proposal, marketer: Any, seller: Any
) -> None:
    first = deliberation_services.comment_add(
        actor=marketer, proposal=opened, body="Why 55?", criterion_id="revenue"
    )
    deliberation_services.comment_add(
        actor=seller, proposal=opened, body="Because the data says so.", parent=first
    )
    assert Notification.objects.filter(recipient=marketer, verb="comment.reply").count() == 1
    html = (
        logged_in(marketer)
        .get(reverse("definitions:proposal_detail", args=["acme", opened.pk]))
        .content.decode()
    )
    assert html.index("Why 55?") < html.index("Because the data says so.")
    assert 'id="comments-about-revenue"' in html


def test_a_comment_can_be_edited_for_fifteen_minutes_then_not(
    opened: Proposal, marketer: Any
) -> None:
    comment = deliberation_services.comment_add(actor=marketer, proposal=opened, body="Typo")
    deliberation_services.comment_edit(actor=marketer, comment=comment, body="Fixed")
    assert comment.edited_at is not None
    with pytest.raises(ValidationError, match="15 minutes"):
        deliberation_services.comment_edit(
            actor=marketer,
            comment=comment,
            body="Again",
            now=comment.created_at + timedelta(minutes=16),
        )


def test_a_deleted_comment_leaves_a_tombstone(opened: Proposal, marketer: Any, seller: Any) -> None:
    comment = deliberation_services.comment_add(actor=marketer, proposal=opened, body="Oops")
    deliberation_services.comment_add(
        actor=seller, proposal=opened, body="Reply stays", parent=comment
    )
    with pytest.raises(PermissionDenied):
        deliberation_services.comment_delete(actor=seller, comment=comment)
    deliberation_services.comment_delete(actor=marketer, comment=comment)
    html = (
        logged_in(seller)
        .get(reverse("definitions:proposal_detail", args=["acme", opened.pk]))
        .content.decode()
    )
    assert "This comment was deleted." in html and "Reply stays" in html and "Oops" not in html


XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<svg/onload=alert(1)>",
    '"><iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


@pytest.mark.parametrize("payload", XSS)
def test_comments_and_rationales_render_inert(
    draft: Proposal, seller: Any, marketer: Any, payload: str
) -> None:
    proposal = deliberation_services.proposal_open(
        actor=seller,
        proposal=draft,
        closes_at=timezone.now() + timedelta(days=1),
        rationale=payload,
    )
    deliberation_services.comment_add(actor=marketer, proposal=proposal, body=payload)
    html = (
        logged_in(marketer)
        .get(reverse("definitions:proposal_detail", args=["acme", proposal.pk]))
        .content.decode()
    )
    assert_inert(html)
    assert "Why this change" in html  # the page rendered in full


# ------------------------------------------------------------------ live updates and inbox


def _poll_url(html: str) -> str:
    """The URL the page's live-poll element asks for next, as htmx reads it."""
    return html.split('id="live-poll" hidden hx-get="')[1].split('"')[0].replace("&amp;", "&")


def test_the_live_poll_is_204_until_something_changes(
    opened: Proposal, marketer: Any, leader: Any
) -> None:
    client = logged_in(leader)
    url = reverse("definitions:proposal_live", args=["acme", opened.pk])
    poll = _poll_url(client.get(url).content.decode())
    assert client.get(poll).status_code == 204
    deliberation_services.vote_cast(actor=marketer, proposal=opened, choice="agree")
    changed = client.get(poll)
    assert changed.status_code == 200
    assert "Marketing" in changed.content.decode()
    assert 'hx-swap-oob="true"' in changed.content.decode()
    assert client.get(_poll_url(changed.content.decode())).status_code == 204


def test_a_poll_renders_only_the_part_that_changed(
    opened: Proposal, marketer: Any, leader: Any
) -> None:
    """A vote re-renders the votes, not the text and discussion; a comment the
    reverse. Each answer carries the next poll's versions of both parts."""
    client = logged_in(leader)
    url = reverse("definitions:proposal_live", args=["acme", opened.pk])
    poll = _poll_url(client.get(url).content.decode())
    deliberation_services.vote_cast(actor=marketer, proposal=opened, choice="agree")
    after_vote = client.get(poll).content.decode()
    assert 'id="live-votes"' in after_vote and 'id="live-main"' not in after_vote
    deliberation_services.comment_add(actor=marketer, proposal=opened, body="A new thought.")
    after_comment = client.get(_poll_url(after_vote)).content.decode()
    assert 'id="live-main"' in after_comment and 'id="live-votes"' not in after_comment
    assert "A new thought." in after_comment


def test_each_change_moves_the_version_of_the_part_it_shows_in(
    opened: Proposal, marketer: Any, admin: Any
) -> None:
    from definitions.deliberation.selectors import live_tokens

    before = live_tokens(opened)
    deliberation_services.vote_cast(actor=marketer, proposal=opened, choice="agree")
    voted = live_tokens(opened)
    assert voted.votes != before.votes and voted.discussion == before.discussion
    comment = deliberation_services.comment_add(actor=marketer, proposal=opened, body="Hm.")
    commented = live_tokens(opened)
    assert commented.discussion != voted.discussion and commented.votes == voted.votes
    deliberation_services.comment_delete(actor=marketer, comment=comment)
    assert live_tokens(opened).discussion != commented.discussion
    deliberation_services.amendment_suggest(
        actor=marketer,
        proposal=opened,
        criterion_id="revenue",
        replacement={"field": "annual_revenue", "op": "gte", "value": 1, "points": 1},
        reason="Lower.",
    )
    amended = live_tokens(opened)
    assert amended.discussion != commented.discussion
    deliberation_services.proposal_close(actor=admin, proposal=opened)
    closed = live_tokens(opened)
    assert closed.votes != amended.votes and closed.discussion != amended.discussion


def test_the_header_counts_unread_notifications_until_read(opened: Proposal, marketer: Any) -> None:
    client = logged_in(marketer)
    assert 'class="count"' in client.get(reverse("inbox")).content.decode()
    client.post(reverse("inbox_read"))
    assert 'class="count"' not in client.get(reverse("inbox")).content.decode()
    assert not Notification.objects.filter(recipient=marketer, read_at__isnull=True).exists()


def test_a_draft_can_be_withdrawn_but_a_decided_proposal_cannot(
    draft: Proposal, seller: Any, admin: Any, team: dict[str, Any], workshop: Workshop
) -> None:
    other = authoring_services.proposal_create(
        actor=seller, workshop=workshop, title="Second thoughts"
    )
    assert (
        deliberation_services.proposal_withdraw(actor=seller, proposal=other).state
        == ProposalState.WITHDRAWN
    )
    decided = accepted(open_(draft, seller), admin, team, workshop)
    with pytest.raises(ValidationError, match="Only a draft or an open proposal"):
        deliberation_services.proposal_withdraw(actor=seller, proposal=decided)


def test_no_amendments_once_voting_is_over(
    opened: Proposal, admin: Any, marketer: Any, workshop: Workshop
) -> None:
    simple_policy(workshop, admin)
    closed = deliberation_services.proposal_close(actor=admin, proposal=opened)
    with pytest.raises(ValidationError, match="closed"):
        deliberation_services.amendment_suggest(
            actor=marketer,
            proposal=closed,
            criterion_id="revenue",
            replacement={"field": "annual_revenue", "op": "gte", "value": 5, "points": 1},
            reason="late",
        )


UGLY = [
    ("proposal_open", {"closes_at": "next tuesday", "rationale": ""}),
    ("proposal_open", {"closes_at": "9999-99-99T99:99", "rationale": "x" * 30000}),
    ("vote_cast", {"choice": ["agree", "block"], "reason": "\x00"}),
    ("comment_add", {"body": "", "parent": "abc"}),
    ("comment_add", {"body": "hi", "parent": "999999"}),
    ("comment_add", {"body": "hi", "criterion_id": "no-such-criterion"}),
    ("proposal_close", {}),
    ("proposal_publish", {}),
]


@pytest.mark.parametrize(("name", "data"), UGLY, ids=[f"{n}-{i}" for i, (n, _d) in enumerate(UGLY)])
def test_ugly_deliberation_posts_never_fail(
    opened: Proposal, admin: Any, name: str, data: dict[str, Any]
) -> None:
    response = logged_in(admin).post(reverse(f"definitions:{name}", args=["acme", opened.pk]), data)
    assert response.status_code in (200, 302, 400, 404)
    assert Version.objects.filter(workshop=opened.workshop).count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {
            "n-revenue-field": "annual_revenue",
            "n-revenue-op": "gte",
            "n-revenue-value": "NaN",
            "reason": "x",
            "action": "suggest",
        },
        {"n-revenue-field": "<b>", "n-revenue-op": "explode", "reason": "", "action": "suggest"},
        {"action": "suggest"},
    ],
)
def test_ugly_amendments_are_refused_with_a_message(
    opened: Proposal, marketer: Any, data: dict[str, str]
) -> None:
    url = reverse("definitions:amendment_suggest", args=["acme", opened.pk, "revenue"])
    response = logged_in(marketer).post(url, data)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not Amendment.objects.exists()


def test_an_amendment_to_an_unknown_criterion_is_not_found(opened: Proposal, marketer: Any) -> None:
    url = reverse("definitions:amendment_suggest", args=["acme", opened.pk, "nope"])
    assert logged_in(marketer).get(url).status_code == 404
