"""The merge of staged rows into the lead table: a workshop's first import inserts
without looking for conflicts, later ones insert, update or leave unchanged, the last
row of an external id wins on either path, and the GIN indexes hold every new lead
when the import is done (nothing left in their pending lists)."""

from __future__ import annotations

import logging
import re
from typing import Any

import psycopg
import pytest
from django.db import connection

from definitions.catalog import services as catalog_services
from definitions.models import Workshop
from feedback.imports import run as import_run
from feedback.leads.services import search_text
from feedback.models import ImportState, Lead
from tests.feedback.imports.test_imports import HEADER, ROWS, run

pytestmark = pytest.mark.django_db

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="GIN indexes exist on PostgreSQL only"
)


def _counts(job: Any) -> tuple[Any, ...]:
    return (job.state, job.imported, job.updated, job.unchanged, job.errors)


def test_a_second_import_inserts_the_new_updates_the_changed_and_skips_the_same(
    admin: Any, workshop: Workshop
) -> None:
    first = run(admin, workshop, (HEADER + ROWS).encode())
    assert _counts(first) == (ImportState.DONE, 3, 0, 0, 0)
    changed = ROWS.replace("anna@x.example", "anna@new.example")
    second = run(admin, workshop, (HEADER + changed + "P4,Dee Lane,dee@w.example,,,,,\n").encode())
    assert _counts(second) == (ImportState.DONE, 1, 1, 2, 0)
    assert Lead.objects.get(workshop=workshop, external_id="P1").email == "anna@new.example"
    assert Lead.objects.filter(workshop=workshop).count() == 4


@pytest.mark.parametrize("earlier", [False, True], ids=["first import", "later import"])
def test_the_last_row_of_an_external_id_that_appears_twice_wins(
    admin: Any, workshop: Workshop, earlier: bool
) -> None:
    if earlier:
        run(admin, workshop, (HEADER + ROWS).encode())
    twice = ROWS + "P2,Bob Stone,bob@later.example,Chat,CA,,Student,No\n"
    job = run(admin, workshop, (HEADER + twice).encode())
    assert job.state == ImportState.DONE and job.errors == 0
    assert Lead.objects.get(workshop=workshop, external_id="P2").email == "bob@later.example"
    assert Lead.objects.filter(workshop=workshop).count() == 3
    # Three leads from four good rows: each external id counts once.
    assert job.imported + job.updated + job.unchanged == 3


@needs_postgres
def test_an_import_leaves_nothing_in_the_gin_pending_lists_and_search_finds_it(
    admin: Any, workshop: Workshop
) -> None:
    run(admin, workshop, (HEADER + ROWS).encode())
    with connection.cursor() as cursor:
        # Folding a pending list in returns how many pages it held: none are left.
        cursor.execute(
            "SELECT c.relname, gin_clean_pending_list(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
            " WHERE i.indrelid = 'feedback_lead'::regclass AND a.amname = 'gin'"
        )
        pending = dict(cursor.fetchall())
    assert set(pending) >= {"lead_search_trgm", "lead_filter_tokens", "lead_f_custom"}
    assert set(pending.values()) == {0}
    found = Lead.objects.filter(workshop=workshop, search_text__contains="chloé")
    assert [lead.external_id for lead in found] == ["P3"]


def _lead_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = 'feedback_lead'::regclass"
        )
        return dict(cursor.fetchall())


@needs_postgres
def test_a_large_first_import_into_a_young_table_builds_the_same_indexes_after_loading(
    admin: Any, workshop: Workshop, settings: Any, caplog: Any
) -> None:
    before = _lead_indexes()
    settings.IMPORT_REBUILD_MIN_ROWS = 3  # "large": these three rows
    job = run(admin, workshop, (HEADER + ROWS).encode())
    assert _counts(job) == (ImportState.DONE, 3, 0, 0, 0)
    assert _lead_indexes() == before
    assert "updated row by row" not in caplog.text
    anna = Lead.objects.get(workshop=workshop, search_text__contains="anna rossi")
    assert Lead.objects.filter(workshop=workshop, country__iexact="us").get() == anna


@needs_postgres
def test_the_first_import_updates_the_indexes_row_by_row_when_the_table_is_busy(
    admin: Any, workshop: Workshop, settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    settings.IMPORT_REBUILD_MIN_ROWS = 3
    monkeypatch.setattr(import_run, "REBUILD_LOCK_WAIT", "200ms")
    before = _lead_indexes()
    params = connection.get_connection_params()
    with psycopg.connect(**params) as reader:  # another request, reading leads
        reader.execute("BEGIN")
        reader.execute("LOCK TABLE feedback_lead IN ACCESS SHARE MODE")
        with caplog.at_level(logging.INFO, logger="feedback.imports.run"):
            job = run(admin, workshop, (HEADER + ROWS).encode())
        reader.execute("ROLLBACK")
    assert _counts(job) == (ImportState.DONE, 3, 0, 0, 0)
    assert "updated row by row" in caplog.text
    assert _lead_indexes() == before


def test_a_new_and_an_updated_lead_search_the_same_custom_values_as_the_lead_service(
    admin: Any, workshop: Workshop
) -> None:
    # The insert reads the staged custom values by name, the update expands the merged
    # object: both must write what leads.services.search_text writes, in key order.
    for key, kind in [("zeta_note", "text"), ("alpha_seats", "number"), ("mid_flag", "boolean")]:
        catalog_services.custom_field_add(
            actor=admin, workshop=workshop, key=key, label=key, type=kind, category="firmographic"
        )
    header = "Prospect ID,Lead Name,Email,zeta_note,alpha_seats,mid_flag\n"
    keys = ("zeta_note", "alpha_seats", "mid_flag")
    columns = {name: {"target": "field", "field": name} for name in keys}
    rows = "P1,Anna Rossi,anna@x.example,Big Fish,12,yes\nP2,Bob Stone,,,,no\n"
    run(admin, workshop, (header + rows).encode(), columns)

    def expected(lead: Lead) -> str:
        return search_text(lead.name, lead.email, lead.company, lead.external_id, lead.custom)

    first = {lead.external_id: lead for lead in Lead.objects.filter(workshop=workshop)}
    assert first["P1"].search_text == expected(first["P1"])
    # Key order: alpha_seats (12, or 12.0 as SQLite's JSON keeps it), mid_flag, zeta_note.
    assert re.search(r" 12(\.0)? true big fish$", first["P1"].search_text)
    assert first["P2"].search_text.endswith("false")
    changed = rows.replace("Big Fish", "Small Fry")
    job = run(admin, workshop, (header + changed).encode(), columns)
    assert (job.updated, job.unchanged) == (1, 1)
    anna = Lead.objects.get(workshop=workshop, external_id="P1")
    assert anna.search_text == expected(anna) and anna.search_text.endswith("true small fry")
