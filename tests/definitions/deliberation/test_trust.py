"""Deliberation you can trust: rollback as a decision, proposals that know their base
(stale, rebase), votes cast on an earlier text, hidden tallies, "needs your vote" and
live updates that keep each person's controls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from definitions.authoring import services as authoring_services
from definitions.core.audit import describe
from definitions.deliberation import selectors as deliberation_selectors
from definitions.deliberation import services as deliberation_services
from definitions.models import (
    AuditLogEntry,
    Notification,
    Proposal,
    ProposalState,
    Version,
    Vote,
    Workshop,
)
from definitions.versions import services as version_services
from tests.factories import logged_in, worked_example

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(marketer: Any, seller: Any, leader: Any, rep: Any) -> dict[str, Any]:
    return {"marketer": marketer, "seller": seller, "leader": leader, "rep": rep}


def lenient(workshop: Workshop, admin: Any, **overrides: Any) -> None:
    values: dict[str, Any] = {
        "quorum_percent": 0,
        "required_departments": [],
        "majority_percent": 50,
        "block_vetoes": True,
        "default_voting_days": 7,
    }
    values.update(overrides)
    deliberation_services.policy_update(actor=admin, workshop=workshop, **values)


def criterion(document: Any, criterion_id: str) -> Any:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("id") == criterion_id and ("field" in node or "activity" in node):
                return node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise KeyError(criterion_id)


def proposal_on(actor: Any, workshop: Workshop, title: str, change: Any) -> Proposal:
    document: Any = worked_example()
    change(document)
    return authoring_services.proposal_create(
        actor=actor, workshop=workshop, title=title, document=document
    )


def opened(proposal: Proposal, actor: Any) -> Proposal:
    return deliberation_services.proposal_open(
        actor=actor,
        proposal=proposal,
        closes_at=timezone.now() + timedelta(days=2),
        rationale="Because.",
    )


def publish(admin: Any, proposal: Proposal) -> Version:
    deliberation_services.proposal_close(actor=admin, proposal=proposal)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.ACCEPTED, proposal.outcome
    return version_services.version_publish(actor=admin, proposal=proposal)


def revenue(value: int) -> Any:
    def change(document: Any) -> None:
        criterion(document, "revenue")["value"] = value

    return change


def v2_with_revenue(admin: Any, workshop: Workshop, value: int) -> Version:
    lenient(workshop, admin)
    other = opened(proposal_on(admin, workshop, "Bigger firms", revenue(value)), admin)
    deliberation_services.vote_cast(actor=admin, proposal=other, choice="agree")
    return publish(admin, other)


# ------------------------------------------------------------------------ rollback


def test_an_emergency_rollback_needs_a_reason(admin: Any, workshop: Workshop, v1: Version) -> None:
    v2_with_revenue(admin, workshop, 500_000_000)
    with pytest.raises(ValidationError) as caught:
        version_services.version_rollback(actor=admin, version=v1, reason="  ")
    assert "reason" in caught.value.message_dict
    assert Version.objects.filter(workshop=workshop).count() == 2


def test_an_emergency_rollback_is_audited_as_such_and_announced_to_members(
    admin: Any, workshop: Workshop, v1: Version, team: dict[str, Any]
) -> None:
    v2_with_revenue(admin, workshop, 500_000_000)
    v3 = version_services.version_rollback(
        actor=admin, version=v1, reason="v2 emptied the reps' queue"
    )
    assert (v3.number, v3.document, v3.restored_from_id) == (3, v1.document, v1.pk)
    entry = AuditLogEntry.objects.get(action="definitions.version.emergency_rollback")
    text = describe(entry)
    assert "emergency rollback" in text and "v1" in text and "v3" in text
    assert "v2 emptied the reps' queue" in text
    told = Notification.objects.filter(verb="version.emergency_rollback")
    assert {n.recipient.get_username() for n in told} == set(team)


def test_restoring_by_vote_opens_a_proposal_that_publishes_as_a_restore(
    admin: Any, workshop: Workshop, v1: Version, seller: Any
) -> None:
    v2 = v2_with_revenue(admin, workshop, 500_000_000)
    with pytest.raises(ValidationError):
        deliberation_services.restore_propose(actor=seller, version=v1, reason="")
    proposal = deliberation_services.restore_propose(
        actor=seller, version=v1, reason="Sales lost half its leads."
    )
    assert proposal.state == ProposalState.OPEN
    assert (proposal.restores_id, proposal.parent_id) == (v1.pk, v2.pk)
    assert proposal.rationale == "Sales lost half its leads."
    assert proposal.document == v1.document
    deliberation_services.vote_cast(actor=admin, proposal=proposal, choice="agree")
    v3 = publish(admin, proposal)
    assert v3.restored_from_id == v1.pk


def test_the_restore_page_asks_for_a_reason_and_shows_the_diff(
    admin: Any, workshop: Workshop, v1: Version
) -> None:
    v2_with_revenue(admin, workshop, 500_000_000)
    client = logged_in(admin)
    url = reverse("definitions:version_restore", args=["acme", 1])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "restore-diff" in html and "500" in html and "restore-runs" in html
    refused = client.post(url, {"reason": "", "action": "emergency"})
    assert refused.status_code == 400
    assert "Say why the definition should go back." in refused.content.decode()
    unconfirmed = client.post(url, {"reason": "Broken", "action": "emergency"})
    assert unconfirmed.status_code == 400
    assert "Tick the box" in unconfirmed.content.decode()
    assert Version.objects.filter(workshop=workshop).count() == 2
    done = client.post(url, {"reason": "Broken", "action": "emergency", "confirm_emergency": "on"})
    assert done.status_code == 302
    assert Version.objects.filter(workshop=workshop).count() == 3


def test_a_stakeholder_may_propose_a_restore_but_not_roll_back_alone(
    admin: Any, workshop: Workshop, v1: Version, seller: Any
) -> None:
    v2_with_revenue(admin, workshop, 500_000_000)
    client = logged_in(seller)
    url = reverse("definitions:version_restore", args=["acme", 1])
    assert "Emergency rollback now" not in client.get(url).content.decode()
    denied = client.post(url, {"reason": "x", "action": "emergency", "confirm_emergency": "on"})
    assert denied.status_code == 403
    proposed = client.post(url, {"reason": "Back, please", "action": "propose"})
    assert proposed.status_code == 302
    assert Proposal.objects.get(restores=v1).state == ProposalState.OPEN


# --------------------------------------------------------------- stale and rebase


def test_publishing_a_version_makes_older_proposals_stale_and_tells_their_authors(
    admin: Any, workshop: Workshop, v1: Version, seller: Any
) -> None:
    mine = proposal_on(seller, workshop, "Tighter HQ", lambda d: None)
    v2 = v2_with_revenue(admin, workshop, 500_000_000)
    assert version_services.is_stale(mine, v2)
    note = Notification.objects.get(verb="proposal.stale", recipient=seller)
    assert note.params == {"title": "Tighter HQ", "version": 2}
    page = logged_in(seller).get(reverse("definitions:proposal_detail", args=["acme", mine.pk]))
    html = page.content.decode()
    assert 'id="stale"' in html and "500" in html  # the change published in between
    builder = logged_in(seller).get(reverse("definitions:draft_builder", args=["acme", mine.pk]))
    assert 'id="builder-stale"' in builder.content.decode()
    listing = logged_in(seller).get(reverse("definitions:proposal_list", args=["acme"]))
    assert '<span class="badge warn">stale</span>' in listing.content.decode()


def test_a_stale_proposal_cannot_be_published_until_rebased(
    admin: Any, workshop: Workshop, v1: Version, seller: Any
) -> None:
    lenient(workshop, admin)
    mine = opened(proposal_on(seller, workshop, "Lower revenue", revenue(100_000_000)), seller)
    deliberation_services.vote_cast(actor=admin, proposal=mine, choice="agree")
    v2_with_revenue(admin, workshop, 500_000_000)
    deliberation_services.proposal_close(actor=admin, proposal=mine)
    mine.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        version_services.version_publish(actor=admin, proposal=mine)
    assert caught.value.code == "stale"
    assert Version.objects.filter(workshop=workshop).count() == 2
    # Rebased, the accepted proposal goes back to the vote: its text changed.
    rebased = deliberation_services.proposal_rebase(
        actor=seller, proposal=mine, resolutions={"revenue": "ours"}
    )
    assert (rebased.state, rebased.outcome, rebased.revision) == (ProposalState.OPEN, "", 2)
    assert rebased.closes_at is not None and rebased.closes_at > timezone.now()
    deliberation_services.vote_cast(actor=admin, proposal=rebased, choice="agree")
    v3 = publish(admin, rebased)
    assert criterion(v3.document, "revenue")["value"] == 100_000_000


def test_a_rebase_through_a_conflict_keeps_the_chosen_text_and_flags_earlier_votes(
    admin: Any, workshop: Workshop, v1: Version, seller: Any, marketer: Any
) -> None:
    lenient(workshop, admin)

    def both(document: Any) -> None:
        criterion(document, "revenue")["value"] = 100_000_000
        criterion(document, "hq")["value"] = ["US"]

    mine = opened(proposal_on(seller, workshop, "Lower revenue", both), seller)
    deliberation_services.vote_cast(actor=marketer, proposal=mine, choice="agree")
    v2 = v2_with_revenue(admin, workshop, 500_000_000)
    _current, preview = deliberation_services.rebase_preview(mine)
    assert preview is not None and [c.node_id for c in preview.conflicts] == ["revenue"]
    with pytest.raises(ValidationError):
        deliberation_services.proposal_rebase(actor=seller, proposal=mine)
    rebased = deliberation_services.proposal_rebase(
        actor=seller, proposal=mine, resolutions={"revenue": "ours"}
    )
    assert (rebased.parent_id, rebased.revision) == (v2.pk, 2)
    assert criterion(rebased.document, "revenue")["value"] == 100_000_000
    assert criterion(rebased.document, "hq")["value"] == ["US"]
    assert not version_services.is_stale(rebased, v2)
    assert Notification.objects.filter(verb="vote.earlier_text", recipient=marketer).exists()
    outcome = deliberation_services.outcome_of(rebased)
    assert (outcome.voted, outcome.earlier) == (0, 1)
    html = logged_in(marketer).get(rebased_url(rebased)).content.decode()
    assert "cast on an earlier text" in html
    assert "Confirm or change my vote" in html
    deliberation_services.vote_cast(actor=marketer, proposal=rebased, choice="agree")
    outcome = deliberation_services.outcome_of(rebased)
    assert (outcome.voted, outcome.earlier) == (1, 0)


def rebased_url(proposal: Proposal) -> str:
    return reverse("definitions:proposal_detail", args=[proposal.workshop.slug, proposal.pk])


def test_the_rebase_page_shows_each_conflict_and_refuses_an_unresolved_one(
    admin: Any, workshop: Workshop, v1: Version, seller: Any
) -> None:
    mine = proposal_on(seller, workshop, "Lower revenue", revenue(100_000_000))
    v2_with_revenue(admin, workshop, 500_000_000)
    client = logged_in(seller)
    url = reverse("definitions:proposal_rebase", args=["acme", mine.pk])
    html = client.get(url).content.decode()
    assert 'id="conflict-revenue"' in html
    assert "500" in html and "100" in html
    refused = client.post(url, {})
    assert refused.status_code == 400
    mine.refresh_from_db()
    assert mine.parent_id == v1.pk
    done = client.post(url, {"resolve-revenue": "theirs"})
    assert done.status_code == 302
    mine.refresh_from_db()
    assert criterion(mine.document, "revenue")["value"] == 500_000_000


# --------------------------------------------------------------------------- votes


def test_an_accepted_amendment_asks_earlier_voters_to_confirm(
    admin: Any, workshop: Workshop, v1: Version, seller: Any, marketer: Any
) -> None:
    lenient(workshop, admin)
    mine = opened(proposal_on(seller, workshop, "Lower revenue", revenue(100_000_000)), seller)
    deliberation_services.vote_cast(actor=marketer, proposal=mine, choice="agree")
    amendment = deliberation_services.amendment_suggest(
        actor=admin,
        proposal=mine,
        criterion_id="revenue",
        replacement={
            "category": "firmographic",
            "field": "annual_revenue",
            "op": "gte",
            "value": 200_000_000,
            "points": 10,
        },
        reason="Middle ground.",
    )
    deliberation_services.amendment_accept(actor=seller, amendment=amendment)
    assert Notification.objects.filter(verb="vote.earlier_text", recipient=marketer).exists()
    mine.refresh_from_db()
    assert deliberation_services.outcome_of(mine).earlier == 1


def test_the_vote_form_keeps_the_choice_and_reason_after_an_error(
    admin: Any, workshop: Workshop, v1: Version, seller: Any, marketer: Any
) -> None:
    mine = opened(proposal_on(seller, workshop, "Lower revenue", revenue(100_000_000)), seller)
    url = reverse("definitions:vote_cast", args=["acme", mine.pk])
    client = logged_in(marketer)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        answer = client.post(url, {"choice": "block", "reason": "   "}, **headers)
        assert answer.status_code == 400
        html = answer.content.decode()
        assert 'value="block" required\n        checked' in html
        assert Vote.objects.filter(proposal=mine).count() == 0
    kept = client.post(url, {"choice": "disagree", "reason": "x" * 5001})
    assert kept.status_code == 400
    assert 'value="disagree" required\n        checked' in kept.content.decode()


def test_hidden_tallies_show_who_voted_but_not_how_until_the_vote_closes(
    admin: Any, workshop: Workshop, v1: Version, seller: Any, marketer: Any
) -> None:
    lenient(workshop, admin, hide_tallies=True)
    mine = opened(proposal_on(seller, workshop, "Lower revenue", revenue(100_000_000)), seller)
    deliberation_services.vote_cast(actor=marketer, proposal=mine, choice="block", reason="No way.")
    html = logged_in(seller).get(rebased_url(mine)).content.decode()
    assert 'id="tallies-hidden"' in html and 'id="vote-marketer"' in html
    assert "No way." not in html and "If voting closed now" not in html
    deliberation_services.proposal_close(actor=admin, proposal=mine)
    html = logged_in(seller).get(rebased_url(mine)).content.decode()
    assert "No way." in html and 'id="tallies-hidden"' not in html


def test_needs_your_vote_lists_open_proposals_not_yet_voted_with_their_closing_time(
    admin: Any, workshop: Workshop, v1: Version, seller: Any, marketer: Any, rep: Any
) -> None:
    mine = opened(proposal_on(seller, workshop, "Lower revenue", revenue(100_000_000)), seller)
    assert list(deliberation_selectors.needs_vote(marketer)) == [mine]
    assert list(deliberation_selectors.needs_vote(rep)) == []  # reps do not vote
    html = logged_in(marketer).get("/").content.decode()
    assert 'id="needs-your-vote"' in html and "Lower revenue" in html and "closes" in html
    deliberation_services.vote_cast(actor=marketer, proposal=mine, choice="agree")
    assert list(deliberation_selectors.needs_vote(marketer)) == []
    Proposal.objects.filter(pk=mine.pk).update(revision=2)  # the text changed since
    assert list(deliberation_selectors.needs_vote(marketer, workshop)) == [mine]


def test_a_live_update_renders_the_authors_accept_and_decline(
    admin: Any, workshop: Workshop, v1: Version, seller: Any
) -> None:
    mine = opened(proposal_on(seller, workshop, "Lower revenue", revenue(100_000_000)), seller)
    deliberation_services.amendment_suggest(
        actor=admin,
        proposal=mine,
        criterion_id="revenue",
        replacement={
            "category": "firmographic",
            "field": "annual_revenue",
            "op": "gte",
            "value": 200_000_000,
            "points": 10,
        },
        reason="Middle ground.",
    )
    live = reverse("definitions:proposal_live", args=["acme", mine.pk])
    html = logged_in(seller).get(live + "?v=x&d=y").content.decode()
    assert ">Accept</button>" in html and ">Decline</button>" in html
