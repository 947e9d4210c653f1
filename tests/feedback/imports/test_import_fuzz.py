"""The CSV importer under hypothesis: any file, any options, any mapping the page can
send. Each ends either accepted or with a clear message, never with an unhandled
exception, and never half-imported."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from definitions.models import Workshop
from feedback.imports import mapping as import_mapping
from feedback.imports import run as import_run
from feedback.imports import services as import_services
from feedback.models import ImportState, Lead
from tests.factories import WorkshopFactory

pytestmark = pytest.mark.django_db

HEADERS = [
    "Prospect ID", "Lead Number", "Email", "Lead Name", "Company", "Lead Source", "Country",
    "Annual Revenue", "Employees", "Converted", "Created", "Closed", "Deal Value",
    "TotalVisits", "Do Not Email", "Last Activity", "Score", "",
    "Prospect ID", "=cmd|' /C calc'!A0",
]  # fmt: skip
CELLS = st.one_of(
    st.sampled_from(
        ["", "Select", "N/A", "-", "null", "None", "Yes", "No", "Sì", "Não", "Oui", "Non",
         "Y", "n", "true", "0", "1", "1,234.5", "1.234,5", "12%", "$1,200", "€ 3.000,50",
         "¥12,000", "2026-03-31", "31/03/2026", "03/31/2026", "2026-02-30", "2026-03-31T10:00:00Z",
         "=SUM(A1)", "+1", "-5", "@now", '"quoted"', "line\nbreak", "\\.", "\x00", "9" * 400,
         "1e309", "NaN", "-0", "  padded  ", "ünïcödé", "日本語", "<script>alert(1)</script>"]
    ),
    st.text(max_size=30),
)  # fmt: skip
# Each example makes its own workshop, so the shared `admin` fixture is harmless.
SLOW_AND_SHARED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])
OPTIONS = st.fixed_dictionaries(
    {
        "decimal": st.sampled_from(["auto", "dot", "comma"]),
        "date_order": st.sampled_from(["ymd", "dmy", "mdy"]),
        "all_or_nothing": st.booleans(),
    }
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A table as a CRM might export it: a header, ragged rows of messy cells, one of
    the delimiters and encodings the importer reads (or one it does not)."""
    width = draw(st.integers(min_value=1, max_value=8))
    header = draw(
        st.lists(st.sampled_from(HEADERS) | st.text(max_size=12), min_size=width, max_size=width)
    )
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=width + 2), min_size=0, max_size=12))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=draw(st.sampled_from([",", ";", "\t", "|"])))
    if draw(st.booleans()) or rows:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(draw(ENCODINGS), errors="replace")


def _messages(error: ValidationError) -> list[str]:
    return [m for m in error.messages if m.strip()]


def _import(admin: Any, workshop: Workshop, content: bytes, options: dict[str, Any]) -> None:
    """Upload, map as the page suggests, start and run, checking each step's promise."""
    before = Lead.objects.filter(workshop=workshop).count()
    try:
        job, shape = import_services.import_upload(
            actor=admin, workshop=workshop, upload=SimpleUploadedFile("fuzz.csv", content)
        )
    except ValidationError as error:
        assert _messages(error), "an upload was refused without a message"
        event(f"upload refused: {_messages(error)[0][:50]}")
        return
    mapping = import_mapping.suggested_mapping(job, shape)
    mapping["options"].update(options)
    columns = mapping["columns"]
    if columns and not any(c.get("target") == "external_id" for c in columns.values()):
        # As a person would: take the first column as the lead's id (it may be a bad one).
        columns[next(iter(columns))] = {"target": "external_id"}
    try:
        import_services.import_start(actor=admin, job=job, mapping=mapping)
    except ValidationError as error:
        assert _messages(error), "a mapping was refused without a message"
        event("mapping refused")
        assert Lead.objects.filter(workshop=workshop).count() == before
        return
    job = import_run.import_run(job.pk)
    after = Lead.objects.filter(workshop=workshop).count()
    assert job.state in (ImportState.DONE, ImportState.FAILED), job.state
    event(f"import {job.state}" + (" with row errors" if job.errors else ""))
    if job.state == ImportState.FAILED:
        assert job.message.strip(), "a failed import says nothing"
        assert after == before, "a failed import left rows behind"
        return
    assert after == before + job.imported
    if options["all_or_nothing"]:
        assert job.errors == 0
    assert job.imported + job.updated <= job.rows_done


@settings(max_examples=80, deadline=None, suppress_health_check=SLOW_AND_SHARED)
@given(content=csv_files(), options=OPTIONS)
def test_any_table_is_imported_or_refused_with_a_message(
    admin: Any, content: bytes, options: dict[str, Any]
) -> None:
    workshop: Any = WorkshopFactory(actor=admin)
    _import(admin, workshop, content, options)
    # The same file again adds nothing: the external id makes re-imports idempotent.
    leads = Lead.objects.filter(workshop=workshop).count()
    _import(admin, workshop, content, options)
    assert Lead.objects.filter(workshop=workshop).count() == leads


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_AND_SHARED)
@given(content=st.binary(max_size=400), options=OPTIONS)
def test_any_bytes_are_imported_or_refused_with_a_message(
    admin: Any, content: bytes, options: dict[str, Any]
) -> None:
    workshop: Any = WorkshopFactory(actor=admin)
    _import(admin, workshop, content, options)
