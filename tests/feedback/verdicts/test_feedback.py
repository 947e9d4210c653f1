"""Sales feedback: verdicts with history and undo, missed leads, fresh BANT data, the
triage queue, and accuracy counted by the database equal to counting by hand."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.catalog import services as catalog_services
from definitions.catalog.selectors import catalog_for
from definitions.models import Version, Workshop
from definitions.roles import Department, Role
from definitions.versions import services as version_services
from feedback.accuracy import metrics
from feedback.accuracy import selectors as accuracy_selectors
from feedback.backtests import services as backtest_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import (
    EvaluationRun,
    Lead,
    LeadActivity,
    LeadFeedback,
    LeadResult,
    RunState,
)
from feedback.verdicts import services as verdict_services
from tests.factories import UserFactory, add_member, logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(admin: Any, workshop: Workshop) -> EvaluationRun:
    leads_insert_generated(workshop=workshop, leads=generate(200, seed=9))
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    done = backtest_services.backtest_run_inline(
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, version=version, enqueue=False
        )
    )
    assert done.state == RunState.DONE
    return done


def _qualified(run: EvaluationRun, yes: bool = True) -> list[Lead]:
    ids = LeadResult.objects.filter(run=run, qualified=yes).values("lead_id")
    return list(Lead.objects.filter(pk__in=ids).order_by("-id"))


def test_a_verdict_records_what_the_definition_said_at_that_moment(
    rep: Any, run: EvaluationRun
) -> None:
    lead = _qualified(run)[0]
    result = LeadResult.objects.get(run=run, lead=lead)
    verdict = verdict_services.verdict_record(
        actor=rep, lead=lead, verdict="good", note=" Called, real. "
    )
    assert (verdict.version, verdict.qualified, verdict.stage, verdict.score, verdict.note) == (
        run.version,
        True,
        result.stage,
        result.score,
        "Called, real.",
    )


def test_changing_a_verdict_keeps_the_history_and_undo_brings_the_old_one_back(
    rep: Any, run: EvaluationRun
) -> None:
    lead = _qualified(run)[0]
    first = verdict_services.verdict_record(actor=rep, lead=lead, verdict="good")
    second = verdict_services.verdict_record(
        actor=rep, lead=lead, verdict="not_lead", reason="student"
    )
    first.refresh_from_db()
    assert first.superseded_at is not None and second.replaces == first
    assert LeadFeedback.objects.filter(lead=lead).count() == 2

    undone = verdict_services.verdict_undo(actor=rep, workshop=lead.workshop)
    assert undone is not None and (undone.lead_id, undone.verdict) == (lead.pk, "not_lead")
    assert not LeadFeedback.objects.filter(pk=second.pk).exists()
    first.refresh_from_db()
    assert first.superseded_at is None
    assert LeadFeedback.objects.filter(lead=lead, superseded_at__isnull=True).get() == first
    assert verdict_services.verdict_undo(actor=rep, workshop=lead.workshop) is not None
    assert verdict_services.verdict_undo(actor=rep, workshop=lead.workshop) is None  # nothing left


@pytest.mark.parametrize(
    ("verdict", "reason", "note", "field"),
    [
        ("not_lead", "", "", "reason"),
        ("not_lead", "martian", "", "reason"),
        ("good", "student", "", "reason"),
        ("maybe", "", "", "verdict"),
        ("good", "", "x" * 2001, "note"),
    ],
)
def test_bad_verdicts_are_refused_at_the_field_that_is_wrong(
    rep: Any, run: EvaluationRun, verdict: str, reason: str, note: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        verdict_services.verdict_record(
            actor=rep, lead=_qualified(run)[0], verdict=verdict, reason=reason, note=note
        )
    assert field in caught.value.message_dict
    assert not LeadFeedback.objects.exists()


def test_only_a_rejected_lead_can_be_flagged_as_missed(rep: Any, run: EvaluationRun) -> None:
    with pytest.raises(ValidationError, match="qualified this lead"):
        verdict_services.verdict_record(actor=rep, lead=_qualified(run)[0], verdict="missed")
    rejected = _qualified(run, yes=False)[0]
    flagged = verdict_services.verdict_record(
        actor=rep, lead=rejected, verdict="missed", note="Bought later"
    )
    assert flagged.qualified is False
    page = logged_in(rep).get(reverse("feedback:lead_detail", args=["acme", rejected.pk]))
    assert "Bought later" in page.content.decode()


def test_a_rep_updates_bant_and_the_backtests_become_stale(
    rep: Any, run: EvaluationRun, workshop: Workshop
) -> None:
    lead = _qualified(run)[0]
    client = logged_in(rep)
    url = reverse("feedback:lead_bant", args=["acme", lead.pk])
    response = client.post(
        url,
        {"budget": "confirmed", "authority": "decision_maker", "need": "", "timeline_days": "45"},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.budget, lead.authority, lead.need, lead.timeline_days) == (
        "confirmed",
        "decision_maker",
        None,
        45.0,
    )
    workshop.refresh_from_db()
    assert backtest_services.is_stale(run, workshop)
    bad = client.post(
        url, {"budget": "<script>", "timeline_days": "-3"}, headers={"HX-Request": "true"}
    )
    assert bad.status_code == 400
    assert 'role="alert"' in bad.content.decode()
    lead.refresh_from_db()
    assert lead.budget == "confirmed"


def test_the_queue_shows_unreviewed_qualified_leads_and_a_verdict_swaps_the_card(
    rep: Any, run: EvaluationRun
) -> None:
    client = logged_in(rep)
    page = client.get(reverse("feedback:feedback_queue", args=["acme"])).content.decode()
    qualified = _qualified(run)
    assert f'id="card-{qualified[0].pk}"' in page
    assert "Qualified because:" in page
    card = client.post(
        reverse("feedback:verdict_record", args=["acme", qualified[0].pk]),
        {"verdict": "not_lead", "reason": "competitor"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert card.startswith("\n<article") or card.lstrip().startswith("<article")
    assert "Not a lead: Competitor" in card
    after = client.get(reverse("feedback:feedback_queue", args=["acme"])).content.decode()
    assert f'id="card-{qualified[0].pk}"' not in after  # reviewed: out of "not yet reviewed"
    mine = client.get(reverse("feedback:feedback_queue", args=["acme"]) + "?show=mine")
    assert f'id="card-{qualified[0].pk}"' in mine.content.decode()


def test_a_rep_cannot_touch_another_workshops_lead_or_anothers_verdict(
    rep: Any, outsider: Any, run: EvaluationRun
) -> None:
    lead = _qualified(run)[0]
    verdict_services.verdict_record(actor=rep, lead=lead, verdict="good")
    response = logged_in(outsider).post(
        reverse("feedback:verdict_record", args=["acme", lead.pk]), {"verdict": "not_lead"}
    )
    assert response.status_code == 404
    other = Workshop.objects.get(slug="other")
    assert verdict_services.verdict_undo(actor=outsider, workshop=other) is None
    assert LeadFeedback.objects.get().verdict == "good"


def _by_hand(
    run: EvaluationRun, cut: str = "qualified"
) -> tuple[metrics.Confusion, metrics.Confusion]:
    """Both confusions with the leads that reach ``cut`` taken as handed to sales."""
    out = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    reps = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    verdicts = {
        f.lead_id: f.verdict for f in LeadFeedback.objects.filter(superseded_at__isnull=True)
    }
    for result in LeadResult.objects.filter(run=run).select_related("lead"):
        lead = result.lead
        handed = {
            "qualified": result.stage in ("lead", "mql", "sql"),
            "mql": result.stage in ("mql", "sql"),
            "sql": result.stage == "sql",
        }[cut]
        if lead.converted is not None or lead.reached_stage is not None:
            good = lead.converted is True or lead.reached_stage in ("opportunity", "customer")
            out[("t" if good == handed else "f") + ("p" if handed else "n")] += 1
        if result.lead_id in verdicts:
            good = verdicts[result.lead_id] in ("good", "missed")
            reps[("t" if good == handed else "f") + ("p" if handed else "n")] += 1
    return metrics.Confusion(**out), metrics.Confusion(**reps)


def test_accuracy_counted_in_sql_equals_counting_by_hand(rep: Any, run: EvaluationRun) -> None:
    for lead in _qualified(run)[:12]:
        verdict_services.verdict_record(actor=rep, lead=lead, verdict="good")
    for lead in _qualified(run)[12:20]:
        verdict_services.verdict_record(actor=rep, lead=lead, verdict="not_lead", reason="student")
    verdict_services.verdict_record(actor=rep, lead=_qualified(run, yes=False)[0], verdict="missed")
    result = accuracy_selectors.accuracy_of(run, catalog_for(run.workshop), gettext)
    # The headline is measured at the workshop's handoff stage (MQL unless changed).
    assert run.workshop.handoff_stage == result.handoff == "mql"
    assert (result.outcomes, result.verdicts) == _by_hand(run, "mql")
    # Every cut is what counting by hand says of it.
    for cut in ("qualified", "mql", "sql"):
        assert (result.cuts[cut].outcomes, result.cuts[cut].verdicts) == _by_hand(run, cut), cut
    outcomes, verdicts = _by_hand(run, "qualified")
    assert verdicts == metrics.Confusion(tp=12, fp=8, fn=1, tn=0)
    # Reviewed among the leads handed over: the MQL and SQL ones of the twenty judged.
    handed = LeadResult.objects.filter(
        run=run,
        lead__in=[lead.pk for lead in _qualified(run)[:20]],
        stage__in=["mql", "sql"],
    ).count()
    assert result.coverage.successes == handed
    assert sum(band.conversion.n for band in result.bands) == outcomes.n
    student = {c.id: c for c in result.criteria}
    assert sum(c.rejected.n for c in student.values()) > 0
    assert any(reason == "student" for c in result.criteria for reason, _n in c.reasons)

    out = StringIO()
    call_command("accuracy", "--workshop", "acme", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["handoff"] == "mql"
    assert summary["outcomes"] == result.outcomes.as_dict()
    assert summary["verdicts"] == result.verdicts.as_dict()
    assert summary["cuts"]["qualified"]["outcomes"] == outcomes.as_dict()
    assert summary["cuts"]["qualified"]["verdicts"]["tp"] == 12
    assert summary["cuts"]["qualified"]["verdicts"]["n"] == 21
    assert summary["cuts"]["sql"]["verdicts"] == _by_hand(run, "sql")[1].as_dict()


def test_when_reps_disagree_the_newest_verdict_counts_once_per_lead(
    rep: Any, workshop: Workshop, run: EvaluationRun
) -> None:
    other = add_member(workshop, UserFactory(username="rep2"), Role.SALES_REP, Department.SALES)
    first, second, third = _qualified(run)[:3]
    verdict_services.verdict_record(actor=rep, lead=first, verdict="good")
    verdict_services.verdict_record(actor=other, lead=first, verdict="not_lead", reason="student")
    verdict_services.verdict_record(actor=other, lead=second, verdict="good")
    verdict_services.verdict_record(actor=rep, lead=second, verdict="not_lead", reason="no_budget")
    verdict_services.verdict_record(actor=rep, lead=third, verdict="not_lead", reason="student")

    counts = accuracy_selectors.verdict_counts(run)

    assert counts["confusion"] == {"tp": 0, "fp": 3, "fn": 0, "tn": 0}
    assert counts["reviewed"]["qualified"] == 3
    # Per criterion, by hand: each lead's newest verdict against the criteria it matched.
    newest = {first.pk: "student", second.pk: "no_budget", third.pk: "student"}
    expected: dict[str, Counter[str]] = {}
    for result in LeadResult.objects.filter(run=run, lead_id__in=newest):
        for cid in filter(None, result.matched.split(",")):
            if cid in (run.criterion_counts or {}):
                expected.setdefault(cid, Counter())[newest[result.lead_id]] += 1
    assert expected  # the qualified leads matched some criteria
    assert {cid: entry["reasons"] for cid, entry in counts["criteria"].items()} == expected
    assert all(
        e["n"] == e["rejected"] == sum(e["reasons"].values()) for e in counts["criteria"].values()
    )


def test_the_accuracy_page_shows_versions_side_by_side_and_says_when_data_is_thin(
    admin: Any, rep: Any, run: EvaluationRun
) -> None:
    verdict_services.verdict_record(actor=rep, lead=_qualified(run)[0], verdict="good")
    page = logged_in(admin).get(reverse("feedback:accuracy", args=["acme"])).content.decode()
    assert 'id="versions"' in page and "v1" in page
    assert "not enough data (n = 1)" in page  # one verdict proves nothing
    assert 'id="sweep"' in page and "★" in page

    # A backtested draft joins the comparison before its vote.
    draft = authoring_services.proposal_create(
        actor=admin, workshop=run.workshop, title="Stricter <b>"
    )
    backtest_services.backtest_run_inline(
        backtest_services.backtest_start(
            actor=admin, workshop=run.workshop, proposal=draft, enqueue=False
        )
    )
    page = logged_in(admin).get(reverse("feedback:accuracy", args=["acme"])).content.decode()
    assert 'class="draft-row"' in page and "Stricter &lt;b&gt;" in page


def test_empty_workshops_show_what_is_missing_instead_of_numbers(
    admin: Any, rep: Any, workshop: Workshop
) -> None:
    assert (
        "No version has a finished backtest"
        in logged_in(admin).get(reverse("feedback:accuracy", args=["acme"])).content.decode()
    )
    assert (
        "No version is published yet"
        in logged_in(rep).get(reverse("feedback:feedback_queue", args=["acme"])).content.decode()
    )
    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    assert (
        "has no finished backtest yet"
        in logged_in(rep).get(reverse("feedback:feedback_queue", args=["acme"])).content.decode()
    )


def test_accuracy_needs_a_finished_backtest_on_the_command_line(
    workshop: Workshop, admin: Any
) -> None:
    from django.core.management.base import CommandError

    version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    with pytest.raises(CommandError, match="no finished backtest"):
        call_command("accuracy", "--workshop", "acme")
    assert Version.objects.count() == 1
    assert Client().get(reverse("feedback:accuracy", args=["acme"])).status_code == 302


def test_verdicts_and_results_export_as_csv_with_formulas_defused(
    admin: Any, rep: Any, run: EvaluationRun
) -> None:
    lead = _qualified(run)[0]
    verdict_services.verdict_record(actor=rep, lead=lead, verdict="good", note="=HYPERLINK(1)")
    client = logged_in(admin)
    verdicts = b"".join(
        client.get(reverse("feedback:verdicts_csv", args=["acme"])).streaming_content
    )
    lines = verdicts.decode().splitlines()
    assert len(lines) == 2 and "'=HYPERLINK(1)" in lines[1]
    response = client.get(reverse("feedback:run_results_csv", args=["acme", run.pk]))
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert len(rows) == 1 + run.leads_total
    assert response["Content-Disposition"].endswith(f'backtest-{run.pk}.csv"')
    printed = client.get(reverse("feedback:accuracy_print", args=["acme"])).content.decode()
    assert "Accuracy report" in printed and "Version v1" in printed


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        ("industry", {"g-characteristics": 3}),  # one of four "all" conditions
        ("pp5", {"g-actions": 1}),
        ("format-source", None),  # the only child of its group: cannot go
    ],
)
def test_dropping_a_criterion_keeps_every_group_valid(
    criterion: str, expected: dict[str, int] | None
) -> None:
    document = rules.to_json(rules.parse(rules.WORKED_EXAMPLE, rules.DEFAULT_CATALOG).definition)  # type: ignore[arg-type]
    changed = rules.edit.without_criterion(document, criterion)
    if expected is None:
        assert changed is None
        return
    assert changed is not None
    assert rules.parse(changed, rules.DEFAULT_CATALOG).definition is not None
    groups = {g["id"]: g for g in changed["qualify"]["any"]}
    for group_id, size in expected.items():
        group = groups[group_id]
        assert len(group.get("all") or group.get("any")) == size


def test_a_finished_run_is_counted_against_outcomes_once_and_the_dashboard_reads_it(
    admin: Any, run: EvaluationRun
) -> None:
    run.refresh_from_db()
    assert run.outcome_stats["confusion"] == accuracy_selectors.count_outcomes(run)["confusion"]
    page = logged_in(admin).get(reverse("definitions:workshop_home", args=["acme"]))
    assert 'id="dashboard-accuracy"' in page.content.decode()


def test_a_finished_run_settled_before_the_cuts_is_counted_once_and_keeps_the_count(
    admin: Any, run: EvaluationRun, django_assert_max_num_queries: Any
) -> None:
    counted = accuracy_selectors.count_outcomes(run)
    old = {key: value for key, value in counted.items() if key != "cuts"}
    EvaluationRun.objects.filter(pk=run.pk).update(outcome_stats=old)
    url = reverse("feedback:accuracy", args=["acme"])
    client = logged_in(admin)
    assert client.get(url).status_code == 200
    run.refresh_from_db()
    assert run.outcome_stats == json.loads(json.dumps(counted))
    # The next view reads the stored count: no query over the run's results.
    with django_assert_max_num_queries(30) as captured:
        assert client.get(url).status_code == 200
    assert not [q for q in captured.captured_queries if "feedback_leadresult" in q["sql"]]


def test_a_workshops_own_activity_kind_reads_by_its_admins_label_wherever_it_shows(
    admin: Any, rep: Any, run: EvaluationRun, workshop: Workshop
) -> None:
    catalog_services.activity_kind_add(
        actor=admin, workshop=workshop, key="booth_visit", label="Visit to our fair booth"
    )
    lead = _qualified(run)[0]
    now = timezone.now()
    LeadActivity.objects.create(lead=lead, kind="booth_visit", at=now - timedelta(minutes=5))
    LeadActivity.objects.create(lead=lead, kind="demo_request", at=now - timedelta(minutes=9))
    client = logged_in(rep)
    for code, built_in in (("en", "Demo request"), ("it", "Richiesta di demo")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = code
        detail = client.get(reverse("feedback:lead_detail", args=["acme", lead.pk]))
        timeline = detail.content.decode().split('class="timeline"')[1].split("</ul>")[0]
        queue = client.get(reverse("feedback:feedback_queue", args=["acme"])).content.decode()
        card = queue.split(f'id="card-{lead.pk}"')[1].split("</article>")[0]
        for shown in (timeline, card):
            assert "Visit to our fair booth" in shown  # as its admin typed it, any language
            assert built_in in shown  # a built-in kind in the reader's language
            assert "booth_visit" not in shown and "demo_request" not in shown
    # The log and a criterion that mentions the kind name it the same way.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    history = logged_in(admin).get(reverse("definitions:workshop_history", args=["acme"]))
    assert "added the activity kind “Visit to our fair booth”" in history.content.decode()
    criterion = rules.ActivityCriterion(
        id="booth",
        category=rules.Category.BEHAVIOURAL,
        kind="booth_visit",
        min_count=2,
        window=rules.Window.EVER,
    )
    sentence = rules.render_criterion(criterion, catalog_for(workshop))
    assert sentence == "At least 2 “Visit to our fair booth” events ever"
