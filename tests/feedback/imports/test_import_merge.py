"""The merge of staged rows into the lead table: a workshop's first import inserts
without looking for conflicts, later ones insert, update or leave unchanged, the last
row of an external id wins on either path, and the GIN indexes hold every new lead
when the import is done (nothing left in their pending lists)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from definitions.models import Workshop
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
