"""Two admins publish the same accepted proposal at the same moment, on two real
PostgreSQL connections: one version comes out, the other admin is told why."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from definitions import proposal_services as ps
from definitions import rules, services
from definitions.models import Proposal, ProposalState, Version
from definitions.roles import Department, Role
from tests.factories import UserFactory, WorkshopFactory, add_member


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_admins_publishing_at_once_make_exactly_one_version() -> None:
    assert connection.vendor == "postgresql"
    first: Any = UserFactory(username="first-admin")
    second: Any = UserFactory(username="second-admin")
    workshop: Any = WorkshopFactory(actor=first, name="Race", slug="race")
    add_member(workshop, second, Role.ADMIN, Department.SALES)
    services.version_publish_document(
        actor=first, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    ps.policy_update(
        actor=first,
        workshop=workshop,
        quorum_percent=0,
        required_departments=[],
        majority_percent=0,
        block_vetoes=False,
        default_voting_days=7,
    )
    proposal = services.proposal_create(actor=first, workshop=workshop, title="Race")
    proposal = ps.proposal_open(
        actor=first, proposal=proposal, closes_at=timezone.now() + timedelta(days=1), rationale="r"
    )
    ps.vote_cast(actor=first, proposal=proposal, choice="agree")
    ps.proposal_close(actor=first, proposal=proposal)

    barrier = threading.Barrier(2)
    results: list[str] = []

    def publish(admin: Any) -> None:
        try:
            mine = Proposal.objects.select_related("workshop").get(pk=proposal.pk)
            barrier.wait(timeout=10)
            version = ps.version_publish(actor=admin, proposal=mine)
            results.append(f"v{version.number}")
        except ValidationError as exc:
            results.append(" ".join(exc.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish, args=(a,)) for a in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(results) == ["This proposal is already published.", "v2"]
    assert Version.objects.filter(workshop=workshop).count() == 2
    assert Proposal.objects.get(pk=proposal.pk).state == ProposalState.PUBLISHED
