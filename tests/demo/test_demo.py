"""The demo workshop of `make run`, seeded once for the module (it imports 5,000 leads,
backtests and judges them: about 40 s), then read by each test in a savepoint."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from definitions.models import Comment, Proposal, ProposalState, Version, Workshop
from demo.data import DEMO_LEADS, DEMO_LIVE_LEADS
from feedback.models import EvaluationRun, Lead, LeadFeedback, RunState
from feedback.shadows.selectors import shadow_summary


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[Workshop]:
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO())
        yield Workshop.objects.get(slug="acme")
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_demo_seed_creates_acme_with_one_user_per_role(demo: Workshop) -> None:
    roles_present = set(demo.memberships.values_list("role", flat=True))
    assert roles_present == {"admin", "stakeholder", "sales_rep", "viewer"}
    departments = set(demo.memberships.values_list("department", flat=True))
    assert {"marketing", "sales", "leadership"} <= departments
    call_command("seed_demo", stdout=StringIO())  # a second run changes nothing
    assert Workshop.objects.filter(slug="acme").count() == 1


@pytest.mark.django_db
def test_the_demo_has_the_worked_example_as_v1_and_a_sales_draft(demo: Workshop) -> None:
    v1 = Version.objects.get(workshop=demo)
    assert v1.number == 1
    assert Proposal.objects.get(workshop=demo).parent == v1


@pytest.mark.django_db
def test_the_demo_is_mid_discussion(demo: Workshop) -> None:
    proposal = Proposal.objects.get(workshop=demo)
    assert proposal.state == ProposalState.OPEN
    assert proposal.votes.count() == 3 and Comment.objects.filter(proposal=proposal).count() == 2
    assert proposal.amendments.filter(state="pending").count() == 1


@pytest.mark.django_db
def test_the_demo_has_backtested_and_judged_leads(demo: Workshop) -> None:
    assert Lead.objects.filter(workshop=demo).count() == DEMO_LEADS
    version = Version.objects.get(workshop=demo)
    assert EvaluationRun.objects.filter(version=version, state=RunState.DONE).exists()
    assert LeadFeedback.objects.filter(lead__workshop=demo).exists()


@pytest.mark.django_db
def test_the_demo_runs_the_draft_in_shadow_on_its_newest_leads(demo: Workshop) -> None:
    proposal = Proposal.objects.get(workshop=demo)
    summary = shadow_summary(proposal)
    assert summary is not None and summary["running"]
    assert summary["leads_seen"] == DEMO_LIVE_LEADS
    assert summary["agreement"]["disagree"] > 0  # the stricter draft sends fewer to sales
