"""Stored XSS: hostile text through every place people (or imported files and API
clients) write text renders inert on every page that shows it, and exports defuse
spreadsheet formulas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from api.services import leads_upsert
from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.catalog import services as catalog_services
from definitions.deliberation import services as deliberation_services
from definitions.models import Workshop
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.models import Lead, LeadResult
from feedback.verdicts import services as verdict_services
from tests.factories import logged_in
from tests.feedback.imports.test_imports import run as run_import

pytestmark = pytest.mark.django_db

PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(1)><svg onload=alert(1)>'
# What must never reach a page unescaped, whatever the payload was cut or wrapped into.
ACTIVE = ("<script>alert(1)", "<img src=x", "<svg onload", "onerror=alert(1)>")


@pytest.fixture
def hostile(admin: Any, rep: Any, workshop: Workshop) -> dict[str, Any]:
    """A workshop where every user-written text is the payload."""
    workshop.name = PAYLOAD[:120]
    workshop.description = PAYLOAD
    workshop.save()
    catalog_services.custom_field_add(
        actor=admin, workshop=workshop, key="tier", label=PAYLOAD[:120], type="text",
        category="bant",
    )  # fmt: skip
    catalog_services.activity_kind_add(
        actor=admin, workshop=workshop, key="visit", label=PAYLOAD[:120]
    )
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None, note=PAYLOAD
    )
    proposal = authoring_services.proposal_create(actor=admin, workshop=workshop, title=PAYLOAD)
    deliberation_services.policy_update(
        actor=admin, workshop=workshop, quorum_percent=0, required_departments=[],
        majority_percent=0, block_vetoes=False, default_voting_days=7,
    )  # fmt: skip
    proposal = deliberation_services.proposal_open(
        actor=admin,
        proposal=proposal,
        closes_at=timezone.now() + timedelta(days=3),
        rationale=PAYLOAD + "\n\n[x](javascript:alert(1))",
    )
    deliberation_services.comment_add(actor=admin, proposal=proposal, body=PAYLOAD)
    # An imported file and an API client write lead text too.
    run_import(admin, workshop, f'ID,Name,Company\nX1,"{PAYLOAD}","=HYPERLINK(1)"\n'.encode())
    leads_upsert(
        workshop=workshop,
        leads=[{"external_id": "A1", "name": PAYLOAD[:200], "custom": {"tier": PAYLOAD[:500]}}],
    )
    run = backtest_services.backtest_run_inline(
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, version=version, enqueue=False
        )
    )
    lead = Lead.objects.get(workshop=workshop, external_id="X1")
    rejected = Lead.objects.get(workshop=workshop, external_id="A1")
    assert not LeadResult.objects.get(run=run, lead=rejected).qualified
    verdict_services.verdict_record(actor=rep, lead=rejected, verdict="missed", note=PAYLOAD)
    draft_run = backtest_services.backtest_run_inline(
        backtest_services.backtest_start(
            actor=admin, workshop=workshop, proposal=proposal, enqueue=False
        )
    )
    return {"run": run, "draft_run": draft_run, "lead": lead, "api_lead": rejected,
            "proposal": proposal, "version": version}  # fmt: skip


def test_every_page_showing_user_text_renders_it_inert(
    admin: Any, rep: Any, hostile: dict[str, Any]
) -> None:
    slug = "acme"
    pages = [
        reverse("home"),
        reverse("inbox"),
        reverse("definitions:workshop_home", args=[slug]),
        reverse("definitions:workshop_history", args=[slug]),
        reverse("definitions:definition_home", args=[slug]),
        reverse("definitions:catalog", args=[slug]),
        reverse("definitions:member_list", args=[slug]),
        reverse("definitions:proposal_list", args=[slug]),
        reverse("definitions:proposal_detail", args=[slug, hostile["proposal"].pk]),
        reverse("definitions:version_history", args=[slug]),
        reverse("definitions:version_detail", args=[slug, hostile["version"].number]),
        reverse("feedback:lead_list", args=[slug]),
        reverse("feedback:lead_detail", args=[slug, hostile["lead"].pk]),
        reverse("feedback:lead_detail", args=[slug, hostile["api_lead"].pk]),
        reverse("feedback:run_list", args=[slug]),
        reverse("feedback:run_detail", args=[slug, hostile["run"].pk]),
        reverse("feedback:run_detail", args=[slug, hostile["draft_run"].pk]),
        reverse("feedback:run_leads", args=[slug, hostile["run"].pk]),
        reverse("feedback:accuracy", args=[slug]),
        reverse("feedback:accuracy_print", args=[slug]),
        reverse("feedback:decision_record", args=[slug, hostile["version"].number]),
    ]
    shown: dict[str, bool] = {}
    for user in (admin, rep):
        client = logged_in(user)
        for url in [*pages, reverse("feedback:feedback_queue", args=[slug])]:
            response = client.get(url)
            if response.status_code == 403:
                continue  # the rep may not see every admin page
            assert response.status_code == 200, url
            body = response.content.decode()
            for active in ACTIVE:
                assert active not in body, (url, active)
            assert 'href="javascript:' not in body, url
            shown[url] = "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    # The text is there, escaped: these pages do show it (the test is not vacuous).
    for url in pages[2:4] + pages[8:9] + pages[12:14] + pages[16:17]:
        assert shown[url], url


def test_exports_defuse_formulas_and_keep_the_text_as_text(
    admin: Any, hostile: dict[str, Any]
) -> None:
    client = logged_in(admin)
    results = b"".join(
        client.get(
            reverse("feedback:run_results_csv", args=["acme", hostile["run"].pk])
        ).streaming_content
    ).decode()
    assert "'=HYPERLINK(1)" in results and ",=HYPERLINK" not in results
    verdicts = b"".join(
        client.get(reverse("feedback:verdicts_csv", args=["acme"])).streaming_content
    ).decode()
    assert "<script>alert(1)</script>" in verdicts  # CSV is data, not a page: kept as written
    export = client.get(
        reverse("definitions:version_export", args=["acme", hostile["version"].number, "md"])
    )
    assert export.status_code == 200
