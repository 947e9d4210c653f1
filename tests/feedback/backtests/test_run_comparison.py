"""The run comparison tells the truth: every stage and cut that changed says so, even
when the handoff stage's own count did not move."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from django.urls import reverse

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.models import Version, Workshop
from feedback.backtests import selectors as backtest_selectors
from feedback.backtests import services as backtest_services
from feedback.backtests.comparison import compare_runs
from feedback.models import LeadResult
from tests.factories import logged_in
from tests.feedback.backtests import test_backtests as _bt

pytestmark = pytest.mark.django_db

# The backtest tests' fixtures (v1 is the suite's): generated leads, and
# queued work running as it would after a commit.
leads = _bt.leads
_queued_work_runs = _bt._queued_work_runs
_done = _bt._done


def _stages(run: Any) -> dict[int, str]:
    return dict(LeadResult.objects.filter(run=run).values_list("lead_id", "stage"))


def test_new_thresholds_report_the_sql_and_mql_changes_though_qualified_stays_the_same(
    admin: Any,
    workshop: Workshop,
    v1: Version,
    leads: int,
) -> None:
    workshop.handoff_stage = "qualified"
    workshop.save(update_fields=["handoff_stage"])
    base = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    document = copy.deepcopy(rules.WORKED_EXAMPLE)
    # Every qualified lead is an SQL now (no score, no sales-ready action needed):
    # what qualifies, the handoff stage, stays exactly the same.
    document["stages"].update({"mql": 0, "sql": 0, "sales_ready": []})
    proposal = authoring_services.proposal_create(
        actor=admin, workshop=workshop, title="Everyone to sales", document=document, parent=v1
    )
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, proposal=proposal))
    before, after = _stages(base), _stages(run)
    to_sql = [i for i in after if before[i] in ("lead", "mql") and after[i] == "sql"]
    from_lead = [i for i in to_sql if before[i] == "lead"]
    assert to_sql and from_lead

    # The old summary: nothing crossed the handoff stage, so +0 and -0.
    change = backtest_selectors.run_change(run, base)
    assert change is not None and (change.gained, change.lost) == (0, 0)

    comparison = compare_runs(run, base)
    assert comparison is not None and comparison.changed
    stages = {m.key: m for m in comparison.stages}
    assert stages["sql"].entered == len(to_sql) and stages["sql"].left == 0
    assert stages["lead"].left == len(from_lead) and stages["lead"].after == 0
    for m in comparison.stages:
        assert m.after == m.before + m.entered - m.left
        assert m.after == sum(s == m.key for s in after.values())
        assert m.before == sum(s == m.key for s in before.values())
    cuts = {m.key: m for m in comparison.cuts}
    assert (cuts["qualified"].entered, cuts["qualified"].left) == (0, 0)
    assert cuts["sql"].entered == len(to_sql)
    assert cuts["mql"].entered == len(from_lead)
    assert {e.lead_id for e in comparison.left_examples["lead"]} <= set(from_lead)
    assert {e.lead_id for e in comparison.entered_examples["sql"]} <= set(to_sql)
    # Handed over at "qualified", the same leads go to sales: the accuracy holds.
    assert comparison.accuracy_before == comparison.accuracy_after

    client = logged_in(admin)
    page = client.get(reverse("feedback:run_detail", args=["acme", run.pk])).content.decode()
    row = re.search(r'<tr id="comparison-stage-lead">.*?</tr>', page, re.S)
    assert row is not None and f"\N{MINUS SIGN}{len(from_lead)}" in row.group(0)
    row = re.search(r'<tr id="comparison-stage-sql">.*?</tr>', page, re.S)
    assert row is not None and f"+{len(to_sql)}" in row.group(0)
    assert 'id="change-handoff-same"' in page
    listed = client.get(
        reverse("feedback:run_leads", args=["acme", run.pk]) + "?left=lead"
    ).content.decode()
    ids = {int(i) for i in re.findall(r'href="/w/acme/leads/(\d+)/"', listed)}
    assert ids == set(from_lead) if len(from_lead) <= 50 else len(ids) == 50


def test_precision_and_recall_change_when_the_handoff_changes(
    admin: Any,
    workshop: Workshop,
    v1: Version,
    leads: int,
) -> None:
    base = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    parsed = rules.parse(rules.SALES_LEANING_EXAMPLE, rules.DEFAULT_CATALOG).definition
    assert parsed is not None
    proposal = authoring_services.proposal_create(
        actor=admin, workshop=workshop, title="Stricter", document=rules.to_json(parsed), parent=v1
    )
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, proposal=proposal))
    comparison = compare_runs(run, base)
    assert comparison is not None
    handed = {m.key: m for m in comparison.cuts}["mql"]
    acc = comparison.accuracy_after
    assert acc.tp + acc.fp <= handed.after  # only leads with a known outcome count
    known = LeadResult.objects.filter(run=run, stage__in=("mql", "sql")).filter(
        lead__converted__isnull=False
    ) | LeadResult.objects.filter(run=run, stage__in=("mql", "sql")).filter(
        lead__reached_stage__isnull=False
    )
    assert acc.tp + acc.fp == known.distinct().count()
