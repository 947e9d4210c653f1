"""What the discovery-run and page tests share: a workshop of generated leads whose
first version is POOR_DEFINITION, and a finished run's answer."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.models import Version, Workshop
from definitions.versions import services as version_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import DiscoveryRun
from feedback.suggestions.types import Discovery

from .poor import POOR_DEFINITION


def answer(run: DiscoveryRun) -> Discovery:
    assert run.result is not None, run.message
    return Discovery.from_json(run.result)


@pytest.fixture
def version(admin: Any, workshop: Workshop) -> Version:
    leads_insert_generated(workshop=workshop, leads=generate(1500, seed=11))
    return version_services.version_publish_document(
        actor=admin, workshop=workshop, document=POOR_DEFINITION, parent=None
    )
