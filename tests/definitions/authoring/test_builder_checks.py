"""The builder shows the definition checks at the criterion they concern, with a
one-click fix where the fix is obvious."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.urls import reverse

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.models import Proposal, Version, Workshop
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from tests.factories import logged_in
from tests.htmlform import as_post, form_data

pytestmark = pytest.mark.django_db


def _draft(admin: Any, workshop: Workshop, document: Any) -> Proposal:
    return authoring_services.proposal_create(
        actor=admin, workshop=workshop, title="Checked", document=document
    )


def _url(draft: Proposal) -> str:
    return reverse("definitions:draft_builder", args=[draft.workshop.slug, draft.pk])


def _checks(html: str, node_id: str) -> str:
    found = re.search(rf'<ul class="check-list" id="node-{node_id}-checks">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


def _with_duplicate_revenue() -> tuple[Any, str]:
    document = copy.deepcopy(rules.WORKED_EXAMPLE)
    group = document["qualify"]["any"][1]["all"]
    twin = {**copy.deepcopy(group[1]), "id": "revenue-again"}
    group.append(twin)
    return document, "revenue-again"


def test_a_duplicate_criterion_is_marked_and_one_click_removes_it(
    admin: Any, workshop: Workshop, v1: Version
) -> None:
    document, twin = _with_duplicate_revenue()
    draft = _draft(admin, workshop, document)
    client = logged_in(admin)
    html = client.get(_url(draft)).content.decode()
    marked = _checks(html, twin)
    assert "The same test as" in marked and f'value="remove:{twin}"' in marked
    after = client.post(_url(draft), as_post(form_data(html, "builder"), action=f"remove:{twin}"))
    assert twin not in form_data(after.content.decode(), "builder").getlist("order")
    assert "The same test as" not in after.content.decode()


def test_a_qualify_criterion_with_points_says_what_it_does_and_can_move_them(
    admin: Any, workshop: Workshop, v1: Version
) -> None:
    draft = _draft(admin, workshop, copy.deepcopy(rules.WORKED_EXAMPLE))
    client = logged_in(admin)
    html = client.get(_url(draft)).content.decode()
    note = _checks(html, "revenue")
    assert "adds 10 points to the score" in note
    after = client.post(
        _url(draft), as_post(form_data(html, "builder"), action="points_to_scoring:revenue")
    ).content.decode()
    data = form_data(after, "builder")
    assert data.get("n-revenue-points") == ""
    moved = [
        nid
        for nid in data.getlist("order")
        if data.get(f"n-{nid}-parent") == "@scoring"
        and data.get(f"n-{nid}-points") == "10"
        and data.get(f"n-{nid}-field") == "annual_revenue"
    ]
    assert len(moved) == 1
    assert "adds 10 points" not in _checks(after, "revenue")
    # The draft as moved scores every lead exactly as before.
    saved = client.post(_url(draft), as_post(data, action="save"))
    assert saved.status_code == 302
    draft.refresh_from_db()
    before = rules.parse(rules.WORKED_EXAMPLE, rules.DEFAULT_CATALOG).definition
    now = rules.parse(draft.document, rules.DEFAULT_CATALOG).definition
    assert before is not None and now is not None
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    for lead in generate(60, seed=5):
        data_ = rules.LeadData(fields=lead.fields)
        assert rules.evaluate(before, data_, as_of=as_of).score == (
            rules.evaluate(now, data_, as_of=as_of).score
        )


def test_an_unreachable_threshold_and_a_value_no_lead_has_are_reported(
    admin: Any, workshop: Workshop, v1: Version
) -> None:
    leads_insert_generated(workshop=workshop, leads=generate(40, seed=3))
    document = copy.deepcopy(rules.WORKED_EXAMPLE)
    document["stages"]["sql"] = 900
    document["qualify"]["any"][1]["all"][1]["value"] = 10**14  # revenue ≥ 100 trillion
    draft = _draft(admin, workshop, document)
    html = logged_in(admin).get(_url(draft)).content.decode()
    assert 'id="threshold-checks"' in html and "No lead can reach SQL" in html
    assert "the highest is" in _checks(html, "revenue")
