"""The set-based import converts each distinct value once. On PostgreSQL, canonical
numbers and ISO dates are cast in SQL instead of parsed in Python; these tests hold
the two to the same answers, and check the cases that leave PostgreSQL's fast COPY
for the tolerant row-by-row reader."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from definitions.models import Workshop
from feedback.imports import convert as import_convert
from feedback.imports import mapping as import_mapping
from feedback.imports import read as tabular
from feedback.imports import run as import_run
from feedback.imports import services as import_services
from feedback.models import ImportState, Lead
from tests.feedback.imports.test_imports import run

pytestmark = pytest.mark.django_db

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the SQL fast path exists on PostgreSQL only"
)


def _sql_answer(check: str, cast: str, raw: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT CASE WHEN {check} THEN {cast} END FROM (SELECT %s::text AS raw) v",  # noqa: S608
            [raw],
        )
        return cursor.fetchone()[0]


def _sql(plan_type: str, kind: str, decimal: str = "auto") -> import_convert.ConversionSql:
    target = import_mapping.Target(0, "c", kind, "k", plan_type)
    plan = import_mapping.Plan(
        "leads", [target], {**import_mapping.default_options(), "decimal": decimal}
    )
    return import_convert.ConversionSql(plan, 1)


numbers = st.one_of(
    st.integers(-(10**15) + 1, 10**15 - 1).map(str),
    st.integers(0, 10**12).map(lambda n: f"{n:,}"),
    st.tuples(st.integers(0, 10**9), st.integers(0, 10**6)).map(lambda p: f"{p[0]:,}.{p[1]}"),
    st.tuples(st.integers(0, 10**6), st.integers(0, 999)).map(lambda p: f"{p[0]}.{p[1]:03d}"),
    st.text(alphabet="0123456789,.+-", max_size=24),
)


@needs_postgres
@settings(max_examples=300, deadline=None)
@given(raw=numbers, decimal=st.sampled_from(["auto", "dot", "comma"]))
def test_a_number_the_sql_cast_accepts_reads_as_python_reads_it(raw: str, decimal: str) -> None:
    sql = _sql("number", "builtin", decimal)
    target = sql.plan.targets[0]
    answer = _sql_answer(sql.fast(target, "raw") or "false", sql.cast(target, "raw"), raw)
    if answer is not None:
        assert answer == tabular.parse_number(raw, decimal)


moments = st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31))
zones = st.sampled_from(["", "Z", "+00:00", "+05:30", "-08:00", "+23:59"])
shapes = st.sampled_from(
    ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"]
)


@needs_postgres
@settings(max_examples=300, deadline=None)
@given(moment=moments, zone=zones, shape=shapes, kind=st.sampled_from(["builtin", "custom", "at"]))
def test_an_iso_date_the_sql_cast_accepts_reads_as_python_reads_it(
    moment: datetime, zone: str, shape: str, kind: str
) -> None:
    raw = moment.strftime(shape) + zone
    sql = _sql("date", kind)
    target = sql.plan.targets[0]
    answer = _sql_answer(sql.fast(target, "raw") or "false", sql.cast(target, "raw"), raw)
    if answer is not None:
        assert answer == import_convert.convert_value(target, raw, sql.plan.options), raw


@needs_postgres
def test_the_fast_path_takes_the_canonical_forms_and_leaves_the_rest_to_python() -> None:
    sql = _sql("date", "builtin")
    target = sql.plan.targets[0]
    check = sql.fast(target, "raw") or "false"
    cast = sql.cast(target, "raw")
    assert _sql_answer(check, cast, "2026-05-08T10:00:00+02:00") == datetime(
        2026, 5, 8, 8, tzinfo=UTC
    )
    for raw in ("2026-02-30", "2026-05-31", "08/05/2026", "2026-05-08+02:00", "0000-01-01"):
        assert _sql_answer(check, cast, raw) is None, raw


def test_a_line_that_would_end_a_postgres_copy_early_is_imported_as_data(
    admin: Any, workshop: Workshop
) -> None:
    content = "Prospect ID,Lead Name\nP1,Anna\n\\.\nP2,Bob\n"
    job = run(admin, workshop, content.encode())
    assert job.state == ImportState.DONE, job.message
    assert set(Lead.objects.filter(workshop=workshop).values_list("external_id", flat=True)) == {
        "P1",
        "\\.",
        "P2",
    }


def test_values_outside_the_fast_path_still_convert_through_python(
    admin: Any, workshop: Workshop
) -> None:
    content = (
        "Prospect ID,Created,Annual revenue\n"
        'P1,2026-01-31,"$1.200,50"\n'
        "P2,31/01/2026,12%\n"
        "P3,2026-02-30,\n"
        "P4,2026-01-10T10:00:00+23:59,\n"
    )
    job = run(admin, workshop, content.encode(), date_order="dmy", strict=True)
    assert (job.imported, job.errors) == (3, 1), job.error_report
    p1 = Lead.objects.get(workshop=workshop, external_id="P1")
    p2 = Lead.objects.get(workshop=workshop, external_id="P2")
    assert p1.created_at == p2.created_at == datetime(2026, 1, 31, tzinfo=UTC)
    assert (p1.annual_revenue, p2.annual_revenue) == (1200.5, 0.12)
    assert "4,Created,2026-02-30,not a date" in job.error_report
    # An offset PostgreSQL would refuse is read by Python and stored in UTC.
    p4 = Lead.objects.get(workshop=workshop, external_id="P4")
    assert p4.created_at == datetime(2026, 1, 9, 10, 1, tzinfo=UTC)


def test_an_empty_cell_on_reimport_unsets_a_custom_value(admin: Any, workshop: Workshop) -> None:
    run(admin, workshop, b"Prospect ID,Occupation\nP1,Student\n")
    assert Lead.objects.get(workshop=workshop, external_id="P1").custom == {"occupation": "Student"}
    job = run(admin, workshop, b"Prospect ID,Occupation\nP1,\n")
    assert (job.updated, job.errors) == (1, 0)
    assert Lead.objects.get(workshop=workshop, external_id="P1").custom == {}


def test_a_new_choice_column_with_too_many_values_fails_with_advice(
    admin: Any, workshop: Workshop
) -> None:
    rows = "".join(f"P{i},value {i}\n" for i in range(import_convert.MAX_NEW_CHOICES + 1))
    job, shape = import_services.import_upload(
        actor=admin,
        workshop=workshop,
        upload=SimpleUploadedFile("c.csv", ("Prospect ID,Tier\n" + rows).encode()),
    )
    mapping = import_mapping.suggested_mapping(job, shape)
    mapping["columns"]["Tier"] = {"target": "new_field", "key": "tier", "type": "choice"}
    import_services.import_start(actor=admin, job=job, mapping=mapping)
    job = import_run.import_run(job.pk)
    assert job.state == ImportState.FAILED
    assert "more than 200 different values" in job.message
    assert not Lead.objects.filter(workshop=workshop).exists()


def test_a_null_token_that_looks_like_a_number_is_still_empty(
    admin: Any, workshop: Workshop
) -> None:
    # "0" is also a plain number that SQL could cast on its own; the admin's null
    # tokens come first.
    content = "Prospect ID,Annual revenue,Created\nP1,0,0\nP2, 1500 , 2026-03-04 \n"
    job = run(
        admin,
        workshop,
        content.encode(),
        null_tokens=[*import_mapping.default_options()["null_tokens"], "0"],
    )
    assert (job.imported, job.errors) == (2, 0), job.error_report
    p1 = Lead.objects.get(workshop=workshop, external_id="P1")
    p2 = Lead.objects.get(workshop=workshop, external_id="P2")
    assert (p1.annual_revenue, p1.created_at) == (None, None)
    # Padded cells are trimmed before the pattern is tried.
    assert (p2.annual_revenue, p2.created_at) == (1500, datetime(2026, 3, 4, tzinfo=UTC))


def test_one_column_mixing_exact_and_other_forms_converts_every_cell(
    admin: Any, workshop: Workshop
) -> None:
    rows = [f"P{i},2026-01-{i:02d},{i * 1000}" for i in range(1, 29)]
    rows += ['Q1,29/01/2026,"1.234,5"', "Q2,N/A,-", "Q3,not a date,lots"]
    content = "Prospect ID,Created,Annual revenue\n" + "\n".join(rows) + "\n"
    job = run(admin, workshop, content.encode(), date_order="dmy", strict=True)
    assert (job.imported, job.errors) == (30, 1), job.error_report
    by_id = {lead.external_id: lead for lead in Lead.objects.filter(workshop=workshop)}
    assert by_id["P7"].created_at == datetime(2026, 1, 7, tzinfo=UTC)
    assert by_id["P7"].annual_revenue == 7000
    assert by_id["Q1"].created_at == datetime(2026, 1, 29, tzinfo=UTC)
    assert by_id["Q1"].annual_revenue == 1234.5
    assert (by_id["Q2"].created_at, by_id["Q2"].annual_revenue) == (None, None)
    assert "Q3" not in by_id
    assert "not a date" in job.error_report
