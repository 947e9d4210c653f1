"""A workshop with the worked example published as v1, a stricter draft (MQL from 60
instead of 40) and an API key: the setting of the shadow tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api import services as api_services
from definitions.authoring import services as authoring_services
from definitions.models import Proposal, Version, Workshop
from tests.api.conftest import Api
from tests.factories import worked_example

# Scores 50 under both: an MQL for v1 (from 40), only a lead for the stricter draft.
BORDERLINE: dict[str, Any] = {
    "source": "webinar",
    "industry": "Life Science",
    "annual_revenue": 500_000_000,
    "country": "US",
    "seniority": "vp",
    "email_domain_kind": "business",
}
# Nothing matches: a subscriber under both.
NOBODY: dict[str, Any] = {"source": "chat", "country": "DE"}


def recent(hours: int) -> str:
    return (datetime.now(tz=UTC) - timedelta(hours=hours)).isoformat()


def stricter() -> Any:
    document = worked_example()
    document["stages"]["mql"] = 60
    return document


@pytest.fixture
def draft(admin: Any, workshop: Workshop, v1: Version) -> Proposal:
    return authoring_services.proposal_create(
        actor=admin, workshop=workshop, title="Stricter MQL", document=stricter()
    )


@pytest.fixture
def acme(admin: Any, workshop: Workshop) -> Api:
    _key, token = api_services.api_key_create(actor=admin, workshop=workshop, name="CRM")
    return Api(token)
