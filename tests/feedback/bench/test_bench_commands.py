"""The page bench commands that the README's figures come from run end to end on a
small workshop and report every page they time."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.models import Workshop
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import Lead, LeadResult
from feedback.verdicts import services as verdict_services

pytestmark = pytest.mark.django_db


def _last_json(command: str, **options: Any) -> dict[str, Any]:
    out = StringIO()
    call_command(command, stdout=out, stderr=StringIO(), **options)
    result: dict[str, Any] = json.loads(out.getvalue().strip().splitlines()[-1])
    return result


def test_bench_pages_times_every_page_a_history_could_slow_down(
    admin: Any, rep: Any, workshop: Workshop
) -> None:
    leads_insert_generated(workshop=workshop, leads=generate(80, seed=3))
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    run = backtest_services.backtest_run_inline(
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, version=version, enqueue=False
        )
    )
    authoring_services.proposal_create(actor=admin, workshop=workshop, title="Next")
    for result in LeadResult.objects.filter(run=run, qualified=True)[:3]:
        verdict_services.verdict_record(
            actor=rep, lead=Lead.objects.get(pk=result.lead_id), verdict="good"
        )

    report = _last_json("bench_pages", workshop="acme", repeat=1)

    assert report["verdicts"] == 3
    assert set(report["pages"]) == {
        "workshop home",
        "accuracy",
        "queue",
        "queue page 30",
        "lead page",
        "proposal page",
    }
    assert report["worst_ms"] == max(report["pages"].values()) > 0


def test_bench_lead_list_times_sorts_searches_and_filters(admin: Any, workshop: Workshop) -> None:
    leads_insert_generated(workshop=workshop, leads=generate(30, seed=3))

    report = _last_json("bench_lead_list", workshop="acme", repeat=1)

    assert report["leads"] == 30
    assert len(report["pages"]) == 10 and "filter rare value" in report["pages"]
