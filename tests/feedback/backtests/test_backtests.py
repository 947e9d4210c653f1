"""Backtest runs: results equal to the reference evaluator, chunks that can be redone,
cancel, failure mid-run, retry, expiry, stale marking, and the pages that show them."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.catalog import services as catalog_services
from definitions.catalog.selectors import catalog_for
from definitions.models import CustomField, Version, Workshop
from definitions.versions import services as version_services
from definitions.workshops import services as workshop_services
from feedback.backtests import selectors as backtest_selectors
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_changed, leads_insert_generated
from feedback.models import EvaluationRun, Lead, LeadResult, RunState
from feedback.tasks import backtest_chunk_task
from tests.factories import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(workshop: Workshop) -> int:
    return leads_insert_generated(workshop=workshop, leads=generate(120, seed=3))


@pytest.fixture
def small_chunks(settings: Any) -> None:
    settings.BACKTEST_CHUNK_LEADS = 25


@pytest.fixture(autouse=True)
def _queued_work_runs(django_capture_on_commit_callbacks: Any) -> Any:
    """Work a service queues on commit runs as soon as it returns, as it would after a
    real commit (tasks are eager in tests)."""
    originals = {
        name: getattr(backtest_services, name) for name in ("backtest_start", "backtest_retry")
    }

    def committing(service: Any) -> Any:
        def call(**kwargs: Any) -> Any:
            with django_capture_on_commit_callbacks(execute=True):
                return service(**kwargs)

        return call

    for name, service in originals.items():
        setattr(backtest_services, name, committing(service))
    yield
    for name, service in originals.items():
        setattr(backtest_services, name, service)


def _done(run: EvaluationRun) -> EvaluationRun:
    run.refresh_from_db()
    assert run.state == RunState.DONE, run.message
    return run


def test_a_backtest_stores_for_every_lead_what_the_reference_evaluator_says(
    admin: Any, workshop: Workshop, v1: Version, leads: int, small_chunks: None
) -> None:
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    catalog = catalog_for(workshop, translated=False)
    definition = rules.parse(v1.document, catalog).definition
    assert definition is not None
    results = {r.lead_id: r for r in LeadResult.objects.filter(run=run)}
    assert len(results) == leads == run.leads_done == run.leads_total
    assert run.chunks_total == 5
    for lead in Lead.objects.filter(workshop=workshop):
        expected = rules.evaluate(
            definition,
            backtest_selectors.lead_data(lead, catalog),
            as_of=backtest_selectors.lead_moment(run, lead),
        )
        got = results[lead.pk]
        assert (got.qualified, got.junk, got.score, got.stage, set(got.matched_ids)) == (
            expected.qualified,
            expected.junk,
            expected.score,
            str(expected.stage),
            set(expected.matched),
        )
    stages = {
        s: sum(1 for r in results.values() if r.stage == s) for s in backtest_selectors.STAGES
    }
    assert {s: run.stage_counts.get(s, 0) for s in backtest_selectors.STAGES} == stages
    assert run.stage_counts["qualified"] == sum(r.qualified for r in results.values())
    assert run.criterion_counts["pp5"] == sum("pp5" in r.matched_ids for r in results.values())


def test_a_workshop_without_leads_gets_an_empty_finished_backtest(
    admin: Any, workshop: Workshop, v1: Version
) -> None:
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    assert (run.leads_total, run.chunks_total, run.stage_counts) == (0, 0, {"qualified": 0})
    page = logged_in(admin).get(reverse("feedback:run_detail", args=["acme", run.pk]))
    assert page.status_code == 200 and 'id="funnel"' in page.content.decode()


def test_starting_a_backtest_twice_returns_the_run_already_there(
    admin: Any, workshop: Workshop, v1: Version, leads: int
) -> None:
    first = backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1)
    again = backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1)
    assert again.pk == first.pk
    assert EvaluationRun.objects.count() == 1


def test_a_chunk_delivered_twice_changes_nothing(
    admin: Any, workshop: Workshop, v1: Version, leads: int, small_chunks: None
) -> None:
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=v1, enqueue=False
    )
    chunks = backtest_services.backtest_prepare(run.pk)
    index, low, high = chunks[0]
    assert backtest_services.backtest_chunk(run.pk, index, low, high) is False
    assert (
        backtest_services.backtest_chunk(run.pk, index, low, high) is False
    )  # the redelivered copy
    run.refresh_from_db()
    in_chunk = Lead.objects.filter(workshop=workshop, pk__gte=low, pk__lt=high).count()
    assert in_chunk > 0
    assert run.chunks_done == 1 and run.leads_done == in_chunk
    assert LeadResult.objects.filter(run=run).count() == in_chunk


def test_a_half_finished_run_shows_no_results(
    admin: Any, workshop: Workshop, v1: Version, leads: int, small_chunks: None
) -> None:
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=v1, enqueue=False
    )
    index, low, high = backtest_services.backtest_prepare(run.pk)[0]
    backtest_services.backtest_chunk(run.pk, index, low, high)
    run.refresh_from_db()
    assert LeadResult.objects.filter(run=run).exists()  # written, but not shown:
    assert not backtest_selectors.run_leads(run).exists()
    assert (
        backtest_selectors.results_for_leads(run, list(Lead.objects.values_list("pk", flat=True)))
        == {}
    )
    lead = Lead.objects.filter(pk__gte=low, pk__lt=high).first()
    assert lead is not None
    assert backtest_selectors.lead_verdicts(lead) == []


def test_a_cancelled_run_keeps_nothing_and_can_be_run_again(
    admin: Any, workshop: Workshop, v1: Version, leads: int, small_chunks: None
) -> None:
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=v1, enqueue=False
    )
    chunks = backtest_services.backtest_prepare(run.pk)
    backtest_services.backtest_chunk(run.pk, *chunks[0])
    backtest_services.backtest_cancel(actor=admin, run=run)
    # A chunk still running in another worker finds the run cancelled and commits nothing.
    assert backtest_services.backtest_chunk(run.pk, *chunks[1]) is False
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED
    assert not LeadResult.objects.filter(run=run).exists()
    with pytest.raises(Exception, match="cancelled"):
        backtest_services.backtest_cancel(actor=admin, run=run)

    backtest_services.backtest_retry(actor=admin, run=run)
    run = _done(run)
    assert LeadResult.objects.filter(run=run).count() == leads
    assert run.attempts == 2


def test_a_failure_mid_run_drops_the_chunks_already_done_and_a_retry_completes(
    admin: Any, workshop: Workshop, leads: int, small_chunks: None
) -> None:
    catalog_services.custom_field_add(
        actor=admin, workshop=workshop, key="tier", label="Tier", type="text", category="bant"
    )
    document: dict[str, Any] = {
        "schema_version": 1,
        "qualify": {"id": "g", "any": [{"id": "gold", "field": "tier", "op": "eq", "value": "x"}]},
        "stages": {"mql": 0, "sql": 0},
    }
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=document, parent=None
    )
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=version, enqueue=False
    )
    chunks = backtest_services.backtest_prepare(run.pk)
    backtest_services.backtest_chunk(run.pk, *chunks[0])
    backtest_services.backtest_chunk(run.pk, *chunks[1])
    # The field the definition tests disappears while the run is half done: the next
    # chunk cannot evaluate, and the task fails the whole run.
    CustomField.objects.filter(workshop=workshop, key="tier").delete()
    backtest_chunk_task.delay(run.pk, *chunks[2])
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    assert "tier" in run.message
    assert not LeadResult.objects.filter(run=run).exists()
    assert not backtest_selectors.run_leads(run).exists()

    catalog_services.custom_field_add(
        actor=admin, workshop=workshop, key="tier", label="Tier", type="text", category="bant"
    )
    backtest_services.backtest_retry(actor=admin, run=run)
    run = _done(run)
    assert LeadResult.objects.filter(run=run).count() == leads


def test_a_run_whose_worker_died_times_out_and_can_be_retried(
    admin: Any, workshop: Workshop, v1: Version, leads: int, small_chunks: None, settings: Any
) -> None:
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=v1, enqueue=False
    )
    chunks = backtest_services.backtest_prepare(run.pk)
    backtest_services.backtest_chunk(run.pk, *chunks[0])
    # ... and then the worker is gone: nothing reports any more.
    EvaluationRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.BACKTEST_TIMEOUT_SECONDS + 1)
    )
    assert backtest_services.backtests_expire_overdue() == 1
    run.refresh_from_db()
    assert run.state == RunState.FAILED and "Timed out" in run.message
    assert not LeadResult.objects.filter(run=run).exists()
    backtest_services.backtest_retry(actor=admin, run=run)
    assert _done(run).leads_done == leads


def test_changed_leads_mark_a_run_stale_and_housekeeping_runs_it_again(
    admin: Any, workshop: Workshop, v1: Version, leads: int
) -> None:
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    workshop.refresh_from_db()
    assert not backtest_services.is_stale(run, workshop)
    assert backtest_services.backtests_refresh_stale() == 0  # nothing changed: nothing re-runs

    leads_changed(workshop_id=workshop.pk)
    workshop.refresh_from_db()
    assert backtest_services.is_stale(run, workshop)
    assert backtest_services.backtests_refresh_stale() == 1
    fresh = backtest_selectors.latest_run(workshop, version=v1)
    assert fresh is not None and fresh.pk != run.pk
    _done(fresh)
    # The superseded run and its results are gone; the fresh one is not stale.
    assert not EvaluationRun.objects.filter(pk=run.pk).exists()
    assert not LeadResult.objects.filter(run_id=run.pk).exists()
    workshop.refresh_from_db()
    assert not backtest_services.is_stale(fresh, workshop)


def test_the_api_and_imports_mark_leads_changed(admin: Any, workshop: Workshop) -> None:
    from api.services import leads_upsert
    from tests.feedback.imports.test_imports import run as run_import

    assert workshop.leads_changed_at is None
    leads_upsert(workshop=workshop, leads=[{"external_id": "a1", "company": "X"}])
    workshop.refresh_from_db()
    after_api = workshop.leads_changed_at
    assert after_api is not None
    run_import(admin, workshop, b"ID,Name\nA2,Ann\n")
    workshop.refresh_from_db()
    assert workshop.leads_changed_at > after_api


def test_a_draft_that_does_not_fit_the_catalog_cannot_be_backtested(
    admin: Any, workshop: Workshop
) -> None:
    proposal = authoring_services.proposal_create(actor=admin, workshop=workshop, title="Draft")
    proposal.document = {"schema_version": 1, "qualify": {"id": "g", "any": []}}
    proposal.save()
    with pytest.raises(Exception, match="no longer fits"):
        backtest_services.backtest_start(actor=admin, workshop=workshop, proposal=proposal)
    assert not EvaluationRun.objects.exists()


def test_evaluate_prints_a_json_summary_as_its_last_line(
    workshop: Workshop, v1: Version, leads: int
) -> None:
    out, err = StringIO(), StringIO()
    call_command("evaluate", "--workshop", "acme", "--version", "1", stdout=out, stderr=err)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    run = EvaluationRun.objects.get(pk=summary["run"])
    assert summary["leads"] == leads
    assert summary["qualified"] == run.stage_counts["qualified"]
    assert summary["sql"] == run.stage_counts.get("sql", 0)
    assert set(summary) == {"run", "leads", "qualified", "junk", "mql", "sql", "seconds"}
    assert "100%" in err.getvalue()


def test_evaluate_says_which_argument_is_wrong(workshop: Workshop) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No workshop"):
        call_command("evaluate", "--workshop", "nope")
    with pytest.raises(CommandError, match="no such version"):
        call_command("evaluate", "--workshop", "acme", "--version", "9")


# ------------------------------------------------------------------------ pages


def test_the_run_page_shows_the_funnel_the_change_against_the_parent_and_criteria(
    admin: Any, workshop: Workshop, v1: Version, leads: int
) -> None:
    base = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    parsed = rules.parse(rules.SALES_LEANING_EXAMPLE, rules.DEFAULT_CATALOG).definition
    assert parsed is not None
    stricter = rules.to_json(parsed)
    proposal = authoring_services.proposal_create(
        actor=admin, workshop=workshop, title="Stricter", document=stricter, parent=v1
    )
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, proposal=proposal))
    change = backtest_selectors.run_change(run, base)
    assert change is not None
    # Measured at the workshop's handoff stage (MQL): MQL or SQL counts as handed over.
    assert change.cut == workshop.handoff_stage == "mql"
    handed = {"mql", "sql"}
    gained = sum(
        1
        for r in LeadResult.objects.filter(run=run, stage__in=handed)
        if LeadResult.objects.get(run=base, lead_id=r.lead_id).stage not in handed
    )
    lost = sum(
        1
        for r in LeadResult.objects.exclude(stage__in=handed).filter(run=run)
        if LeadResult.objects.get(run=base, lead_id=r.lead_id).stage in handed
    )
    assert (change.gained, change.lost) == (gained, lost)
    assert lost > 0  # the stricter draft drops leads the worked example took

    client = logged_in(admin)
    page = client.get(reverse("feedback:run_detail", args=["acme", run.pk])).content.decode()
    assert f"\N{MINUS SIGN}{lost}" in page and f"+{gained}" in page
    assert 'id="funnel"' in page and "<meter" in page
    leads_page = client.get(
        reverse("feedback:run_leads", args=["acme", run.pk]) + "?change=lost"
    ).content.decode()
    assert len(re.findall(r'href="/w/acme/leads/\d+/"', leads_page)) == min(lost, 50)
    proposal_page = client.get(
        reverse("definitions:proposal_detail", args=["acme", proposal.pk])
    ).content.decode()
    assert 'id="backtest"' in proposal_page and "leads qualify" in proposal_page


def test_the_lead_list_of_a_run_filters_by_result_and_by_criterion(
    admin: Any, workshop: Workshop, v1: Version, leads: int
) -> None:
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    junk = set(LeadResult.objects.filter(run=run, junk=True).values_list("lead_id", flat=True))
    assert (
        set(backtest_selectors.run_leads(run, result="junk").values_list("pk", flat=True)) == junk
    )
    pp5 = {r.lead_id for r in LeadResult.objects.filter(run=run) if "pp5" in r.matched_ids}
    found = set(backtest_selectors.run_leads(run, criterion="pp5").values_list("pk", flat=True))
    assert found == pp5 and pp5
    client = logged_in(admin)
    for query in ("?result=junk", "?criterion=pp5", "?result=bogus&criterion=<b>x</b>&page=-3"):
        response = client.get(reverse("feedback:run_leads", args=["acme", run.pk]) + query)
        assert response.status_code == 200
        assert "<b>x</b>" not in response.content.decode()


def test_the_lead_page_says_why_each_version_qualified_it(
    admin: Any, workshop: Workshop, v1: Version, leads: int
) -> None:
    # Judged a year after their creation: the generated downloads (within 60 days of
    # it) all count, so some lead matched "2 high-value downloads ever".
    workshop_services.workshop_evaluation_update(
        actor=admin, workshop=workshop, handoff_stage="mql", decision_days=365
    )
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    result = LeadResult.objects.filter(run=run, qualified=True, matched__contains="hv2").first()
    assert result is not None
    page = (
        logged_in(admin)
        .get(reverse("feedback:lead_detail", args=["acme", result.lead_id]))
        .content.decode()
    )
    assert 'id="verdict-v1"' in page and "qualified" in page
    matched = page.split('class="matched"')[1].split("</ul>")[0]
    assert "At least 2 high-value downloads ever" in matched


def test_another_workshops_run_is_not_found(
    admin: Any, outsider: Any, workshop: Workshop, v1: Version
) -> None:
    other = Workshop.objects.get(slug="other")
    theirs = version_services.version_publish_document(
        actor=outsider, workshop=other, document=rules.WORKED_EXAMPLE, parent=None
    )
    run = backtest_services.backtest_start(actor=outsider, workshop=other, version=theirs)
    client = logged_in(admin)
    assert client.get(reverse("feedback:run_detail", args=["acme", run.pk])).status_code == 404
    response = client.post(reverse("feedback:backtest_start", args=["acme"]), {"version": 99})
    assert response.status_code == 404
