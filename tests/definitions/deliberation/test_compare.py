"""The compare page: up to four versions and drafts side by side, reachable from a
proposal, for members only."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from django.urls import reverse

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.models import Proposal, ProposalState, Version, Workshop
from feedback.backtests import services as backtest_services
from tests.factories import UserFactory, WorkshopFactory, logged_in
from tests.feedback.backtests import test_backtests as _bt

pytestmark = pytest.mark.django_db

leads = _bt.leads  # 120 generated leads
_queued_work_runs = _bt._queued_work_runs  # queued work runs as after a commit


def _draft(admin: Any, workshop: Workshop, title: str, mql: int, state: str) -> Proposal:
    document = copy.deepcopy(rules.WORKED_EXAMPLE)
    document["stages"]["mql"] = mql
    proposal = authoring_services.proposal_create(
        actor=admin, workshop=workshop, title=title, document=document
    )
    Proposal.objects.filter(pk=proposal.pk).update(state=state)
    return proposal


def _url(workshop: Workshop) -> str:
    return reverse("definitions:compare", args=[workshop.slug])


def test_versions_and_drafts_side_by_side_with_what_differs_from_the_first(
    admin: Any, workshop: Workshop, v1: Version
) -> None:
    draft = _draft(admin, workshop, "Marketing's <b>view</b>", 30, ProposalState.DRAFT)
    page = logged_in(admin).get(_url(workshop), {"v": "1", "d": str(draft.pk)})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="compare-v1"' in html and f'id="compare-d{draft.pk}"' in html
    assert "<b>view</b>" not in html and "&lt;b&gt;view&lt;/b&gt;" in html
    changes = re.findall(r'<td class="compare-changes">(.*?)</td>', html, re.S)
    assert "40" in changes[1] and "30" in changes[1]  # the MQL threshold moved
    assert html.count('class="definition-text"') == 2
    assert "40 / 70" in html and "30 / 70" in html


def test_a_proposal_links_to_a_comparison_with_the_other_open_proposals(
    admin: Any, workshop: Workshop, v1: Version
) -> None:
    mine = _draft(admin, workshop, "Sales", 45, ProposalState.OPEN)
    theirs = _draft(admin, workshop, "Marketing", 35, ProposalState.OPEN)
    closed = _draft(admin, workshop, "Withdrawn", 20, ProposalState.WITHDRAWN)
    client = logged_in(admin)
    detail = client.get(reverse("definitions:proposal_detail", args=[workshop.slug, mine.pk]))
    link = re.search(r'id="compare-open" href="([^"]+)"', detail.content.decode())
    assert link is not None
    html = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert f'id="compare-d{mine.pk}"' in html and f'id="compare-d{theirs.pk}"' in html
    assert f'id="compare-d{closed.pk}"' not in html


def test_more_than_four_is_refused_with_a_message_at_the_choice(
    admin: Any, workshop: Workshop, v1: Version
) -> None:
    drafts = [_draft(admin, workshop, f"D{i}", 30 + i, ProposalState.DRAFT) for i in range(4)]
    response = logged_in(admin).get(_url(workshop), {"v": "1", "d": [str(d.pk) for d in drafts]})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="compare-error"' in html and 'id="compare-table"' not in html


def test_outsiders_get_404_and_another_workshops_draft_is_not_found(
    admin: Any, workshop: Workshop, v1: Version
) -> None:
    outsider = UserFactory(username="outsider")
    assert logged_in(outsider).get(_url(workshop), {"v": "1"}).status_code == 404
    other = WorkshopFactory(actor=outsider, name="Other", slug="other")
    foreign = authoring_services.proposal_create(
        actor=outsider, workshop=other, title="Theirs", document=rules.WORKED_EXAMPLE
    )
    assert logged_in(admin).get(_url(workshop), {"d": str(foreign.pk)}).status_code == 404
    assert logged_in(admin).get(_url(workshop), {"v": "99"}).status_code == 404
    assert logged_in(admin).get(_url(workshop), {"v": "x", "d": "-1"}).status_code == 200


def test_the_backtests_and_accuracy_stand_side_by_side(
    admin: Any, workshop: Workshop, v1: Version, leads: int
) -> None:
    run = backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1)
    run.refresh_from_db()
    draft = _draft(admin, workshop, "Lower MQL", 20, ProposalState.DRAFT)
    html = logged_in(admin).get(_url(workshop), {"v": "1", "d": str(draft.pk)}).content.decode()
    assert f'href="/w/acme/backtests/{run.pk}/"' in html or f"/{run.pk}/" in html
    assert "No finished backtest" in html  # the draft has none yet
    assert "Precision (handed over at MQL)" in html
