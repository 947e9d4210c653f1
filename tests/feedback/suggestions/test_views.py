"""The suggestions page: a goal starts a search, the page follows its progress and
shows what it found, measured on the validation part; the recommended draft, one
suggestion or the checked ones become a proposal whose rationale carries the evidence
and whose backtest is queued."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.urls import reverse

from definitions.catalog import services as catalog_services
from definitions.models import Proposal, Version, Workshop
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.leads.services import leads_changed
from feedback.models import DiscoveryRun, EvaluationRun, LeakageClearance, RunState
from feedback.suggestions import runs
from feedback.suggestions.types import Goal
from tests.factories import logged_in
from tests.feedback.suggestions.conftest import answer
from tests.feedback.suggestions.poor import POOR_DEFINITION

pytestmark = pytest.mark.django_db


def _text(response: Any) -> str:
    return unescape(re.sub(r"\s+", " ", response.content.decode()))


def _search(client: Any, capture: Any, **goal: Any) -> Any:
    data = {"version": "1", "objective": "f1", "target": "outcome", **goal}
    with capture(execute=True):
        response = client.post(reverse("feedback:discovery_start", args=["acme"]), data)
    return response


def test_a_search_started_on_the_page_shows_what_it_found_measured_on_validation(
    marketer: Any, version: Version, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in(marketer)
    page = client.get(reverse("feedback:suggestions", args=["acme"]))
    assert page.status_code == 200
    assert "No search for improvements of v1 yet." in _text(page)
    assert "30 % of leads with a known outcome, chosen by a hash of the lead id" in _text(page)

    response = _search(client, django_capture_on_commit_callbacks)
    run = DiscoveryRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:discovery_detail", args=["acme", run.pk])
    assert run.state == RunState.DONE, run.message
    discovery = answer(run)
    assert discovery.recommended is not None

    shown = _text(client.get(response["Location"]))
    assert "Recommended draft" in shown
    assert discovery.recommended.title in shown
    assert discovery.recommended.evidence.split("\n")[0] in shown
    assert f"{100 * discovery.recommended.after.precision:.1f} %" in shown
    assert f"{discovery.recommended.after.f1:.3f}" in shown
    assert f"{discovery.recommended.before.f1:.3f}" in shown
    for suggestion in discovery.suggestions:
        assert suggestion.title in shown
        assert f'value="{suggestion.key}"' in response_html(client, run)
    # The suggestions page itself shows the version's latest search.
    assert discovery.recommended.title in _text(
        client.get(reverse("feedback:suggestions", args=["acme"]) + "?version=1")
    )


def response_html(client: Any, run: DiscoveryRun) -> str:
    return str(
        client.get(reverse("feedback:discovery_detail", args=["acme", run.pk])).content.decode()
    )


def test_the_recommended_draft_becomes_a_proposal_with_the_evidence_and_its_backtest_queued(
    marketer: Any, version: Version, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in(marketer)
    _search(client, django_capture_on_commit_callbacks)
    run = DiscoveryRun.objects.get()
    discovery = answer(run)
    assert discovery.recommended is not None
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("feedback:discovery_apply", args=["acme", run.pk]), {"key": "recommended"}
        )
    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "definitions:proposal_detail", args=["acme", proposal.pk]
    )
    assert proposal.parent == version and proposal.author == marketer
    assert discovery.recommended.evidence.split("\n")[0] in proposal.document["rationale"]
    assert EvaluationRun.objects.filter(proposal=proposal).exists()  # its backtest
    landed = _text(client.get(response["Location"]))
    assert "its backtest is running" in landed


def test_one_suggestion_or_the_checked_ones_become_a_proposal_and_nothing_else_does(
    marketer: Any, version: Version, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in(marketer)
    _search(client, django_capture_on_commit_callbacks)
    run = DiscoveryRun.objects.get()
    discovery = answer(run)
    assert discovery.suggestions
    url = reverse("feedback:discovery_apply", args=["acme", run.pk])

    nothing_checked = client.post(url, {"key": "checked"})
    unknown = client.post(url, {"key": "no-such-suggestion"})
    assert nothing_checked.status_code == unknown.status_code == 302
    assert not Proposal.objects.exists()

    first = discovery.suggestions[0]
    one = client.post(url, {"key": first.key})
    assert one.status_code == 302 and Proposal.objects.count() == 1
    checked = client.post(url, {"key": "checked", "keys": [first.key]})
    assert checked.status_code == 302 and Proposal.objects.count() == 2


def test_a_bad_goal_shows_its_error_at_the_field_and_starts_nothing(
    marketer: Any, version: Version, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in(marketer)
    no_capacity = _search(client, django_capture_on_commit_callbacks, objective="capacity")
    assert no_capacity.status_code == 400
    html = no_capacity.content.decode()
    assert 'id="id_capacity_error"' in html
    assert "how many leads a week sales can take" in _text(no_capacity)
    too_high = _search(
        client, django_capture_on_commit_callbacks, objective="precision", min_recall="1.5"
    )
    assert too_high.status_code == 400
    assert 'id="id_min_recall_error"' in too_high.content.decode()
    unknown = _search(client, django_capture_on_commit_callbacks, target="the moon")
    assert unknown.status_code == 400 and 'id="id_target_error"' in unknown.content.decode()
    assert not DiscoveryRun.objects.exists()


def test_outsiders_do_not_find_a_search_and_viewers_may_read_but_not_start_one(
    admin: Any,
    viewer: Any,
    outsider: Any,
    workshop: Workshop,
    version: Version,
) -> None:
    run = runs.discovery_start(actor=admin, workshop=workshop, version=version, goal=Goal())
    detail = reverse("feedback:discovery_detail", args=["acme", run.pk])
    assert logged_in(outsider).get(detail).status_code == 404
    reader = logged_in(viewer)
    page = reader.get(reverse("feedback:suggestions", args=["acme"]))
    assert page.status_code == 200 and 'id="goal-form"' not in page.content.decode()
    assert reader.get(detail).status_code == 200
    start = reader.post(reverse("feedback:discovery_start", args=["acme"]), {"objective": "f1"})
    apply = reader.post(
        reverse("feedback:discovery_apply", args=["acme", run.pk]), {"key": "recommended"}
    )
    assert start.status_code == apply.status_code == 403
    assert DiscoveryRun.objects.count() == 1 and not Proposal.objects.exists()


def test_a_running_search_shows_its_progress_and_refreshes_with_or_without_javascript(
    admin: Any, workshop: Workshop, version: Version
) -> None:
    run = runs.discovery_start(actor=admin, workshop=workshop, version=version, goal=Goal())
    DiscoveryRun.objects.filter(pk=run.pk).update(
        state=RunState.RUNNING, progress=40, step="Counting the candidates"
    )
    client = logged_in(admin)
    detail = reverse("feedback:discovery_detail", args=["acme", run.pk])
    page = client.get(detail).content.decode()
    assert 'http-equiv="refresh"' in page  # without JavaScript the page reloads itself
    assert f'href="{detail}">Refresh</a>' in page
    partial = client.get(detail, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section id="discovery"')
    assert 'value="40"' in partial and "Counting the candidates" in partial
    assert f'hx-get="{detail}"' in partial


def test_a_failed_search_says_why_and_offers_to_run_it_again(
    admin: Any, workshop: Workshop, version: Version
) -> None:
    run = runs.discovery_start(actor=admin, workshop=workshop, version=version, goal=Goal())
    DiscoveryRun.objects.filter(pk=run.pk).update(
        state=RunState.FAILED, message="<b>The worker</b> stopped."
    )
    page = logged_in(admin).get(reverse("feedback:discovery_detail", args=["acme", run.pk]))
    html = page.content.decode()
    assert "&lt;b&gt;The worker&lt;/b&gt; stopped." in html  # stored text stays inert
    assert reverse("feedback:discovery_retry", args=["acme", run.pk]) in html


def test_a_search_of_leads_that_changed_since_is_marked_stale(
    marketer: Any, workshop: Workshop, version: Version, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in(marketer)
    response = _search(client, django_capture_on_commit_callbacks)
    assert "Leads changed since this search" not in _text(client.get(response["Location"]))
    leads_changed(workshop_id=workshop.pk)
    assert "Leads changed since this search" in _text(client.get(response["Location"]))


def test_without_labelled_leads_the_page_says_why_nothing_is_suggested(
    admin: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=POOR_DEFINITION, parent=None
    )
    client = logged_in(admin)
    response = _search(client, django_capture_on_commit_callbacks)
    run = DiscoveryRun.objects.get()
    assert run.state == RunState.DONE, run.message
    discovery = answer(run)
    assert not discovery.suggestions and discovery.recommended is None
    assert discovery.empty_reason
    assert discovery.empty_reason in _text(client.get(response["Location"]))


def test_an_admin_clears_a_field_from_the_page_and_its_label_stays_inert(
    admin: Any, marketer: Any, workshop: Workshop, version: Version
) -> None:
    catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="stage_note",
        label="<script>alert(1)</script>",
        type="text",
        category="firmographic",
    )
    clear = reverse("feedback:leakage_clear", args=["acme"])
    assert logged_in(marketer).post(clear, {"field": "stage_note"}).status_code == 403
    client = logged_in(admin)
    response = client.post(clear, {"field": "stage_note"})
    assert response.status_code == 302
    assert LeakageClearance.objects.filter(field="stage_note").exists()
    page = client.get(reverse("feedback:suggestions", args=["acme"])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Suspect it again" in page
    client.post(reverse("feedback:leakage_restore", args=["acme"]), {"field": "stage_note"})
    assert not LeakageClearance.objects.exists()


def test_the_accuracy_page_leads_to_the_search_for_the_version_it_shows(
    admin: Any, workshop: Workshop, version: Version
) -> None:
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=version, enqueue=False
    )
    backtest_services.backtest_run_inline(run)
    page = logged_in(admin).get(reverse("feedback:accuracy", args=["acme"])).content.decode()
    assert 'id="discover-link"' in page
    assert f'href="{reverse("feedback:suggestions", args=["acme"])}?version=1"' in page
    assert 'id="suggestions"' not in page  # the old suggestions section is gone
