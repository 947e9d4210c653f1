"""Decision moments and the handoff stage.

A backtest judges each historical lead as of its creation plus the workshop's decision
days (never later than the run's moment): activities after that do not count, and
relative windows count back from it. The measures (accuracy, the reps' queue, the run
comparison) cut at the workshop's handoff stage. Every backtest here runs the SQL
statement and is held against the reference evaluator given the same moment.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.catalog import services as catalog_services
from definitions.catalog.selectors import catalog_for
from definitions.models import AuditLogEntry, Workshop
from definitions.versions import services as version_services
from definitions.workshops import services as workshop_services
from feedback.backtests import selectors as backtest_selectors
from feedback.backtests import services as backtest_services
from feedback.backtests.sql import compile_range
from feedback.models import EvaluationRun, Lead, LeadActivity, LeadResult, RunState
from feedback.verdicts import selectors as verdict_selectors
from tests.factories import logged_in

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)

# Qualified by a demo request ever, or a product page in the last 7 days, or a creation
# within the last 30 days; junk nothing. MQL at 10 points, SQL at 30.
DOCUMENT: dict[str, Any] = {
    "schema_version": 1,
    "qualify": {
        "id": "g",
        "any": [
            {
                "id": "demo",
                "category": "behavioural",
                "activity": "demo_request",
                "min_count": 1,
                "window": "ever",
                "points": 10,
            },
            {
                "id": "pages7",
                "category": "behavioural",
                "activity": "product_page_view",
                "min_count": 1,
                "window": "last_days",
                "days": 7,
                "points": 20,
            },
            {
                "id": "new30",
                "category": "behavioural",
                "field": "created_at",
                "op": "within_last_days",
                "value": 30,
                "points": 1,
            },
        ],
    },
    "stages": {"mql": 10, "sql": 30},
}


def _lead(workshop: Workshop, name: str, created: datetime | None, **acts: list[datetime]) -> Lead:
    lead = Lead.objects.create(workshop=workshop, external_id=name, name=name, created_at=created)
    LeadActivity.objects.bulk_create(
        [LeadActivity(lead=lead, kind=kind, at=at) for kind, times in acts.items() for at in times]
    )
    return lead


def _backtest(admin: Any, workshop: Workshop, document: dict[str, Any] = DOCUMENT) -> EvaluationRun:
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=document, parent=None
    )
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=version, enqueue=False, reuse=False
    )
    run = backtest_services.backtest_run_inline(run)
    assert run.state == RunState.DONE, run.message
    return run


def _results(run: EvaluationRun) -> dict[str, LeadResult]:
    """Each lead's stored result by name, after checking it is the evaluator's."""
    catalog = catalog_for(run.workshop, translated=False)
    definition = rules.parse(run.document, catalog).definition
    assert definition is not None
    out = {}
    for result in LeadResult.objects.filter(run=run).select_related("lead"):
        moment = backtest_selectors.lead_moment(run, result.lead)
        said = rules.evaluate(
            definition, backtest_selectors.lead_data(result.lead, catalog), as_of=moment
        )
        assert (result.stage, set(result.matched_ids)) == (str(said.stage), set(said.matched))
        out[result.lead.name] = result
    return out


def test_an_activity_after_the_decision_moment_never_counts(admin: Any, workshop: Workshop) -> None:
    created = timezone.now() - 400 * DAY
    moment = created + 14 * DAY
    _lead(workshop, "before", created, demo_request=[moment - timedelta(microseconds=1)])
    _lead(workshop, "on", created, demo_request=[moment])
    _lead(workshop, "after", created, demo_request=[moment + timedelta(microseconds=1)])
    _lead(workshop, "much later", created, demo_request=[created + 100 * DAY])

    run = _backtest(admin, workshop)

    assert run.decision_days == workshop.decision_days == 14
    results = _results(run)
    assert {name: "demo" in r.matched_ids for name, r in results.items()} == {
        "before": True,
        "on": True,
        "after": False,
        "much later": False,
    }


def test_a_relative_window_is_measured_back_from_the_decision_moment_not_from_now(
    admin: Any, workshop: Workshop
) -> None:
    created = timezone.now() - 400 * DAY
    moment = created + 14 * DAY
    # A product page 6 days before the lead was judged: "in the last 7 days" then,
    # more than a year ago now.
    _lead(workshop, "then", created, product_page_view=[moment - 6 * DAY])
    _lead(workshop, "too early", created, product_page_view=[moment - 7 * DAY])
    # A page viewed yesterday, long after the decision: not seen at all.
    _lead(workshop, "yesterday", created, product_page_view=[timezone.now() - DAY])

    run = _backtest(admin, workshop)

    results = _results(run)
    assert {name: "pages7" in r.matched_ids for name, r in results.items()} == {
        "then": True,
        "too early": False,
        "yesterday": False,
    }
    # Created 14 days before its moment: "created within the last 30 days" held then.
    assert all("new30" in r.matched_ids for r in results.values())


def test_a_lead_too_new_or_of_unknown_creation_is_judged_at_the_runs_moment(
    admin: Any, workshop: Workshop
) -> None:
    now = timezone.now()
    _lead(workshop, "new", now - 3 * DAY, product_page_view=[now - 2 * DAY])
    _lead(workshop, "unknown", None, product_page_view=[now - 2 * DAY])
    _lead(workshop, "future", datetime(9999, 12, 31, 23, 59, tzinfo=UTC))

    run = _backtest(admin, workshop)

    for result in _results(run).values():
        assert backtest_selectors.lead_moment(run, result.lead) == run.as_of
    results = _results(run)
    assert "pages7" in results["new"].matched_ids and "pages7" in results["unknown"].matched_ids


def test_creation_at_the_edges_of_the_calendar_agrees_with_the_evaluator(
    workshop: Workshop,
) -> None:
    """Year 1 with no decision days (a window reaching back before the calendar) and
    year 9999 (creation plus the window past it): SQL and the evaluator agree."""
    definition = rules.parse(DOCUMENT, rules.DEFAULT_CATALOG).definition
    assert definition is not None
    year_one = datetime(1, 1, 1, tzinfo=UTC)
    leads = [
        _lead(workshop, "year one", year_one, product_page_view=[year_one], demo_request=[]),
        _lead(
            workshop,
            "year one, later",
            year_one + DAY,
            product_page_view=[year_one, year_one + 5 * DAY],
        ),
        _lead(workshop, "year 9999", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ]
    as_of = datetime(2025, 6, 15, 12, tzinfo=UTC)
    for days in (0, 1, 365):
        statement = compile_range(
            definition,
            rules.DEFAULT_CATALOG,
            workshop_id=workshop.pk,
            as_of=as_of,
            low=0,
            high=2**62,
            decision_days=days,
        )
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.params)
            got = {row[0]: (row[4], row[5]) for row in cursor.fetchall()}
        for lead in leads:
            data = backtest_selectors.lead_data(lead, rules.DEFAULT_CATALOG)
            moment = rules.decision_moment(lead.created_at, days, as_of)
            said = rules.evaluate(definition, data, as_of=moment)
            stage, matched = got[lead.pk]
            assert (stage, set(filter(None, matched.split(",")))) == (
                str(said.stage),
                set(said.matched),
            ), (lead.name, days)


def test_a_changed_decision_window_makes_earlier_runs_stale_and_is_logged(
    admin: Any, workshop: Workshop
) -> None:
    _lead(workshop, "a", timezone.now() - 90 * DAY)
    run = _backtest(admin, workshop)
    assert not backtest_services.is_stale(run, workshop)

    workshop_services.workshop_evaluation_update(
        actor=admin, workshop=workshop, handoff_stage="mql", decision_days=30
    )
    workshop.refresh_from_db()
    assert backtest_services.is_stale(run, workshop)
    entry = AuditLogEntry.objects.get(action="definitions.workshop.evaluation_updated")
    assert entry.data["decision_days"] == 30 and entry.data["previous_decision_days"] == 14

    # A fresh backtest uses the new window and is not stale.
    again = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=run.version, enqueue=False
    )
    assert again.pk != run.pk and again.decision_days == 30


@pytest.mark.parametrize(
    ("handoff", "queued"),
    [("qualified", {"lead", "mql", "sql"}), ("mql", {"mql", "sql"}), ("sql", {"sql"})],
)
def test_the_reps_queue_holds_the_leads_at_or_beyond_the_handoff_stage(
    admin: Any, rep: Any, workshop: Workshop, handoff: str, queued: set[str]
) -> None:
    now = timezone.now()
    _lead(workshop, "lead", now - DAY)  # 1 point: qualified, below MQL
    _lead(workshop, "mql", now - DAY, demo_request=[now - DAY])  # 11 points
    _lead(workshop, "sql", now - DAY, demo_request=[now - DAY], product_page_view=[now])  # 31
    _lead(workshop, "subscriber", None)  # no creation date, no activity: not qualified
    workshop_services.workshop_evaluation_update(
        actor=admin, workshop=workshop, handoff_stage=handoff, decision_days=14
    )
    run = _backtest(admin, workshop)
    assert {r.lead.name: r.stage for r in LeadResult.objects.filter(run=run)} == {
        "lead": "lead",
        "mql": "mql",
        "sql": "sql",
        "subscriber": "subscriber",
    }

    queue = verdict_selectors.feedback_queue(workshop, run, rep=rep, show="unreviewed")
    assert {lead.name for lead in queue} == queued
    assert verdict_selectors.unreviewed_count(run, workshop) == len(queued)
    page = logged_in(rep).get(reverse("feedback:feedback_queue", args=[workshop.slug]))
    assert page.status_code == 200
    body = page.content.decode()
    for name in ("lead", "mql", "sql"):
        # The stage filter offers exactly the stages in the queue.
        assert (f'<option value="{name}"' in body) == (name in queued)


def test_the_accuracy_page_and_dashboard_say_which_stage_they_measure_at(
    admin: Any, workshop: Workshop
) -> None:
    now = timezone.now()
    _lead(workshop, "mql", now - DAY, demo_request=[now - DAY])
    _backtest(admin, workshop)
    client = logged_in(admin)

    page = client.get(reverse("feedback:accuracy", args=[workshop.slug])).content.decode()
    assert "Measured at the handoff stage: MQL." in page
    assert 'id="cut-qualified"' in page and 'id="cut-sql"' in page
    home = client.get(reverse("definitions:workshop_home", args=[workshop.slug]))
    assert "Measured at the handoff stage: MQL." in home.content.decode()

    workshop_services.workshop_evaluation_update(
        actor=admin, workshop=workshop, handoff_stage="sql", decision_days=14
    )
    page = client.get(reverse("feedback:accuracy", args=[workshop.slug])).content.decode()
    assert "Measured at the handoff stage: SQL." in page


# ----------------------------------------------------------------- settings page


def _post_settings(client: Any, workshop: Workshop, **data: str) -> Any:
    return client.post(
        reverse("definitions:policy_edit", args=[workshop.slug]),
        {"section": "evaluation", **{f"evaluation-{k}": v for k, v in data.items()}},
    )


def test_an_admin_sets_the_handoff_stage_and_decision_window_on_the_rules_page(
    admin: Any, workshop: Workshop
) -> None:
    client = logged_in(admin)
    page = client.get(reverse("definitions:policy_edit", args=[workshop.slug]))
    assert 'name="evaluation-decision_days"' in page.content.decode()

    response = _post_settings(client, workshop, handoff_stage="sql", decision_days="0")

    assert response.status_code == 302
    workshop.refresh_from_db()
    assert (workshop.handoff_stage, workshop.decision_days) == ("sql", 0)


@pytest.mark.parametrize(
    "data",
    [
        {"handoff_stage": "junk", "decision_days": "14"},
        {"handoff_stage": "mql", "decision_days": "366"},
        {"handoff_stage": "mql", "decision_days": "-1"},
        {"handoff_stage": "mql", "decision_days": "1e3"},
        {"handoff_stage": "mql", "decision_days": "\x00"},
        {"handoff_stage": "", "decision_days": ""},
    ],
)
def test_bad_settings_are_refused_with_the_form_not_a_500(
    admin: Any, workshop: Workshop, data: dict[str, str]
) -> None:
    response = _post_settings(logged_in(admin), workshop, **data)
    assert response.status_code == 400
    workshop.refresh_from_db()
    assert (workshop.handoff_stage, workshop.decision_days) == ("mql", 14)


def test_a_member_without_the_right_cannot_change_the_settings(
    rep: Any, outsider: Any, workshop: Workshop
) -> None:
    assert _post_settings(logged_in(rep), workshop, handoff_stage="sql").status_code == 403
    data = {"handoff_stage": "sql", "decision_days": "3"}
    assert _post_settings(logged_in(outsider), workshop, **data).status_code == 404
    workshop.refresh_from_db()
    assert workshop.handoff_stage == "mql"


# ------------------------------------------------------- known only after the outcome


def test_a_field_known_only_after_the_outcome_is_marked_and_warned_about(
    admin: Any, workshop: Workshop
) -> None:
    client = logged_in(admin)
    response = client.post(
        reverse("definitions:catalog_field_add", args=[workshop.slug]),
        {
            "field-label": "Loss reason",
            "field-key": "loss_reason",
            "field-type": "text",
            "field-category": "firmographic",
            "field-after_outcome": "on",
        },
    )
    assert response.status_code == 302
    client.post(
        reverse("definitions:catalog_field_add", args=[workshop.slug]),
        {
            "field-label": "Fleet size",
            "field-key": "fleet",
            "field-type": "number",
            "field-category": "firmographic",
        },
    )
    fields = {f.key: f.after_outcome for f in workshop.custom_fields.all()}
    assert fields == {"loss_reason": True, "fleet": False}
    entry = AuditLogEntry.objects.filter(action="definitions.field.added").first()
    assert entry is not None and "after_outcome" in entry.data

    draft = authoring_services.proposal_create(actor=admin, workshop=workshop, title="Peek")
    document = {
        **draft.document,
        "qualify": {
            "id": "g",
            "any": [
                {"id": "loss", "category": "firmographic", "field": "loss_reason", "op": "is_set"},
                {
                    "id": "fleet",
                    "category": "firmographic",
                    "field": "fleet",
                    "op": "gt",
                    "value": 3,
                },
            ],
        },
    }
    draft.document = document
    draft.save(update_fields=["document"])
    page = client.get(
        reverse("definitions:draft_builder", args=[workshop.slug, draft.pk])
    ).content.decode()
    assert 'id="node-loss-after-outcome"' in page
    assert 'id="node-fleet-after-outcome"' not in page
    catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="churned",
        label="Churned",
        type="boolean",
        category="firmographic",
    )
    assert not workshop.custom_fields.get(key="churned").after_outcome
