"""What sales already decided comes in with the export: a HubSpot or Salesforce lead
status column becomes imported sales verdicts with no mapping file, attributed to the
owner or to the system rep, idempotent on re-import, counted in accuracy (filterable
by origin) with tallies equal to a recount."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from definitions import rules
from definitions.models import Version, Workshop
from definitions.roles import Department, Role
from definitions.versions import services as version_services
from feedback.backtests import services as backtest_services
from feedback.imports import mapping as import_mapping
from feedback.imports.dispositions import SYSTEM_REP
from feedback.models import EvaluationRun, Lead, LeadFeedback, RunState, VerdictTally
from feedback.verdicts import selectors as verdict_selectors
from feedback.verdicts import services as verdict_services
from feedback.verdicts import tallies
from tests.factories import UserFactory, add_member, logged_in
from tests.feedback.imports.test_crm_presets import csv_text, salesforce_report
from tests.feedback.imports.test_imports import run, upload

pytestmark = pytest.mark.django_db

# hs_lead_status as HubSpot's exports write its internal values (API-name exports).
HS_STATUS = ["NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT",
             "CONNECTED", "BAD_TIMING"]  # fmt: skip
HS_MEANS = {
    "OPEN_DEAL": ("good", ""),
    "CONNECTED": ("good", ""),
    "UNQUALIFIED": ("not_lead", "other"),
    "BAD_TIMING": ("not_lead", "bad_timing"),
}
HS_SOURCES = ["ORGANIC_SEARCH", "DIRECT_TRAFFIC", "PAID_SEARCH", "REFERRALS", "OFFLINE"]


def hubspot_contacts(rows: int = 32, statuses: list[str] = HS_STATUS) -> bytes:
    """A HubSpot contacts export with API names (hs_object_id, hs_lead_status,
    hubspot_owner_id is not exported as a name; "Contact owner" is)."""
    header = ["Record ID", "First Name", "Last Name", "Email", "Company Name", "Job Title",
              "Lifecycle Stage", "hs_lead_status", "Original Source", "Create Date",
              "Number of Employees", "Industry", "Country/Region", "Contact owner"]  # fmt: skip
    body = [
        [
            str(90_100 + n),
            f"Ada{n}",
            f"Ito{n}",
            f"ada{n}@firm{n % 5}.example",
            f"Firm {n % 7}",
            ["Head of Operations", "CTO", "Buyer", ""][n % 4],
            ["lead", "marketingqualifiedlead", "opportunity", "customer", "subscriber"][n % 5],
            statuses[n % len(statuses)],
            HS_SOURCES[n % len(HS_SOURCES)],
            f"2025-0{1 + n % 9}-1{n % 10}T09:3{n % 10}:00Z",
            ["25", "250", "2,500", ""][n % 4],
            ["Software", "Manufacturing", "Retail", "Logistics"][n % 4],
            ["Germany", "United States", "Japan", "Italy"][n % 4],
            ["Rita Sales", "", "nobody@else.example"][n % 3],
        ]
        for n in range(rows)
    ]
    return csv_text(header, body)


@pytest.fixture
def version(admin: Any, workshop: Workshop) -> Version:
    return version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )


@pytest.fixture
def rita(workshop: Workshop) -> Any:
    user = UserFactory(username="rita", first_name="Rita", last_name="Sales")
    add_member(workshop, user, Role.SALES_REP, Department.SALES)
    return user


def backtest(workshop: Workshop, version: Version) -> EvaluationRun:
    done = backtest_services.backtest_run_inline(
        backtest_services.backtest_start(
            actor=None, workshop=workshop, version=version, enqueue=False, reuse=False
        )
    )
    assert done.state == RunState.DONE
    return done


def command(name: str, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command(name, "--workshop", "acme", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


def current_imported(workshop: Workshop) -> dict[str, tuple[str, str, str]]:
    return {
        f.lead.external_id: (f.verdict, f.reason, f.rep.get_username())
        for f in LeadFeedback.objects.filter(
            workshop=workshop, imported=True, superseded_at__isnull=True
        ).select_related("lead", "rep")
    }


def assert_tallies_equal_a_recount(workshop: Workshop) -> None:
    for done in EvaluationRun.objects.filter(workshop=workshop, state=RunState.DONE):
        for origin in tallies.ORIGINS:
            kept = {
                (done.pk, *row[:5]): row[5]
                for row in verdict_selectors.tallied_verdict_rows(done, origin)
            }
            groups = verdict_selectors.counted_verdict_groups(done, origin)
            recount = tallies.expand(done.pk, groups)
            assert kept == {k: n for k, n in recount.items() if n}, origin


def test_a_hubspot_export_with_no_mapping_file_brings_its_lead_statuses_in_as_verdicts(
    admin: Any, workshop: Workshop, version: Version, rita: Any, tmp_path: Path
) -> None:
    path = tmp_path / "hubspot-contacts.csv"
    path.write_bytes(hubspot_contacts())
    code, out = command("import_leads", str(path))
    mapping_text, last = out.strip().rsplit("\n", 1)
    assert code == 0 and json.loads(last) == {
        "imported": 32, "updated": 0, "unchanged": 0, "errors": 0
    }  # fmt: skip
    mapping = json.loads(mapping_text)
    assert mapping["columns"]["hs_lead_status"]["verdict"]["values"]["BAD_TIMING"] == (
        "bad:bad_timing"
    )
    assert mapping["columns"]["Contact owner"] == {"target": "rep"}
    verdicts = current_imported(workshop)
    expected = {
        str(90_100 + n): HS_MEANS[HS_STATUS[n % 8]]
        for n in range(32)
        if HS_STATUS[n % 8] in HS_MEANS
    }
    assert {k: v[:2] for k, v in verdicts.items()} == expected
    # The owner when the CRM names a member who judges leads, else the system rep.
    owners = {str(90_100 + n): ["rita", SYSTEM_REP, SYSTEM_REP][n % 3] for n in range(32)}
    assert all(rep == owners[key] for key, (_v, _r, rep) in verdicts.items())
    one = LeadFeedback.objects.filter(imported=True).first()
    assert one is not None and (one.import_file, one.import_column) == (
        "hubspot-contacts.csv",
        "hs_lead_status",
    )

    done = backtest(workshop, version)
    code, out = command("accuracy", "--verdicts", "imported")
    counted = json.loads(out)
    assert code == 0 and counted["verdicts_counted"] == "imported"
    assert counted["cuts"]["qualified"]["verdicts"]["n"] == len(expected) == 16
    code, out = command("accuracy", "--verdicts", "app")
    assert json.loads(out)["cuts"]["qualified"]["verdicts"]["n"] == 0

    # Identical file: every row unchanged, no verdict written, no backtest stale.
    before = LeadFeedback.objects.count()
    code, out = command("import_leads", str(path))
    assert json.loads(out.strip().rsplit("\n", 1)[1]) == {
        "imported": 0, "updated": 0, "unchanged": 32, "errors": 0
    }  # fmt: skip
    assert LeadFeedback.objects.count() == before
    workshop.refresh_from_db()
    assert not backtest_services.is_stale(done, workshop)
    assert_tallies_equal_a_recount(workshop)


def test_a_changed_disposition_changes_the_imported_verdict_and_the_tallies_follow(
    admin: Any, workshop: Workshop, version: Version, rep: Any
) -> None:
    run(admin, workshop, hubspot_contacts(rows=16))
    done = backtest(workshop, version)
    lead = Lead.objects.get(workshop=workshop, external_id="90103")  # OPEN_DEAL: good
    verdict_services.verdict_record(actor=rep, lead=lead, verdict="not_lead", reason="student")
    changed = [s if s != "OPEN_DEAL" else "UNQUALIFIED" for s in HS_STATUS]
    changed = [s if s != "CONNECTED" else "NEW" for s in changed]
    job = run(admin, workshop, hubspot_contacts(rows=16, statuses=changed))
    # Four leads changed status (a custom field too): two now bad, two taken back.
    assert (job.updated, job.unchanged, job.verdicts) == (4, 12, 4)
    verdicts = current_imported(workshop)
    assert verdicts["90103"][:2] == ("not_lead", "other")
    assert "90106" not in verdicts  # CONNECTED → NEW: no verdict any more
    history = LeadFeedback.objects.filter(lead=lead, imported=True).order_by("id")
    assert [(f.verdict, f.superseded_at is None) for f in history] == [
        ("good", False),
        ("not_lead", True),
    ]
    # The rep's own verdict stays beside the imported one.
    assert LeadFeedback.objects.filter(lead=lead, imported=False, superseded_at=None).exists()
    assert_tallies_equal_a_recount(workshop)
    assert VerdictTally.objects.filter(run=done, origin="imported").exists()


def test_a_salesforce_report_with_no_mapping_file_gives_verdicts_from_its_lead_status(
    admin: Any, workshop: Workshop, version: Version
) -> None:
    job = run(admin, workshop, salesforce_report())
    assert (job.imported, job.errors, job.verdicts) == (20, 0, 10)
    verdicts = current_imported(workshop)
    assert (
        sorted(v[:2] for v in verdicts.values()) == [("good", "")] * 5 + [("not_lead", "other")] * 5
    )
    assert {v[2] for v in verdicts.values()} == {SYSTEM_REP}
    # Its outcome still comes from the Converted column.
    assert Lead.objects.filter(workshop=workshop, converted=True).count() == 5
    backtest(workshop, version)
    code, out = command("accuracy", "--verdicts", "both")
    assert code == 0 and json.loads(out)["cuts"]["qualified"]["verdicts"]["n"] == 10
    again = run(admin, workshop, salesforce_report())
    assert (again.imported, again.updated, again.unchanged, again.verdicts) == (0, 0, 20, 0)


def test_a_mapping_file_maps_any_column_to_verdicts_with_a_named_rep(
    admin: Any, workshop: Workshop, rita: Any
) -> None:
    content = csv_text(
        ["Id", "Disposition Notes", "Owner"],
        [["A", "great fit", "x"], ["B", "students only", "x"], ["C", "??", "x"], ["D", "", "x"]],
    )
    job = run(
        admin,
        workshop,
        content,
        {
            "Disposition Notes": {
                "target": "ignore",
                "verdict": {
                    "values": {"Great Fit": "good", "students only": "bad:student"},
                    "unmapped": "bad",
                    "rep": "rita",
                },
            },
            "Owner": {"target": "ignore"},
        },
    )
    assert (job.imported, job.errors) == (4, 0)
    assert current_imported(workshop) == {
        "A": ("good", "", "rita"),
        "B": ("not_lead", "student", "rita"),
        "C": ("not_lead", "other", "rita"),
    }


def test_a_broken_verdict_map_is_refused_at_its_column(admin: Any, workshop: Workshop) -> None:
    job, _shape = upload(admin, workshop, csv_text(["Id", "Status"], [["1", "x"]]))
    with pytest.raises(Exception, match="Status") as caught:
        import_mapping.compile_plan(
            job,
            {
                "columns": {
                    "Id": {"target": "external_id"},
                    "Status": {"target": "ignore", "verdict": {"values": {"x": "bad:lazy"}}},
                }
            },
        )
    assert "not a verdict" in str(caught.value)


def test_the_accuracy_page_filters_imported_and_app_verdicts_and_the_lead_page_says_imported(
    admin: Any, workshop: Workshop, version: Version
) -> None:
    run(admin, workshop, salesforce_report())
    backtest(workshop, version)
    client = logged_in(admin)
    url = reverse("feedback:accuracy", args=["acme"])
    for origin in ("", "imported", "app", "nonsense"):
        page = client.get(url, {"verdicts": origin})
        assert page.status_code == 200
    page = client.get(url, {"verdicts": "imported"}).content.decode()
    assert 'value="imported" selected' in page
    lead = LeadFeedback.objects.filter(imported=True).select_related("lead").first()
    assert lead is not None
    detail = client.get(reverse("feedback:lead_detail", args=["acme", lead.lead_id]))
    assert "imported from leads.csv, Lead Status" in detail.content.decode()


def test_the_queue_shows_a_leads_imported_verdict_beside_the_reps_own(
    admin: Any, workshop: Workshop, version: Version, rep: Any
) -> None:
    from api import services as api_services
    from feedback.leads.generator import generate
    from feedback.leads.services import leads_insert_generated
    from feedback.models import LeadResult

    leads_insert_generated(workshop=workshop, leads=generate(120, seed=4))
    done = backtest(workshop, version)
    handed = LeadResult.objects.filter(run=done, stage__in=["mql", "sql"]).select_related("lead")
    lead = handed.order_by("-lead_id").first()
    assert lead is not None
    changed = api_services.verdicts_import(
        workshop=workshop,
        source="HubSpot Lead Status",
        items=[{"external_id": lead.lead.external_id, "verdict": "bad", "reason": "b2c"}],
    )
    assert changed == 1
    page = logged_in(rep).get(reverse("feedback:feedback_queue", args=["acme"]), {"show": "all"})
    card = page.content.decode().split(f'id="card-{lead.lead_id}"', 1)[1].split("</header>")[0]
    assert "imported from API, HubSpot Lead Status" in card and "B2C" in card
    assert_tallies_equal_a_recount(workshop)
