"""The builder's live preview: the draft against the current version on a fixed
sample, exact when the sample is every lead or after a backtest."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.catalog.selectors import catalog_for
from definitions.models import Proposal, Version, Workshop
from feedback.accuracy import preview as live
from feedback.backtests import services as backtest_services
from feedback.models import Lead, LeadResult
from tests.factories import logged_in
from tests.feedback.backtests import test_backtests as _bt
from tests.htmlform import as_post, form_data

pytestmark = pytest.mark.django_db

# The backtest tests' fixtures (v1 is the suite's): 120 generated leads,
# and queued work running as it would after a commit.
leads = _bt.leads
_queued_work_runs = _bt._queued_work_runs
_done = _bt._done


@pytest.fixture
def draft(admin: Any, workshop: Workshop, v1: Version) -> Proposal:
    document = copy.deepcopy(rules.WORKED_EXAMPLE)
    document["stages"].update({"mql": 0, "sql": 0, "sales_ready": []})
    return authoring_services.proposal_create(
        actor=admin, workshop=workshop, title="All to sales", document=document
    )


def _preview(workshop: Workshop, draft: Proposal) -> live.Preview:
    catalog = catalog_for(workshop)
    definition = rules.parse(draft.document, catalog).definition
    assert definition is not None
    found = live.preview(workshop, draft, definition, catalog)
    assert found is not None
    return found


def _stage_counts(run: Any) -> Counter[str]:
    return Counter(LeadResult.objects.filter(run=run).values_list("stage", flat=True))


def test_with_fewer_leads_than_the_sample_the_preview_is_every_lead_exactly(
    admin: Any, workshop: Workshop, v1: Version, leads: int, draft: Proposal
) -> None:
    found = _preview(workshop, draft)
    assert found.exact and found.sample == found.total == leads
    base = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, proposal=draft))
    rows = {r.key: r for r in found.rows}
    before, after = _stage_counts(base), _stage_counts(run)
    assert rows["sql"].current == before["sql"] and rows["sql"].draft == after["sql"]
    assert rows["qualified"].draft == rows["qualified"].current
    assert rows["sql"].change == after["sql"] - before["sql"] > 0
    assert all(r.margin == 0 for r in found.rows)


def test_on_a_sample_the_preview_counts_exactly_the_sampled_leads_and_scales_them(
    admin: Any,
    workshop: Workshop,
    v1: Version,
    leads: int,
    draft: Proposal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live, "SAMPLE_LEADS", 40)
    found = _preview(workshop, draft)
    limit = live._limit(leads)
    sampled = {
        pk
        for pk in Lead.objects.filter(workshop=workshop).values_list("pk", flat=True)
        if (pk * live.HASH_MULTIPLIER) % live.HASH_SPAN < limit
    }
    assert not found.exact and found.sample == len(sampled) and 0 < len(sampled) < leads
    base = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, proposal=draft))
    was = dict(
        LeadResult.objects.filter(run=base, lead_id__in=sampled).values_list("lead_id", "stage")
    )
    now = dict(
        LeadResult.objects.filter(run=run, lead_id__in=sampled).values_list("lead_id", "stage")
    )
    rows = {r.key: r for r in found.rows}
    to_sql = sum(1 for i in sampled if now[i] == "sql" and was[i] != "sql")
    assert rows["sql"].entered == to_sql and rows["sql"].left == 0
    scale = leads / len(sampled)
    assert rows["sql"].draft == round(sum(s == "sql" for s in now.values()) * scale)
    if to_sql:
        assert rows["sql"].margin > 0  # an estimate says how sure it is


def test_after_a_backtest_of_the_draft_as_it_stands_the_preview_is_exact(
    admin: Any,
    workshop: Workshop,
    v1: Version,
    leads: int,
    draft: Proposal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live, "SAMPLE_LEADS", 40)
    _done(backtest_services.backtest_start(actor=admin, workshop=workshop, version=v1))
    run = _done(backtest_services.backtest_start(actor=admin, workshop=workshop, proposal=draft))
    found = _preview(workshop, draft)
    assert found.exact and found.sample == leads
    assert {r.key: r for r in found.rows}["sql"].draft == _stage_counts(run)["sql"]


def test_the_builder_shows_the_preview_and_keeps_it_while_the_draft_has_an_error(
    admin: Any, workshop: Workshop, v1: Version, leads: int, draft: Proposal
) -> None:
    client = logged_in(admin)
    url = reverse("definitions:draft_builder", args=[workshop.slug, draft.pk])
    html = client.get(url).content.decode()
    assert 'id="live-preview-counts"' in html and 'id="live-preview-sql"' in html
    assert 'id="live-preview-stale"' not in html
    data = form_data(html, "builder")
    data.setlist("mql", ["not a number"])
    broken = client.post(url, as_post(data), HTTP_HX_REQUEST="true").content.decode()
    # The figures of the last valid draft stay, said to be out of date, and the notice
    # links to the error that keeps them from updating.
    assert 'id="live-preview-counts"' in broken and 'id="live-preview-stale"' in broken
    assert 'href="#error-stages-mql"' in broken and 'id="error-stages-mql"' in broken
    assert "hx-preserve" not in broken


def _sql_count(html: str) -> int:
    row = html[html.index('id="live-preview-sql"') :]
    start = row.index('data-draft="') + len('data-draft="')
    return int(row[start : row.index('"', start)])


def test_without_script_a_draft_with_an_error_keeps_its_last_valid_preview_marked_stale(
    admin: Any, workshop: Workshop, v1: Version, leads: int, draft: Proposal
) -> None:
    client = logged_in(admin)
    url = reverse("definitions:draft_builder", args=[workshop.slug, draft.pk])
    data = form_data(client.get(url).content.decode(), "builder")
    # A valid change, not saved: the preview follows it (everyone is an SQL at 0).
    data.setlist("sql", ["1000"])
    valid = client.post(url, as_post(data)).content.decode()
    assert 'id="live-preview-stale"' not in valid
    at_1000 = _sql_count(valid)
    # Then a mistake, posted as a plain form (no htmx): the page shows the preview of
    # that last valid state (SQL at 1000), not of the saved draft (SQL at 0).
    data = form_data(valid, "builder")
    data.setlist("mql", ["not a number"])
    broken = client.post(url, as_post(data)).content.decode()
    assert 'id="live-preview-stale"' in broken
    assert "Preview of the last valid draft" in broken
    assert _sql_count(broken) == at_1000 != _sql_count(client.get(url).content.decode())
    # Still broken on the next change: the same last valid state is carried on.
    data = form_data(broken, "builder")
    data.setlist("rationale", ["Typing on while the error stands."])
    again = client.post(url, as_post(data)).content.decode()
    assert 'id="live-preview-stale"' in again and _sql_count(again) == at_1000
    # Fixed: the preview is current again.
    data = form_data(again, "builder")
    data.setlist("mql", ["40"])
    fixed = client.post(url, as_post(data)).content.decode()
    assert 'id="live-preview-stale"' not in fixed and 'id="live-preview-counts"' in fixed


@pytest.mark.parametrize(
    "carried",
    ["", "not json", '{"schema_version": 1}', "[" * 5000, '{"qualify": ' + "1" * 400 + "}"],
)
def test_a_last_valid_state_that_is_not_a_valid_definition_is_ignored(
    admin: Any, workshop: Workshop, v1: Version, leads: int, draft: Proposal, carried: str
) -> None:
    client = logged_in(admin)
    url = reverse("definitions:draft_builder", args=[workshop.slug, draft.pk])
    data = form_data(client.get(url).content.decode(), "builder")
    data.setlist("mql", ["not a number"])
    data.setlist("last_valid", [carried])
    response = client.post(url, as_post(data))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="live-preview-counts"' not in html and 'id="live-preview-stale"' not in html
    assert "Fix the marked problems to see what this draft does to the leads." in html


@pytest.mark.django_db(transaction=True)
def test_a_large_sample_evaluated_in_two_halves_counts_the_same_as_in_one(
    admin: Any,
    workshop: Workshop,
    v1: Version,
    leads: int,
    draft: Proposal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Committed data (transaction=True): the halves' own connections must see it.
    monkeypatch.setattr(live, "SAMPLE_LEADS", 60)
    catalog = catalog_for(workshop)
    mine = rules.parse(draft.document, catalog).definition
    theirs = rules.parse(v1.document, catalog).definition
    assert mine is not None and theirs is not None
    limit = live._limit(leads)
    try:
        monkeypatch.setattr(live, "PARALLEL_LEADS", 10**9)
        whole = live._transitions(workshop, mine, theirs, catalog, limit, v1.number)
        monkeypatch.setattr(live, "PARALLEL_LEADS", 0)
        halves = live._transitions(workshop, mine, theirs, catalog, limit, v1.number)
        assert halves == whole and sum(whole.values()) > 0
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'lw_sample_%'")
            for (table,) in cursor.fetchall():
                cursor.execute(f'DROP TABLE "{table}"')
