"""The review of a published version: the backtest's promise kept at publish time, the
figures on the leads decided since it went live, the drift alarm and the members'
notification (once)."""

from __future__ import annotations

from typing import Any

import pytest

from definitions.models import Notification, Version, Workshop
from definitions.notifications.services import describe
from definitions.workshops import services as workshop_services
from feedback.accuracy import metrics
from feedback.models import Lead, LeadFeedback, Verdict, VersionReview
from feedback.ops.housekeeping import housekeeping_run
from feedback.reviews import services as review_services
from feedback.reviews.selectors import review_for
from tests.factories import logged_in
from tests.feedback.reviews.conftest import add_leads, backtest

pytestmark = pytest.mark.django_db


def test_publishing_keeps_the_backtest_the_vote_saw_as_the_promise(published: Version) -> None:
    review = VersionReview.objects.get(version=published)
    assert review.promise["handoff"] == "mql"
    assert review.promise["outcomes"] == {"tp": 90, "fp": 10, "fn": 10, "tn": 90}
    assert review.observed == {} and review.notified_at is None


def test_a_version_worse_than_promised_is_reported_outside_the_interval_and_members_told_once(
    drifted: Version, workshop: Workshop
) -> None:
    review = review_for(drifted, workshop)
    assert review.row.decided == 100
    assert review.row.observed["outcomes"] == {"tp": 15, "fp": 35, "fn": 35, "tn": 15}
    outcomes = next(c for c in review.comparisons if c.truth == "outcomes")
    assert outcomes.promised is not None and outcomes.observed is not None
    assert outcomes.promised.f1 == pytest.approx(0.90)
    assert outcomes.observed.f1 == pytest.approx(0.30)
    interval = outcomes.promised.f1_interval
    assert interval is not None and not interval.low <= 0.30 <= interval.high
    assert outcomes.outside and outcomes.direction == "worse"
    assert review.drift and review.row.drift
    assert review.sentence == (
        "v2 promised F1 0.90 ± 0.04 against outcomes; on the 100 leads decided since, 0.30 ± 0.11."
    )
    assert "does worse than the interval its backtest promised" in review.alarm

    told = Notification.objects.filter(verb="version.drift", workshop=workshop)
    members = {"admin", "marketer", "seller", "leader", "rep"}
    assert set(told.values_list("recipient__username", flat=True)) == members
    assert told.count() == len(members)
    first = told.first()
    assert first is not None and first.url.endswith(f"/versions/{drifted.number}/record/#review")
    assert first.params["observed"] == pytest.approx(0.30)
    assert describe(first) == (
        "v2 is not keeping its promise: on 100 leads decided since it went live, F1 0.30, "
        "outside the interval its backtest promised (0.90 ± 0.04)."
    )

    # Counting again — the sweep, a later backtest, more decided leads — tells no one twice.
    review_services.review_compute(drifted)
    add_leads(workshop, "later", drifted.published_at, makers=(1, 9), shops=(9, 1))
    backtest(workshop, version=drifted)
    housekeeping_run()
    assert VersionReview.objects.get(version=drifted).decided == 120
    assert Notification.objects.filter(workshop=workshop, verb__startswith="version.").exclude(
        verb="version.published"
    ).count() == len(members)


def test_the_review_waits_for_enough_decided_leads_and_then_shows_on_the_home_page(
    published: Version, workshop: Workshop, marketer: Any
) -> None:
    add_leads(workshop, "few", published.published_at, makers=(10, 2), shops=(2, 10))
    backtest(workshop, version=published)
    review = review_for(published, workshop)
    assert review.row.decided == 24 and not review.ready and not review.drift
    assert review.sentence == "24 leads decided since v2 went live; its review needs 50."
    assert not Notification.objects.filter(verb__in=["version.drift", "version.reviewed"]).exists()
    home = logged_in(marketer).get(f"/w/{workshop.slug}/")
    assert 'id="version-reviews"' not in home.content.decode()

    # Enough leads that behave as promised: reviewed, no drift, on the home page.
    add_leads(workshop, "more", published.published_at, makers=(36, 4), shops=(4, 36))
    backtest(workshop, version=published)
    review = review_for(published, workshop)
    assert review.row.decided == 104 and review.ready and not review.drift
    assert Notification.objects.filter(verb="version.reviewed").count() == 5
    page = logged_in(marketer).get(f"/w/{workshop.slug}/").content.decode()
    assert 'id="version-reviews"' in page
    assert "v2 promised F1 0.90 ± 0.04 against outcomes; on the 104 leads decided since" in page
    assert "Drift" not in page


def test_the_drift_alarm_on_the_home_page_links_to_the_suggestions(
    drifted: Version, workshop: Workshop, viewer: Any
) -> None:
    page = logged_in(viewer).get(f"/w/{workshop.slug}/").content.decode()
    assert 'role="alert"' in page and "does worse than the interval" in page
    assert f'href="/w/{workshop.slug}/suggestions/"' in page


def test_reps_verdicts_on_new_leads_are_a_second_truth(
    published: Version, workshop: Workshop, rep: Any
) -> None:
    add_leads(workshop, "judged", published.published_at, makers=(0, 12), shops=(0, 0))
    judged = Lead.objects.filter(workshop=workshop, external_id__startswith="judged-")
    LeadFeedback.objects.bulk_create(
        LeadFeedback(
            workshop=workshop,
            lead=lead,
            rep=rep,
            verdict=Verdict.GOOD if i < 6 else Verdict.NOT_A_LEAD,
            reason="" if i < 6 else "no_budget",
        )
        for i, lead in enumerate(judged.order_by("id"))
    )
    backtest(workshop, version=published)
    review = VersionReview.objects.get(version=published)
    assert review.decided == 12
    assert review.observed["verdicts"] == {"tp": 6, "fp": 6, "fn": 0, "tn": 0}
    # Their outcome is known too (not converted): 12 decided leads, not 24.
    assert review.observed["outcomes"] == {"tp": 0, "fp": 12, "fn": 0, "tn": 0}


def test_the_housekeeping_sweep_counts_a_review_once_its_inputs_change(
    drifted: Version, workshop: Workshop
) -> None:
    before = VersionReview.objects.get(version=drifted).computed_at
    assert review_services.reviews_refresh() == 0  # nothing changed since the last count
    assert VersionReview.objects.get(version=drifted).computed_at == before
    VersionReview.objects.filter(version=drifted).update(observed={}, computed_at=None)
    assert review_services.reviews_refresh() == 1
    assert VersionReview.objects.get(version=drifted).decided == 100


def test_the_review_setting_refuses_a_number_below_ten_at_the_field(
    workshop: Workshop, admin: Any
) -> None:
    response = logged_in(admin).post(
        f"/w/{workshop.slug}/policy/",
        {
            "section": "evaluation",
            "evaluation-handoff_stage": "mql",
            "evaluation-decision_days": "14",
            "evaluation-review_min_leads": "3",
        },
    )
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 10." in response.content.decode()
    workshop.refresh_from_db()
    assert workshop.review_min_leads == 200


def test_an_admin_sets_how_many_decided_leads_make_a_review(workshop: Workshop, admin: Any) -> None:
    response = logged_in(admin).post(
        f"/w/{workshop.slug}/policy/",
        {
            "section": "evaluation",
            "evaluation-handoff_stage": "sql",
            "evaluation-decision_days": "14",
            "evaluation-review_min_leads": "75",
        },
    )
    assert response.status_code == 302
    workshop.refresh_from_db()
    assert (workshop.review_min_leads, workshop.handoff_stage) == (75, "sql")


def test_a_moved_handoff_stage_compares_the_promise_at_the_same_stage(
    drifted: Version, workshop: Workshop, admin: Any
) -> None:
    workshop_services.workshop_evaluation_update(
        actor=admin, workshop=workshop, handoff_stage="sql", decision_days=workshop.decision_days
    )
    assert review_services.reviews_refresh() == 1
    review = review_for(drifted, workshop)
    assert review.row.observed["handoff"] == "sql"
    outcomes = next(c for c in review.comparisons if c.truth == "outcomes")
    assert outcomes.promised is not None and outcomes.observed is not None
    # Nobody reaches SQL (at 100 points) before or after: compared at SQL on both sides.
    assert outcomes.promised.confusion == metrics.Confusion(tp=0, fp=0, fn=100, tn=100)
    assert outcomes.observed.confusion == metrics.Confusion(tp=0, fp=0, fn=50, tn=50)


def test_a_ready_review_is_announced_once_to_webhooks_and_chat_as_review_ready(
    drifted: Version, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    from definitions.core import events

    heard: list[tuple[str, dict[str, Any]]] = []

    def hear(sender: str, *, workshop_id: int, data: dict[str, Any], **_: Any) -> None:
        heard.append((sender, data))

    events.domain_event.connect(hear, weak=False, dispatch_uid="test_review_ready")
    try:
        VersionReview.objects.filter(version=drifted).update(notified_at=None)
        with django_capture_on_commit_callbacks(execute=True):
            review_services.review_compute(drifted)
        with django_capture_on_commit_callbacks(execute=True):
            review_services.review_compute(drifted)
    finally:
        events.domain_event.disconnect(dispatch_uid="test_review_ready")
    ready = [data for name, data in heard if name == events.REVIEW_READY]
    assert len(ready) == 1
    assert ready[0]["version"] == drifted.number and ready[0]["drift"] is True
    assert ready[0]["decided"] == 100
    assert ready[0]["observed_f1"] == pytest.approx(0.30)
    assert ready[0]["url"].endswith(f"/versions/{drifted.number}/record/#review")
