"""Shadow runs: a proposal classifies every arriving lead next to the published version,
through the API, imports and the generator, without changing what sales sees; the
report, the disagreement queue and the stops."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from definitions.authoring import services as authoring_services
from definitions.deliberation import services as deliberation_services
from definitions.models import Proposal, Version, Workshop
from feedback.backtests import services as backtest_services
from feedback.imports import mapping as import_mapping
from feedback.imports import run as import_run
from feedback.imports import services as import_services
from feedback.leads.generator import generate
from feedback.leads.services import leads_insert_generated
from feedback.models import (
    Lead,
    LeadFeedback,
    LeadResult,
    ShadowProbe,
    ShadowResult,
    ShadowRun,
    ShadowStop,
)
from feedback.shadows import selectors as shadow_selectors
from feedback.shadows import services as shadow_services
from tests.api.conftest import Api
from tests.factories import logged_in, worked_example
from tests.feedback.shadows.conftest import BORDERLINE, NOBODY, recent

pytestmark = pytest.mark.django_db


def results(shadow: ShadowRun) -> dict[str, tuple[str, str]]:
    """external id → (published stage, shadow stage)."""
    return {
        r.lead.external_id: (r.published_stage, r.stage)
        for r in ShadowResult.objects.filter(shadow=shadow).select_related("lead")
    }


def published_results(workshop: Workshop) -> list[tuple[int, int, str, int, str]]:
    return sorted(
        LeadResult.objects.filter(run__workshop=workshop).values_list(
            "run_id", "lead_id", "stage", "score", "matched"
        )
    )


def test_a_shadow_classifies_new_api_leads_without_changing_the_published_results(
    admin: Any, workshop: Workshop, v1: Version, draft: Proposal, acme: Api
) -> None:
    assert acme.put("/leads/old", BORDERLINE).status_code == 201  # before the shadow
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=v1, enqueue=False
    )
    backtest_services.backtest_run_inline(run)
    before = published_results(workshop)
    answer_before = acme.post("/workshops/acme/classify", BORDERLINE).json()

    shadow = shadow_services.shadow_start(actor=admin, proposal=draft)
    assert acme.put("/leads/L1", BORDERLINE).status_code == 201
    batch = {
        "leads": [
            {"external_id": "L2", **NOBODY},
            {"external_id": "L3", **BORDERLINE},
        ]
    }
    assert acme.post("/leads", batch).status_code == 200
    # Activities arriving later classify the lead again, as of that moment.
    added = acme.post(
        "/leads/L3/activities", {"activities": [{"kind": "demo_request", "at": recent(1)}]}
    )
    assert added.status_code == 200

    assert results(shadow) == {
        "L1": ("mql", "lead"),  # 50 points: v1 sends it (MQL from 40), the draft not
        "L2": ("subscriber", "subscriber"),
        "L3": ("sql", "sql"),  # 75 points and a demo request: both send it
    }
    row = ShadowResult.objects.get(shadow=shadow, lead__external_id="L1")
    assert row.version_id == v1.pk and row.published_score == row.score == 50
    assert row.matched == row.published_matched == "format-source,industry,revenue,hq,seniority"
    # What sales sees did not move: the backtest's results and the classify answer.
    assert published_results(workshop) == before
    assert acme.post("/workshops/acme/classify", BORDERLINE).json() == answer_before
    shadow_services.shadow_probes_flush()  # written in batches, a few seconds late
    assert ShadowProbe.objects.filter(shadow=shadow).values_list(
        "published_stage", "stage"
    ).last() == ("mql", "lead")


def upload_and_import(admin: Any, workshop: Workshop, content: bytes) -> Any:
    job, shape = import_services.import_upload(
        actor=admin, workshop=workshop, upload=SimpleUploadedFile("leads.csv", content)
    )
    mapping = import_mapping.suggested_mapping(job, shape)
    import_services.import_start(actor=admin, job=job, mapping=mapping)
    return import_run.import_run(job.pk)


def test_a_shadow_classifies_imported_leads_without_changing_the_published_results(
    admin: Any, workshop: Workshop, v1: Version, draft: Proposal
) -> None:
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=v1, enqueue=False
    )
    backtest_services.backtest_run_inline(run)
    before = published_results(workshop)
    shadow = shadow_services.shadow_start(actor=admin, proposal=draft)
    content = (
        b"Lead ID,Source,Industry,Annual revenue,Country,Seniority\n"
        b"I1,webinar,Life Science,500000000,US,vp\n"
        b"I2,chat,Retail,1000,DE,\n"
    )
    job = upload_and_import(admin, workshop, content)
    assert (job.state, job.imported) == ("done", 2), job.message
    assert results(shadow) == {"I1": ("mql", "lead"), "I2": ("subscriber", "subscriber")}
    assert published_results(workshop) == before


def test_classifying_arrived_leads_is_set_based_whatever_their_number(
    admin: Any, workshop: Workshop, v1: Version, draft: Proposal
) -> None:
    """One statement per shadow over the arrived leads: as many queries for 200 leads
    as for 2, never one per lead."""
    shadow = shadow_services.shadow_start(actor=admin, proposal=draft)
    leads_insert_generated(workshop=workshop, leads=generate(202, seed=7))
    assert ShadowResult.objects.filter(shadow=shadow).count() == 202  # the generator's leads
    ids = list(Lead.objects.filter(workshop=workshop).order_by("id").values_list("id", flat=True))
    counts = []
    for chosen in (ids[:2], ids[2:]):
        with CaptureQueriesContext(connection) as queries:
            shadow_services.shadows_classify(
                workshop_id=workshop.pk, leads=Lead.objects.filter(id__in=chosen)
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]
    inserts = [q for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    assert len(inserts) == 1


def test_two_shadows_each_classify_every_arriving_lead(
    admin: Any, workshop: Workshop, v1: Version, draft: Proposal, acme: Api
) -> None:
    looser_doc = worked_example()
    looser_doc["stages"]["mql"] = 30
    looser = authoring_services.proposal_create(
        actor=admin, workshop=workshop, title="Looser", document=looser_doc
    )
    first = shadow_services.shadow_start(actor=admin, proposal=draft)
    second = shadow_services.shadow_start(actor=admin, proposal=looser)
    acme.put("/leads/L1", BORDERLINE)
    assert results(first) == {"L1": ("mql", "lead")}
    assert results(second) == {"L1": ("mql", "mql")}


def test_at_most_three_proposals_run_in_shadow_at_once(
    admin: Any, workshop: Workshop, v1: Version, draft: Proposal
) -> None:
    shadow_services.shadow_start(actor=admin, proposal=draft)
    with pytest.raises(ValidationError, match="already running"):
        shadow_services.shadow_start(actor=admin, proposal=draft)
    for n in range(2):
        shadow_services.shadow_start(
            actor=admin,
            proposal=authoring_services.proposal_create(
                actor=admin, workshop=workshop, title=f"P{n}"
            ),
        )
    fourth = authoring_services.proposal_create(actor=admin, workshop=workshop, title="P4")
    with pytest.raises(ValidationError, match="At most 3"):
        shadow_services.shadow_start(actor=admin, proposal=fourth)


def test_a_shadow_stops_when_its_proposal_is_withdrawn_and_classifies_nothing_more(
    admin: Any, workshop: Workshop, v1: Version, draft: Proposal, acme: Api
) -> None:
    shadow = shadow_services.shadow_start(actor=admin, proposal=draft)
    deliberation_services.proposal_withdraw(actor=admin, proposal=draft)
    acme.put("/leads/L1", BORDERLINE)
    assert results(shadow) == {}
    assert shadow_services.shadows_settle() == 1
    shadow.refresh_from_db()
    assert shadow.stop_reason == ShadowStop.WITHDRAWN and shadow.stopped_at is not None


def test_a_shadow_stops_after_the_workshops_number_of_days(
    admin: Any, workshop: Workshop, v1: Version, draft: Proposal, acme: Api
) -> None:
    Workshop.objects.filter(pk=workshop.pk).update(shadow_days=5)
    shadow = shadow_services.shadow_start(actor=admin, proposal=draft)
    assert (shadow.ends_at - shadow.started_at) == timedelta(days=5)
    acme.put("/leads/L1", BORDERLINE)
    assert shadow_services.shadows_settle(now=timezone.now() + timedelta(days=4)) == 0
    assert shadow_services.shadows_settle(now=timezone.now() + timedelta(days=5, seconds=1)) == 1
    shadow.refresh_from_db()
    assert shadow.stop_reason == ShadowStop.EXPIRED
    acme.put("/leads/L2", BORDERLINE)
    assert set(results(shadow)) == {"L1"}


def test_the_shadow_days_are_a_workshop_setting_checked_at_the_field(
    admin: Any, workshop: Workshop
) -> None:
    client = logged_in(admin)
    url = reverse("definitions:policy_edit", args=[workshop.slug])
    form = {
        "section": "evaluation",
        "evaluation-handoff_stage": "mql",
        "evaluation-decision_days": "14",
        "evaluation-shadow_days": "0",
    }
    response = client.post(url, form)
    assert response.status_code == 400
    assert "shadow_days" in response.context["evaluation_form"].errors
    assert client.post(url, {**form, "evaluation-shadow_days": "45"}).status_code == 302
    workshop.refresh_from_db()
    assert workshop.shadow_days == 45


def test_the_report_counts_disagreements_and_a_verdict_from_the_queue_counts_on_the_proposal(
    admin: Any, rep: Any, workshop: Workshop, v1: Version, draft: Proposal, acme: Api
) -> None:
    shadow = shadow_services.shadow_start(actor=admin, proposal=draft)
    acme.post(
        "/leads",
        {
            "leads": [
                {"external_id": "L1", "name": "Border Line", **BORDERLINE},
                {"external_id": "L2", **NOBODY},
                {"external_id": "L3", **BORDERLINE, "converted": True},
            ]
        },
    )
    summary = shadow_selectors.shadow_summary(draft)
    assert summary is not None
    assert (summary["leads_seen"], summary["running"]) == (3, True)
    assert summary["agreement"] == {
        "agree": 1,
        "disagree": 2,
        "published_only": 2,
        "shadow_only": 0,
        "judged_disagreements": 0,
        "rate": pytest.approx(1 / 3),
    }
    published, shadow_side = summary["definitions"]
    assert (published["to_sales"], shadow_side["to_sales"]) == (2, 0)
    # L3 converted: the published version sent it (a true positive), the draft did not.
    assert (published["outcomes"]["tp"], shadow_side["outcomes"]["fn"]) == (1, 1)

    client = logged_in(rep)
    queue = client.get(reverse("feedback:disagreement_queue", args=[workshop.slug]))
    assert queue.status_code == 200
    body = queue.content.decode()
    assert "Border Line" in body and "Stricter MQL" in body
    assert "Published matched:" not in body  # same criteria: the threshold decided
    lead = Lead.objects.get(external_id="L1")
    answer = client.post(
        reverse("feedback:disagreement_verdict", args=[workshop.slug, lead.pk]),
        {"verdict": "not_lead", "reason": "no_budget"},
    )
    assert answer.status_code == 302
    verdict = LeadFeedback.objects.get(lead=lead, superseded_at__isnull=True)
    assert (verdict.rep, verdict.verdict, verdict.version) == (rep, "not_lead", v1)
    after = client.get(reverse("feedback:disagreement_queue", args=[workshop.slug]))
    assert f'id="card-{lead.pk}"' not in after.content.decode()  # judged: off the list

    summary = shadow_selectors.shadow_summary(draft)
    assert summary is not None
    assert summary["agreement"]["judged_disagreements"] == 1
    published, shadow_side = summary["definitions"]
    assert (published["verdicts"]["fp"], shadow_side["verdicts"]["tn"]) == (1, 1)
    page = logged_in(admin).get(
        reverse("definitions:proposal_detail", args=[workshop.slug, draft.pk])
    )
    text = page.content.decode()
    assert "Shadow run on new leads" in text
    assert "They disagree on 2 leads; 1 of them judged by reps." in text

    report = logged_in(admin).get(
        reverse("feedback:shadow_report", args=[workshop.slug, shadow.pk])
    )
    assert report.status_code == 200
    assert report.context["figures"].leads_seen == 3
    assert len(report.context["examples"]) == 2


def test_a_disagreement_shows_the_criteria_that_made_the_difference(
    admin: Any, workshop: Workshop, v1: Version, acme: Api
) -> None:
    document = worked_example()
    # The draft no longer counts a webinar as a format that makes a lead.
    document["qualify"]["any"][0]["any"][0]["value"] = ["web_form_price_request"]
    proposal = authoring_services.proposal_create(
        actor=admin, workshop=workshop, title="No webinars", document=document
    )
    shadow = shadow_services.shadow_start(actor=admin, proposal=proposal)
    acme.put("/leads/W1", BORDERLINE)  # 50 points under v1 (an MQL), 35 under the draft
    report = shadow_selectors.shadow_report(shadow, workshop)
    [example] = report["examples"]
    assert (example.published_sends, example.shadow_sends) == (True, False)
    [difference] = example.differences
    assert difference.side == "published"
    assert difference.text.startswith("Source is one of") and "Webinar" in difference.text
    assert report["criteria"] == [(difference, 1)]


def test_only_a_draft_or_open_proposal_runs_in_shadow(
    admin: Any, workshop: Workshop, v1: Version, draft: Proposal
) -> None:
    deliberation_services.proposal_withdraw(actor=admin, proposal=draft)
    with pytest.raises(ValidationError, match="Only a draft"):
        shadow_services.shadow_start(actor=admin, proposal=draft)


def test_the_shadow_pages_render_hostile_titles_and_lead_names_inert(
    admin: Any, workshop: Workshop, v1: Version, acme: Api
) -> None:
    payload = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
    document = worked_example()
    document["stages"]["mql"] = 60
    proposal = authoring_services.proposal_create(
        actor=admin, workshop=workshop, title=payload, document=document
    )
    shadow = shadow_services.shadow_start(actor=admin, proposal=proposal)
    acme.put("/leads/X1", {"name": payload, **BORDERLINE})
    client = logged_in(admin)
    for url in (
        reverse("feedback:shadow_report", args=[workshop.slug, shadow.pk]),
        reverse("feedback:disagreement_queue", args=[workshop.slug]),
        reverse("definitions:proposal_detail", args=[workshop.slug, proposal.pk]),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert(1)" not in body and "<img src=x" not in body, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, url
