"""Imports with messy real-world files: every way a file can be wrong ends in a clear
message and nothing half-imported."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from definitions.models import CustomField, Workshop
from feedback.imports import load as import_load
from feedback.imports import mapping as import_mapping
from feedback.imports import run as import_run
from feedback.imports import services as import_services
from feedback.models import ImportJob, ImportState, Lead, LeadActivity

pytestmark = pytest.mark.django_db

HEADER = "Prospect ID,Lead Name,Email,Lead Source,Country,Annual revenue,Occupation,Converted\n"
ROWS = (
    "P1,Anna Rossi,anna@x.example,Webinar,US,300000000,Student,yes\n"
    "P2,Bob Stone,bob@y.example,Chat,CA,N/A,Working Professional,No\n"
    'P3,Chloé Martin,chloe@z.example,Referral,FR,"1,200",Student,1\n'
)


def upload(
    admin: Any, workshop: Workshop, content: bytes, name: str = "leads.csv", kind: str = "leads"
) -> tuple[ImportJob, Any]:
    return import_services.import_upload(
        actor=admin, workshop=workshop, upload=SimpleUploadedFile(name, content), kind=kind
    )


def run(
    admin: Any,
    workshop: Workshop,
    content: bytes,
    columns: dict[str, dict[str, Any]] | None = None,
    **options: Any,
) -> ImportJob:
    """Import with the suggested mapping, `columns` replacing some of its entries."""
    job, shape = upload(admin, workshop, content)
    mapping = import_mapping.suggested_mapping(job, shape)
    mapping["options"].update(options)
    mapping["columns"].update(columns or {})
    import_services.import_start(actor=admin, job=job, mapping=mapping)
    return import_run.import_run(job.pk)  # what the worker does once the transaction commits


def leads(workshop: Workshop) -> int:
    return Lead.objects.filter(workshop=workshop).count()


def test_a_clean_file_imports_every_row_with_typed_values(admin: Any, workshop: Workshop) -> None:
    job = run(admin, workshop, (HEADER + ROWS).encode())
    assert (job.state, job.imported, job.updated, job.errors) == (ImportState.DONE, 3, 0, 0)
    anna = Lead.objects.get(workshop=workshop, external_id="P1")
    assert (anna.source, anna.annual_revenue, anna.converted) == ("webinar", 3e8, True)
    assert anna.custom == {"occupation": "Student"}
    assert Lead.objects.get(external_id="P2").annual_revenue is None  # "N/A" is empty
    assert CustomField.objects.get(workshop=workshop, key="occupation").type == "text"


def test_importing_the_same_file_twice_leaves_the_same_rows(admin: Any, workshop: Workshop) -> None:
    content = (HEADER + ROWS).encode()
    run(admin, workshop, content)
    second = run(admin, workshop, content)
    # Nothing to write: every row is reported unchanged (and no backtest goes stale).
    assert (second.imported, second.updated, second.unchanged) == (0, 0, 3)
    assert leads(workshop) == 3


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (("\ufeff" + HEADER + ROWS).encode("utf-8"), "BOM"),
        ((HEADER + ROWS).replace(",", ";").replace('"1;200"', "1200").encode(), "semicolons"),
        ((HEADER + ROWS).replace(",", "\t").replace('"1\t200"', "1200").encode(), "tabs"),
        ((HEADER + ROWS).encode("cp1252"), "Windows-1252"),
        ((HEADER + ROWS).encode("latin-1"), "Latin-1"),
        ((HEADER + ROWS.replace("Anna Rossi", '"Anna\nRossi"')).encode(), "quoted newline"),
        ((HEADER + ROWS).replace("\n", "\r\n").encode(), "CRLF"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_messy_but_valid_files_import_the_same_three_leads(
    admin: Any, workshop: Workshop, content: bytes, detail: str
) -> None:
    job = run(admin, workshop, content)
    assert (job.state, job.imported, job.errors) == (ImportState.DONE, 3, 0), job.error_report
    assert Lead.objects.get(external_id="P3").name == "Chloé Martin"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (HEADER.encode(), "no data rows"),
        (bytes(range(256)) * 40, "binary content"),
        (b"PK\x03\x04not really a zip", "not a readable XLSX"),
    ],
    ids=["empty", "header-only", "binary", "fake-xlsx"],
)
def test_unusable_files_are_refused_with_a_clear_message(
    admin: Any, workshop: Workshop, content: bytes, message: str
) -> None:
    with pytest.raises(Exception) as info:
        upload(admin, workshop, content)
    assert message in str(info.value)
    assert not ImportJob.objects.exists() and leads(workshop) == 0


def test_bad_rows_go_to_the_error_report_and_good_rows_import(
    admin: Any, workshop: Workshop
) -> None:
    content = (
        HEADER
        + ROWS
        + "P4,Dan,dan@x.example,Carrier pigeon,US,lots,Student,maybe\n"
        + ",No Id,n@x.example,Chat,US,1,Student,no\n"
    )
    # Strict: a source the mapping does not name rejects its row.
    strict = {"Lead Source": {"target": "field", "field": "source", "unmapped": "reject"}}
    job = run(admin, workshop, content.encode(), strict)
    assert (job.imported, job.errors) == (3, 2)
    report = job.error_report
    assert "Lead Source,Carrier pigeon,not one of the allowed values" in report
    assert "Annual revenue,lots,not a number" in report
    assert "Prospect ID,,required" in report
    assert leads(workshop) == 3


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(admin: Any, workshop: Workshop) -> None:
    job = run(
        admin,
        workshop,
        (HEADER + ROWS + "P9,X,x@x.example,Chat,US,lots,S,no\n").encode(),
        all_or_nothing=True,
        strict=True,
    )
    assert job.state == ImportState.FAILED and "nothing was imported" in job.message
    assert leads(workshop) == 0
    assert not CustomField.objects.filter(workshop=workshop).exists()


def test_ragged_rows_and_duplicate_headers_are_handled(admin: Any, workshop: Workshop) -> None:
    content = "ID,Name,Name,Country\nA1,Ann,Annie,US\nA2,Bo\nA3,Cy,Cyrus,CA,extra\n"
    job, shape = upload(admin, workshop, content.encode())
    assert [c.name for c in shape.columns] == ["ID", "Name", "Name (2)", "Country"]
    assert any("renamed" in w for w in shape.warnings)
    assert any("different number of cells" in w for w in shape.warnings)
    mapping = import_mapping.suggested_mapping(job, shape)
    mapping["columns"]["Name (2)"] = {"target": "ignore"}
    import_services.import_start(actor=admin, job=job, mapping=mapping)
    job = import_run.import_run(job.pk)
    assert job.imported == 3
    assert Lead.objects.get(external_id="A2").country is None


def test_formula_looking_cells_are_stored_as_text_and_escaped_in_the_report(
    admin: Any, workshop: Workshop
) -> None:
    content = 'ID,Name,Employees\nF1,"=HYPERLINK(""http://evil"")",12\nF2,Bob,=1+1\n'
    job = run(admin, workshop, content.encode())
    assert Lead.objects.get(external_id="F1").name == '=HYPERLINK("http://evil")'
    # "Employees" is a number field: the formula is reported, defused for spreadsheets.
    assert "3,Employees,'=1+1,not a number" in job.error_report


def test_a_file_above_the_size_limit_is_refused(
    admin: Any, workshop: Workshop, settings: Any
) -> None:
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    big = (HEADER + ROWS * 20000).encode()
    assert len(big) > settings.IMPORT_MAX_BYTES
    with pytest.raises(Exception, match="the limit is 1 MB"):
        upload(admin, workshop, big)


def test_a_file_of_many_chunks_streams_through(
    admin: Any, workshop: Workshop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks a hundred times smaller than in production, so a 6 MB file crosses as many
    # chunk and batch boundaries as a 600 MB one would (COPY on PostgreSQL, the staging
    # batches on SQLite) in a few seconds.
    monkeypatch.setattr(import_load, "COPY_CHUNK", 40 * 1024)
    monkeypatch.setattr(import_load, "STAGE_BATCH", 200)
    line = "P{n},Name {n},n{n}@x.example,Chat,US,{n},Student,no\n"
    body = io.StringIO()
    body.write(HEADER)
    n = 0
    while body.tell() < 6 * 1024 * 1024:
        body.write("".join(line.format(n=i) for i in range(n, n + 5000)))
        n += 5000
    job = run(admin, workshop, body.getvalue().encode())
    assert job.state == ImportState.DONE and job.imported == n and job.errors == 0
    assert Lead.objects.filter(workshop=workshop).count() == n


def test_activities_import_from_a_second_file_and_skip_unknown_leads(
    admin: Any, workshop: Workshop
) -> None:
    run(admin, workshop, (HEADER + ROWS).encode())
    content = (
        "Lead,Activity,When\n"
        "P1,demo_request,2026-03-01T10:00:00Z\n"
        "P1,product_page_view,01/03/2026 11:00\n"
        "P404,demo_request,2026-03-01\n"
        "P2,teleportation,2026-03-01\n"
    )
    job, _shape = upload(admin, workshop, content.encode(), kind="activities")
    mapping = {
        "version": 1,
        "options": {"date_order": "dmy"},
        "columns": {
            "Lead": {"target": "external_id"},
            "Activity": {"target": "kind"},
            "When": {"target": "at"},
        },
    }
    import_services.import_start(actor=admin, job=job, mapping=mapping)
    job = import_run.import_run(job.pk)
    assert job.imported == 2 and job.errors == 2, job.error_report
    assert (
        "no lead with this external id" in job.error_report
        and "unknown activity kind" in job.error_report
    )
    again, _shape = upload(admin, workshop, content.encode(), kind="activities")
    import_services.import_start(actor=admin, job=again, mapping=mapping)
    import_run.import_run(again.pk)
    assert LeadActivity.objects.filter(lead__workshop=workshop).count() == 2


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({}, "identifies each lead"),
        (
            {
                "Prospect ID": {"target": "external_id"},
                "Email": {"target": "field", "field": "shoe_size"},
            },
            "no field",
        ),
        (
            {
                "Prospect ID": {"target": "external_id"},
                "Email": {"target": "new_field", "key": "Bad Key", "type": "text"},
            },
            "lower-case",
        ),
        (
            {
                "Prospect ID": {"target": "external_id"},
                "Email": {"target": "field", "field": "country"},
                "Country": {"target": "field", "field": "country"},
            },
            "both feed",
        ),
        ({"Prospect ID": {"target": "teleport"}}, "unknown target"),
    ],
)
def test_a_broken_mapping_is_refused_before_anything_runs(
    admin: Any, workshop: Workshop, columns: dict[str, Any], message: str
) -> None:
    job, _shape = upload(admin, workshop, (HEADER + ROWS).encode())
    with pytest.raises(Exception, match=message):
        import_services.import_start(
            actor=admin, job=job, mapping={"version": 1, "columns": columns}
        )
    job.refresh_from_db()
    assert job.state == ImportState.UPLOADED


def test_a_cancelled_import_imports_nothing(admin: Any, workshop: Workshop, settings: Any) -> None:
    from leadworkshop.celery import app

    app.conf.task_always_eager = False  # queue only; cancel before a worker takes it
    try:
        job, shape = upload(admin, workshop, (HEADER + ROWS).encode())
        job.mapping = import_mapping.suggested_mapping(job, shape)
        ImportJob.objects.filter(pk=job.pk).update(state=ImportState.QUEUED, mapping=job.mapping)
        import_services.import_cancel(actor=admin, job=job)
        job.refresh_from_db()
        assert job.state == ImportState.CANCELLED
        assert import_run.import_run(job.pk).state == ImportState.CANCELLED
    finally:
        app.conf.task_always_eager = True
    assert leads(workshop) == 0


def test_the_pages_walk_an_admin_from_upload_to_done(
    admin: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(admin)
    response = client.post(
        reverse("feedback:import_list", args=["acme"]),
        {"kind": "leads", "file": SimpleUploadedFile("l.csv", (HEADER + ROWS).encode())},
    )
    assert response.status_code == 302
    mapping_url = response["Location"]
    page = client.get(mapping_url)
    assert "Occupation" in page.content.decode()
    from tests.htmlform import as_post, form_data

    data = form_data(page.content.decode(), "mapping-form")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(mapping_url, as_post(data))
    assert response.status_code == 302, response.content.decode()[:2000]
    detail = client.get(response["Location"]).content.decode()
    assert 'value="100"' in detail and "3 new, 0 updated, 0 unchanged." in detail


def test_a_rep_cannot_import(rep: Any, workshop: Workshop) -> None:
    client = Client()
    client.force_login(rep)
    assert client.get(reverse("feedback:import_list", args=["acme"])).status_code == 403


def test_the_command_line_imports_with_a_mapping_file_and_ends_with_json(
    admin: Any, workshop: Workshop, tmp_path: Any
) -> None:
    import json

    from django.core.management import call_command

    data = tmp_path / "leads.csv"
    data.write_text(HEADER + ROWS, encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "version": 1,
                "columns": {
                    "Prospect ID": {"target": "external_id"},
                    "Lead Name": {"target": "name"},
                    "Country": {"target": "field", "field": "country"},
                },
            }
        )
    )
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_leads",
        "--workshop",
        "acme",
        "--mapping",
        str(mapping),
        str(data),
        stdout=out,
        stderr=err,
    )
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == {
        "imported": 3,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
    }
    out = io.StringIO()
    call_command(
        "import_leads",
        "--workshop",
        "acme",
        "--mapping",
        str(mapping),
        str(data),
        stdout=out,
        stderr=err,
    )
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == {
        "imported": 0,
        "updated": 0,
        "unchanged": 3,
        "errors": 0,
    }


def test_the_command_line_refuses_a_broken_mapping_with_exit_code_2(
    workshop: Workshop, tmp_path: Any
) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    data = tmp_path / "leads.csv"
    data.write_text(HEADER + ROWS, encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"version": 1, "columns": {}}')
    with pytest.raises(CommandError) as info:
        call_command("import_leads", "--workshop", "acme", "--mapping", str(mapping), str(data))
    assert info.value.returncode == 2 and "identifies each lead" in str(info.value)


def test_an_xlsx_workbook_imports_like_a_csv(admin: Any, workshop: Workshop, tmp_path: Any) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Prospect ID", "Lead Name", "Annual revenue", "Created"])
    sheet.append(["X1", "Xavier", 450000000, datetime(2026, 3, 31, 9, 30)])
    sheet.append(["X2", "Yara", None, datetime(2025, 12, 1)])
    path = tmp_path / "export.xlsx"
    book.save(path)
    job = run(admin, workshop, path.read_bytes())
    assert (job.state, job.imported, job.errors) == (ImportState.DONE, 2, 0), job.error_report
    xavier = Lead.objects.get(external_id="X1")
    assert xavier.annual_revenue == 4.5e8
    assert xavier.created_at is not None and xavier.created_at.date().isoformat() == "2026-03-31"


def test_a_saved_mapping_with_only_some_options_opens_with_the_defaults_for_the_rest(
    admin: Any, workshop: Workshop
) -> None:
    """Mapping files from the command line may name only some options; the mapping is
    saved for the header, and the page for the next file must still open."""
    first, _shape = upload(admin, workshop, (HEADER + ROWS).encode())
    import_services.import_start(
        actor=admin,
        job=first,
        mapping={
            "version": 1,
            "options": {"decimal": "comma"},
            "columns": {"Prospect ID": {"target": "external_id"}},
        },
        enqueue=False,
    )
    second, _shape = upload(admin, workshop, (HEADER + ROWS).encode())
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("feedback:import_mapping", args=[workshop.slug, second.pk]))
    assert page.status_code == 200
    assert '<option value="comma" selected>' in page.content.decode()
