"""Two admins publish the same accepted proposal at the same moment, on two real
PostgreSQL connections: one version comes out, the other admin is told why."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from definitions.deliberation import services as deliberation_services
from definitions.models import Proposal, ProposalState, Version
from definitions.roles import Department, Role
from definitions.versions import services as version_services
from tests.factories import UserFactory, WorkshopFactory, add_member, open_for_vote


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_admins_publishing_at_once_make_exactly_one_version() -> None:
    assert connection.vendor == "postgresql"
    first: Any = UserFactory(username="first-admin")
    second: Any = UserFactory(username="second-admin")
    workshop: Any = WorkshopFactory(actor=first, name="Race", slug="race")
    add_member(workshop, second, Role.ADMIN, Department.SALES)
    proposal = open_for_vote(first, workshop, title="Race")
    deliberation_services.vote_cast(actor=first, proposal=proposal, choice="agree")
    deliberation_services.proposal_close(actor=first, proposal=proposal)

    barrier = threading.Barrier(2)
    results: list[str] = []

    def publish(admin: Any) -> None:
        try:
            mine = Proposal.objects.select_related("workshop").get(pk=proposal.pk)
            barrier.wait(timeout=10)
            version = version_services.version_publish(actor=admin, proposal=mine)
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
