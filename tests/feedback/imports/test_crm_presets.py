"""Real CRM exports in: HubSpot and Salesforce files, with the headers their exports and
reports write and the values their users type, import with the suggested mapping and
no hand edits; the suggested mapping is always one the page and compile_plan accept."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from definitions.models import CustomField, Workshop
from feedback.imports import mapping as import_mapping
from feedback.imports import run as import_run
from feedback.models import ImportJob, ImportMapping, ImportState, Lead
from tests.feedback.imports.test_imports import run, upload
from tests.htmlform import as_post, form_data

pytestmark = pytest.mark.django_db

STAGES = ["Lead", "Marketing Qualified Lead", " customer ", "Opportunity", "Subscriber", ""]
LEAD_STATUS = ["New", "Open", "In progress", "Unqualified", "Attempted to contact", "BAD_TIMING"]
ORIGINAL_SOURCE = [
    "Organic Search",
    "Direct Traffic",
    "Offline Sources",
    "REFERRALS",
    "Social Media",
    "Email Marketing",
    "Paid Search",
    "Other Campaigns",
]


def csv_text(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


def hubspot_export(rows: int = 24) -> bytes:
    """A HubSpot contacts export: its labels, its value spellings, blanks and stray
    spaces where people leave them."""
    header = [
        "Record ID",
        "First Name",
        "Last Name",
        "Email",
        "Company Name",
        "Job Title",
        "Lifecycle Stage",
        "Lead Status",
        "Original Source",
        "Create Date",
        "Became a Customer Date",
        "Annual Revenue",
        "Number of Employees",
        "Industry",
        "Country/Region",
        "Phone Number",
    ]
    body = []
    for n in range(rows):
        stage = STAGES[n % len(STAGES)]
        body.append(
            [
                str(51_000 + n),
                f"Ann{n}",
                "" if n == 3 else f"Lee{n}",
                f"ann{n}@example{n % 4}.com",
                f"Company {n}" if n % 5 else "",
                ["VP Sales", "CEO", "Marketing Manager", ""][n % 4],
                stage,
                LEAD_STATUS[n % len(LEAD_STATUS)],
                ORIGINAL_SOURCE[n % len(ORIGINAL_SOURCE)],
                f"2024-0{1 + n % 9}-{10 + n % 18:02d} 1{n % 10}:27",
                "2024-11-02 09:00" if "customer" in stage else "",
                ["1000000", "$2,500,000", "", "N/A"][n % 4],
                ["50", "1,200", "", "10"][n % 4],
                ["Software", "Retail", "", "Manufacturing"][n % 4],
                ["United States", "Italy", "Brazil", "France"][n % 4],
                f"+1 555 01{n:02d}",
            ]
        )
    return csv_text(header, body)


SF_SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Olark Chat", "Google"]
SF_STATUS = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted",
             "Closed - Not Converted"]  # fmt: skip


def salesforce_report(rows: int = 20, api_names: bool = False) -> bytes:
    """A Salesforce leads report (labels) or a data export (API names): month-first
    dates, 0/1 booleans, the standard picklist values and some pasted from elsewhere."""
    labels = [
        ("Lead ID", "Id"),
        ("First Name", "FirstName"),
        ("Last Name", "LastName"),
        ("Title", "Title"),
        ("Company", "Company"),
        ("Email", "Email"),
        ("Lead Source", "LeadSource"),
        ("Lead Status", "Status"),
        ("Rating", "Rating"),
        ("Industry", "Industry"),
        ("Annual Revenue", "AnnualRevenue"),
        ("No. of Employees", "NumberOfEmployees"),
        ("Country", "Country"),
        ("Converted", "IsConverted"),
        ("Converted Date", "ConvertedDate"),
        ("Create Date", "CreatedDate"),
    ]
    header = [api if api_names else label for label, api in labels]
    body = []
    for n in range(rows):
        status = SF_STATUS[n % len(SF_STATUS)]
        converted = status == "Closed - Converted"
        body.append(
            [
                f"00Q5g00000{n:05d}AbC",
                f"Bo{n}",
                f"Ng{n}",
                ["Director of IT", "Owner", "", "Buyer"][n % 4],
                f"Acme {n}",
                f"bo{n}@acme{n}.example",
                SF_SOURCES[n % len(SF_SOURCES)],
                status,
                ["Hot", "Warm", "Cold", ""][n % 4],
                ["Technology", "Banking", "Retail", ""][n % 4],
                ["$5,000,000.00", "250000", "", "12,000,000"][n % 4],
                ["120", "8", "", "4,500"][n % 4],
                ["USA", "Canada", "Germany", "Japan"][n % 4],
                ("true" if converted else "false") if api_names else ("1" if converted else "0"),
                "6/14/2024" if converted else "",
                f"{1 + n % 12}/{13 + n % 15}/2023 {8 + n % 10}:05",
            ]
        )
    return csv_text(header, body)


def suggested(admin: Any, workshop: Workshop, content: bytes) -> dict[str, Any]:
    job, shape = upload(admin, workshop, content)
    mapping = import_mapping.suggested_mapping(job, shape)
    import_mapping.compile_plan(job, mapping)  # valid as it is
    return mapping


def test_a_hubspot_export_imports_with_the_suggested_mapping_and_no_edits(
    admin: Any, workshop: Workshop
) -> None:
    job = run(admin, workshop, hubspot_export())
    assert (job.state, job.imported, job.errors) == (ImportState.DONE, 24, 0), job.error_report
    first = Lead.objects.get(workshop=workshop, external_id="51000")
    assert first.name == "Ann0 Lee0" and first.email == "ann0@example0.com"
    assert (first.company, first.job_title, first.industry) == (None, "VP Sales", "Software")
    assert (first.country, first.annual_revenue, first.employees) == ("United States", 1e6, 50)
    assert (first.reached_stage, first.channel) == ("lead", "organic_search")
    assert first.created_at == datetime(2024, 1, 10, 10, 27, tzinfo=UTC)
    assert Lead.objects.get(external_id="51003").name == "Ann3"  # no last name
    customer = Lead.objects.get(external_id="51002")
    assert customer.reached_stage == "customer"
    assert customer.closed_at == datetime(2024, 11, 2, 9, 0, tzinfo=UTC)
    assert customer.annual_revenue is None and customer.employees is None
    assert Lead.objects.get(external_id="51001").employees == 1200
    assert Lead.objects.get(external_id="51005").reached_stage is None  # blank stage
    assert {lead.channel for lead in Lead.objects.filter(workshop=workshop)} == {
        "organic_search",
        "direct",
        "event",
        "partner",
        "social",
        "email",
        "paid_search",
        "other",
    }
    status = CustomField.objects.get(workshop=workshop, key="lead_status")
    assert status.after_outcome and first.custom["lead_status"] == "New"
    assert not CustomField.objects.get(workshop=workshop, key="phone_number").after_outcome
    again = run(admin, workshop, hubspot_export())
    assert (again.imported, again.updated, again.unchanged, again.errors) == (0, 0, 24, 0)


@pytest.mark.parametrize("api_names", [False, True], ids=["report labels", "API names"])
def test_a_salesforce_export_imports_with_the_suggested_mapping_and_no_edits(
    admin: Any, workshop: Workshop, api_names: bool
) -> None:
    mapping = suggested(admin, workshop, salesforce_report(api_names=api_names))
    assert mapping["options"]["date_order"] == "mdy"
    job = run(admin, workshop, salesforce_report(api_names=api_names))
    assert (job.state, job.imported, job.errors) == (ImportState.DONE, 20, 0), job.error_report
    lead = Lead.objects.get(workshop=workshop, external_id="00Q5g0000000002AbC")
    assert (lead.name, lead.company, lead.job_title) == ("Bo2 Ng2", "Acme 2", None)
    assert (lead.source, lead.converted, lead.annual_revenue) == ("trusted_referral", True, None)
    assert lead.closed_at == datetime(2024, 6, 14, tzinfo=UTC)
    assert lead.created_at == datetime(2023, 3, 15, 10, 5, tzinfo=UTC)
    leads = Lead.objects.filter(workshop=workshop).order_by("external_id")
    assert sorted(str(lead.source) for lead in leads[:6]) == sorted(
        ["web_form_contact", "phone_call", "trusted_referral", "spreadsheet", "chat", "other"]
    )
    assert Lead.objects.filter(workshop=workshop, converted=True).count() == 5
    assert Lead.objects.filter(workshop=workshop, converted=False).count() == 15
    assert Lead.objects.get(external_id="00Q5g0000000000AbC").employees == 120
    kept = {f.key: f.after_outcome for f in CustomField.objects.filter(workshop=workshop)}
    assert kept == {"lead_status" if not api_names else "status": True, "rating": True}
    again = run(admin, workshop, salesforce_report(api_names=api_names))
    assert (again.imported, again.updated, again.unchanged, again.errors) == (0, 0, 20, 0)


def test_a_salesforce_status_alone_is_the_outcome_through_its_value_map(
    admin: Any, workshop: Workshop
) -> None:
    text = salesforce_report().decode().replace("Converted,Converted Date", "Flag,Converted At")
    mapping = suggested(admin, workshop, text.encode())
    status = mapping["columns"]["Lead Status"]
    assert status["target"] == "field" and status["field"] == "converted"
    assert status["values"]["Closed - Not Converted"] is False and status["unmapped"] == "empty"
    run(admin, workshop, text.encode())
    leads = Lead.objects.filter(workshop=workshop)
    assert [leads.filter(converted=v).count() for v in (True, False, None)] == [5, 5, 10]
    # The displaced 0/1 column is kept as a custom yes/no field.
    assert leads.get(external_id="00Q5g0000000002AbC").custom["flag"] is True


def test_the_suggested_mapping_never_feeds_one_field_from_two_columns(
    admin: Any, workshop: Workshop
) -> None:
    content = csv_text(
        ["Id", "Lead ID", "Email", "E-mail", "Industry", "industry", "Full Name", "First Name",
         "Company", "Account Name", "Lead Source", "Source"],
        [["1", "A1", "a@x.example", "b@x.example", "IT", "it", "Al Bo", "Al", "X", "Y",
          "Web", "Google"]],
    )  # fmt: skip
    mapping = suggested(admin, workshop, content)
    targets = [
        import_mapping.slot_of(entry)
        for entry in mapping["columns"].values()
        if entry["target"] != "ignore"
    ]
    assert len(targets) == len(set(targets))
    assert mapping["columns"]["Id"] == {"target": "external_id"}
    assert mapping["columns"]["Full Name"] == {"target": "name"}
    assert mapping["columns"]["First Name"]["target"] == "new_field"
    job = run(admin, workshop, content)
    assert (job.state, job.imported, job.errors) == (ImportState.DONE, 1, 0)
    lead = Lead.objects.get(workshop=workshop)
    assert (lead.name, lead.email, lead.industry, lead.source) == (
        "Al Bo",
        "a@x.example",
        "IT",
        "web_form_contact",
    )
    assert lead.custom["industry_2"] == "it" and lead.custom["lead_id"] == "A1"


@pytest.mark.parametrize("export", [hubspot_export, salesforce_report], ids=["hubspot", "sf"])
def test_the_mapping_page_accepts_its_own_suggestion_unchanged(
    admin: Any, workshop: Workshop, export: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(admin)
    response = client.post(
        reverse("feedback:import_list", args=["acme"]),
        {"kind": "leads", "file": SimpleUploadedFile("crm.csv", export())},
    )
    mapping_url = response["Location"]
    page = client.get(mapping_url).content.decode()
    data = form_data(page, "mapping-form")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(mapping_url, as_post(data))
    assert response.status_code == 302, response.content.decode()[:3000]
    job = ImportJob.objects.get(workshop=workshop)
    assert (job.state, job.errors) == (ImportState.DONE, 0), job.error_report
    assert job.imported == Lead.objects.filter(workshop=workshop).count() >= 20


def command(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_leads", "--workshop", "acme", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_the_command_without_a_mapping_file_prints_and_uses_the_suggested_mapping(
    admin: Any, workshop: Workshop, tmp_path: Path
) -> None:
    path = tmp_path / "hubspot.csv"
    path.write_bytes(hubspot_export())
    code, out, _err = command("--dry-run", str(path))
    assert code == 0
    printed = json.loads(out)
    assert printed["columns"]["Record ID"] == {"target": "external_id"}
    assert printed["columns"]["Lifecycle Stage"]["field"] == "reached_stage"
    assert not ImportJob.objects.exists() and not Lead.objects.exists()  # nothing stored
    code, out, _err = command(str(path))
    mapping_text, result = out.strip().rsplit("\n", 1)
    assert code == 0 and json.loads(mapping_text) == printed
    assert json.loads(result) == {"imported": 24, "updated": 0, "unchanged": 0, "errors": 0}
    # The mapping saved for this header is the one used next time.
    saved = ImportMapping.objects.get(workshop=workshop)
    saved.mapping["columns"]["Industry"] = {"target": "ignore"}
    saved.save()
    code, out, _err = command("--dry-run", str(path))
    assert code == 0 and json.loads(out)["columns"]["Industry"] == {"target": "ignore"}
    code, out, _err = command(str(path))
    assert code == 0 and json.loads(out.strip().rsplit("\n", 1)[1])["unchanged"] == 24


def test_a_dry_run_of_an_unusable_file_or_mapping_exits_2(
    admin: Any, workshop: Workshop, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _out, err = command("--dry-run", str(empty))
    assert code == 2 and "empty" in err
    path = tmp_path / "sf.csv"
    path.write_bytes(salesforce_report())
    broken = tmp_path / "mapping.json"
    broken.write_text(json.dumps({"columns": {"Lead ID": {"target": "name"}}}))
    code, _out, err = command("--dry-run", "--mapping", str(broken), str(path))
    assert code == 2 and "external id" in err
    assert not ImportJob.objects.exists()


def test_the_mapping_page_of_a_wide_crm_export_can_be_submitted_as_it_is(
    admin: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    narrow = list(csv.reader(io.StringIO(hubspot_export(rows=5).decode())))
    extra = [f"Property {n}" for n in range(260)]
    rows = [row + [f"v{n % 7}" for n in range(260)] for row in narrow[1:]]
    content = csv_text(narrow[0] + extra, rows)
    client = Client()
    client.force_login(admin)
    response = client.post(
        reverse("feedback:import_list", args=["acme"]),
        {"kind": "leads", "file": SimpleUploadedFile("wide.csv", content)},
    )
    page = client.get(response["Location"]).content.decode()
    data = form_data(page, "mapping-form")
    assert len(data) > 1000
    response = client.post(response["Location"], as_post(data))
    assert response.status_code == 302
    job = import_run.import_run(ImportJob.objects.get(workshop=workshop).pk)
    assert (job.state, job.imported, job.errors) == (ImportState.DONE, 5, 0), job.error_report
    # 260 custom fields are built in groups: the first and the last of them arrive.
    custom = Lead.objects.get(external_id="51000").custom
    assert (custom["property_0"], custom["property_259"]) == ("v0", "v0")
    again = run(admin, workshop, content)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 5)


def test_a_lead_source_column_wins_the_source_over_a_lead_origin_column_before_it(
    admin: Any, workshop: Workshop
) -> None:
    content = csv_text(
        ["Prospect ID", "Lead Origin", "Lead Source", "Converted"],
        [["P1", "Landing Page Submission", "Olark Chat", "1"], ["P2", "API", "Google", "0"]],
    )
    mapping = suggested(admin, workshop, content)
    assert mapping["columns"]["Lead Source"]["field"] == "source"
    assert mapping["columns"]["Lead Origin"]["target"] == "new_field"
    job = run(admin, workshop, content)
    assert (job.imported, job.errors) == (2, 0)
    assert dict(Lead.objects.values_list("external_id", "source")) == {"P1": "chat", "P2": "other"}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (  # Zoho CRM leads
            ["Record Id", "Lead Owner", "First Name", "Last Name", "Company", "Lead Source",
             "Lead Status", "No. of Employees", "Created Time", "Rating"],
            {"Record Id": "external_id", "First Name": "name", "Last Name": "name",
             "Company": "field:company", "Lead Source": "field:source",
             "No. of Employees": "field:employees", "Created Time": "field:created_at",
             "Lead Status": "field:lead_status", "Rating": "field:rating"},
        ),
        (  # Pipedrive people
            ["Person - ID", "Person - Name", "Person - Email", "Person - Organization",
             "Person - Label"],
            {"Person - ID": "external_id", "Person - Name": "name", "Person - Email": "email",
             "Person - Organization": "field:company"},
        ),
        (  # Dynamics 365 leads (Export to Excel)
            ["(Do Not Modify) Lead", "Name", "Company Name", "Job Title", "Lead Source",
             "Status Reason", "Address 1: Country/Region", "Created On"],
            {"(Do Not Modify) Lead": "external_id", "Name": "name",
             "Company Name": "field:company", "Job Title": "field:job_title",
             "Status Reason": "field:lost_reason",
             "Address 1: Country/Region": "field:country", "Created On": "field:created_at"},
        ),
    ],
    ids=["zoho", "pipedrive", "dynamics"],
)  # fmt: skip
def test_common_headers_of_other_crms_are_recognised(
    admin: Any, workshop: Workshop, headers: list[str], expected: dict[str, str]
) -> None:
    row = [f"v{n}" for n in range(len(headers))]
    mapping = suggested(admin, workshop, csv_text(headers, [row]))
    slots = {h: import_mapping.slot_of(e) for h, e in mapping["columns"].items()}
    assert {h: slots[h] for h in expected} == expected


HUBSPOT_API_NAMES = {
    "Record ID": "hs_object_id",
    "First Name": "firstname",
    "Last Name": "lastname",
    "Email": "email",
    "Company Name": "company",
    "Job Title": "jobtitle",
    "Lifecycle Stage": "lifecyclestage",
    "Lead Status": "hs_lead_status",
    "Original Source": "hs_analytics_source",
    "Create Date": "createdate",
    "Became a Customer Date": "hs_lifecyclestage_customer_date",
    "Annual Revenue": "annualrevenue",
    "Number of Employees": "numemployees",
    "Industry": "industry",
    "Country/Region": "country",
}


def test_hubspot_api_names_map_like_the_export_labels(admin: Any, workshop: Workshop) -> None:
    labelled = list(csv.reader(io.StringIO(hubspot_export(rows=6).decode())))
    by_label = suggested(admin, workshop, csv_text(labelled[0], labelled[1:]))
    api_header = [HUBSPOT_API_NAMES.get(h, h) for h in labelled[0]]
    by_api = suggested(admin, workshop, csv_text(api_header, labelled[1:]))
    for label, api in HUBSPOT_API_NAMES.items():
        label_entry, api_entry = by_label["columns"][label], by_api["columns"][api]
        assert import_mapping.slot_of(label_entry) == import_mapping.slot_of(api_entry), label
        assert label_entry.get("values") == api_entry.get("values"), label
