"""Verdict tallies: what the accuracy pages (and the triage queue's pager) read instead
of recounting every verdict equals recounting every verdict, after any sequence of
verdicts, changes and undos by several reps, in every done run, for a run that finishes
after the verdicts, and when reps judge the same leads at the same moment."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import ProtectedError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.models import HandoffStage, Workshop
from definitions.roles import Department, Role
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import (
    EvaluationRun,
    Lead,
    LeadFeedback,
    LeadResult,
    Reason,
    RunState,
    VerdictTally,
)
from feedback.verdicts import selectors as verdict_selectors
from feedback.verdicts import services as verdict_services
from feedback.verdicts import tallies
from tests.factories import UserFactory, WorkshopFactory, add_member

pytestmark = pytest.mark.django_db


def _done(run: EvaluationRun) -> EvaluationRun:
    done = backtest_services.backtest_run_inline(run)
    assert done.state == RunState.DONE
    return done


@pytest.fixture
def runs(admin: Any, workshop: Workshop) -> list[EvaluationRun]:
    """The worked example published and backtested, and a stricter draft backtested:
    two done runs that judge the same leads differently."""
    leads_insert_generated(workshop=workshop, leads=generate(120, seed=4))
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    published = _done(
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, version=version, enqueue=False
        )
    )
    draft = authoring_services.proposal_create(actor=admin, workshop=workshop, title="Stricter")
    return [published, _stricter_run(admin, workshop, draft)]


def _stricter_run(admin: Any, workshop: Workshop, draft: Any) -> EvaluationRun:
    # Only the first way in (the lead's format) qualifies: fewer leads, other matches.
    qualify = draft.document["qualify"]
    draft.document = {**draft.document, "qualify": {**qualify, "any": qualify["any"][:1]}}
    draft.save(update_fields=["document"])
    return _done(
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, proposal=draft, enqueue=False
        )
    )


def _assert_tallies_equal_a_recount(runs: list[EvaluationRun]) -> None:
    for run in runs:
        tallied = {
            (run.pk, *row[:5]): row[5] for row in verdict_selectors.tallied_verdict_rows(run)
        }
        recounted = tallies.expand(run.pk, verdict_selectors.counted_verdict_groups(run))
        assert tallied == +recounted, f"run {run.pk}"
        # The queue's length, told by the tallies, is the queue counted, whichever stage
        # the workshop hands leads to sales at.
        workshop = Workshop.objects.get(pk=run.workshop_id)
        for handoff in HandoffStage.values:
            workshop.handoff_stage = handoff
            queue = verdict_selectors.feedback_queue(workshop, run, rep=None, show="unreviewed")
            assert verdict_selectors.unreviewed_count(run, workshop) == queue.count(), (
                f"run {run.pk} at {handoff}"
            )


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["good", "not_lead", "missed", "undo"]),
        st.integers(0, 2),  # which rep
        st.integers(0, 6),  # which lead
        st.sampled_from(Reason.values),
    ),
    min_size=1,
    max_size=15,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_after_any_verdicts_changes_and_undos_the_tallies_equal_a_recount(
    rep: Any, workshop: Workshop, runs: list[EvaluationRun], actions: list[Any]
) -> None:
    # The examples share the database: each starts from where the last one ended,
    # which only makes the histories longer.
    reps = [rep] + [
        add_member(
            workshop, UserFactory(username=f"tally-rep{n}"), Role.SALES_REP, Department.SALES
        )
        if not workshop.memberships.filter(user__username=f"tally-rep{n}").exists()
        else workshop.memberships.get(user__username=f"tally-rep{n}").user
        for n in (1, 2)
    ]
    qualified = set(LeadResult.objects.filter(run=runs[0], qualified=True).values_list("lead_id"))
    ids = sorted(Lead.objects.filter(workshop=workshop).values_list("pk", flat=True))
    # Qualified leads and others (the two runs disagree on some of them).
    leads = [ids[0], *[i for i in ids if (i,) in qualified][:3], *ids[-3:]]
    for verdict, who, which, reason in actions:
        actor = reps[who]
        if verdict == "undo":
            verdict_services.verdict_undo(actor=actor, workshop=workshop)
        else:
            lead = Lead.objects.get(pk=leads[which])
            # "Missed" on a qualified lead is refused, and then nothing may move.
            with contextlib.suppress(ValidationError):
                verdict_services.verdict_record(
                    actor=actor,
                    lead=lead,
                    verdict=verdict,
                    reason=reason if verdict == "not_lead" else "",
                )
        _assert_tallies_equal_a_recount(runs)


def test_a_lead_newer_than_the_runs_is_in_none_of_their_tallies(
    rep: Any, workshop: Workshop, runs: list[EvaluationRun]
) -> None:
    lead = Lead.objects.create(workshop=workshop, external_id="after-the-runs", name="Newer")
    verdict_services.verdict_record(actor=rep, lead=lead, verdict="good")
    assert not VerdictTally.objects.filter(n__gt=0).exists()
    _assert_tallies_equal_a_recount(runs)


def test_a_run_that_finishes_after_the_verdicts_counts_them_once(
    admin: Any, rep: Any, workshop: Workshop, runs: list[EvaluationRun]
) -> None:
    judged = LeadResult.objects.filter(run=runs[0]).values_list("lead_id", flat=True)[:8]
    for n, lead in enumerate(Lead.objects.filter(pk__in=list(judged))):
        if n % 2:
            verdict_services.verdict_record(
                actor=rep, lead=lead, verdict="not_lead", reason="student"
            )
        else:
            try:
                verdict_services.verdict_record(actor=rep, lead=lead, verdict="missed")
            except ValidationError:
                verdict_services.verdict_record(actor=rep, lead=lead, verdict="good")

    another = authoring_services.proposal_create(actor=admin, workshop=workshop, title="Later")
    later = _stricter_run(admin, workshop, another)

    rows = verdict_selectors.tallied_verdict_rows(later)
    assert sum(n for criterion, *_group, n in rows if not criterion) == 8
    _assert_tallies_equal_a_recount([*runs, later])


def test_recounting_a_workshop_repairs_tallies_written_around_the_services(
    rep: Any, workshop: Workshop, runs: list[EvaluationRun]
) -> None:
    lead = Lead.objects.get(pk=LeadResult.objects.filter(run=runs[0]).values("lead_id")[:1])
    verdict_services.verdict_record(actor=rep, lead=lead, verdict="good")
    VerdictTally.objects.update(n=99)

    assert tallies.tally_workshop(workshop.pk) == 2
    _assert_tallies_equal_a_recount(runs)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_reps_judging_the_same_leads_at_the_same_moment_leave_tallies_equal_to_a_recount() -> None:
    assert connection.vendor == "postgresql"
    admin: Any = UserFactory(username="race-admin")
    workshop: Any = WorkshopFactory(actor=admin, name="Race", slug="race")
    leads_insert_generated(workshop=workshop, leads=generate(60, seed=5))
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    published = _done(
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, version=version, enqueue=False
        )
    )
    reps = [
        add_member(workshop, UserFactory(username=f"race-rep{n}"), Role.SALES_REP, Department.SALES)
        for n in range(4)
    ]
    leads = list(Lead.objects.filter(workshop=workshop).order_by("pk")[:5])
    barrier = threading.Barrier(len(reps))
    errors: list[BaseException] = []

    def triage(n: int, rep: Any) -> None:
        try:
            barrier.wait(timeout=10)
            for round_ in range(3):
                for lead in leads[n % 2 :: 1 + round_ % 2]:
                    verdict = "good" if (n + round_) % 2 else "not_lead"
                    verdict_services.verdict_record(
                        actor=rep,
                        lead=lead,
                        verdict=verdict,
                        reason="student" if verdict == "not_lead" else "",
                    )
                verdict_services.verdict_undo(actor=rep, workshop=workshop)
        except BaseException as error:  # re-raised in the test's own thread below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=triage, args=(n, r)) for n, r in enumerate(reps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert LeadFeedback.objects.filter(workshop=workshop).count() > len(leads)
    _assert_tallies_equal_a_recount([published])


def test_a_rep_who_gave_verdicts_cannot_be_deleted_out_from_under_the_tallies(
    rep: Any, runs: list[EvaluationRun]
) -> None:
    lead = Lead.objects.get(pk=LeadResult.objects.filter(run=runs[0]).values("lead_id")[:1])
    verdict_services.verdict_record(actor=rep, lead=lead, verdict="good")

    with pytest.raises(ProtectedError):
        rep.delete()

    assert LeadFeedback.objects.filter(rep=rep).count() == 1
    _assert_tallies_equal_a_recount(runs)
