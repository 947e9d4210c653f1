"""Imports that tell the truth: a re-import of the same file reports every row
unchanged and marks no backtest stale; a changed row is updated; rows rejected are
counted and shown as a warning with the reasons; the command's exit code says which."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from definitions.models import Workshop
from feedback.models import ImportState
from tests.factories import logged_in
from tests.feedback.imports.test_imports import HEADER, ROWS, run

pytestmark = pytest.mark.django_db


def test_reimporting_the_same_file_changes_nothing_and_says_so(
    admin: Any, workshop: Workshop
) -> None:
    first = run(admin, workshop, (HEADER + ROWS).encode())
    assert (first.imported, first.updated, first.unchanged) == (3, 0, 0)
    workshop.refresh_from_db()
    changed_at = workshop.leads_changed_at
    again = run(admin, workshop, (HEADER + ROWS).encode())
    assert (again.imported, again.updated, again.unchanged, again.errors) == (0, 0, 3, 0)
    workshop.refresh_from_db()
    assert workshop.leads_changed_at == changed_at  # no backtest goes stale
    edited = run(admin, workshop, (HEADER + ROWS.replace("Anna Rossi", "Anna Bianchi")).encode())
    assert (edited.imported, edited.updated, edited.unchanged) == (0, 1, 2)
    workshop.refresh_from_db()
    assert workshop.leads_changed_at != changed_at


def test_rejected_rows_end_in_a_warning_with_the_reasons_and_a_way_back_to_the_mapping(
    admin: Any, workshop: Workshop
) -> None:
    bad = HEADER + ROWS + "P4,Dan,dan@x.example,Webinar,US,lots,Student,yes\n"
    job = run(admin, workshop, bad.encode(), strict=True)
    assert job.state == ImportState.DONE and job.errors == 1 and job.imported == 3
    client = logged_in(admin)
    page = client.get(reverse("feedback:import_detail", args=[workshop.slug, job.pk]))
    text = page.content.decode()
    assert "1 of 4 rows rejected" in text
    assert 'id="rejection-reasons"' in text and "Annual revenue" in text
    back = client.post(reverse("feedback:import_remap", args=[workshop.slug, job.pk]))
    assert back.status_code == 302
    assert back["Location"] == reverse("feedback:import_mapping", args=[workshop.slug, job.pk])
    job.refresh_from_db()
    assert job.state == ImportState.UPLOADED
    assert client.get(back["Location"]).status_code == 200


def _command(
    tmp_path: Path, content: str, mapping: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any], str]:
    path = tmp_path / "leads.csv"
    path.write_text(content)
    args = ["--workshop", "acme", str(path)]
    if mapping is not None:
        (tmp_path / "mapping.json").write_text(json.dumps(mapping))
        args[2:2] = ["--mapping", str(tmp_path / "mapping.json")]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("import_leads", *args, stdout=out, stderr=err)
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    except SystemExit as exc:
        code = int(exc.code or 0)
    lines = out.getvalue().strip().splitlines()
    return code, (json.loads(lines[-1]) if lines else {}), err.getvalue()


MAPPING = {
    "version": 1,
    "options": {"strict": True},  # "lots" in a number column rejects its row
    "columns": {
        "Prospect ID": {"target": "external_id"},
        "Lead Name": {"target": "name"},
        "Email": {"target": "email"},
        "Annual revenue": {"target": "field", "field": "annual_revenue"},
    },
}


def test_the_command_exits_0_then_3_with_the_report_then_2(
    admin: Any, workshop: Workshop, tmp_path: Path
) -> None:
    code, result, _err = _command(tmp_path, HEADER + ROWS, MAPPING)
    assert code == 0 and result == {"imported": 3, "updated": 0, "unchanged": 0, "errors": 0}
    code, result, _err = _command(tmp_path, HEADER + ROWS, MAPPING)
    assert code == 0 and result["unchanged"] == 3
    code, result, err = _command(
        tmp_path, HEADER + ROWS + "P4,Dan,dan@x.example,Webinar,US,lots,Student,yes\n", MAPPING
    )
    assert code == 3 and result["errors"] == 1 and result["unchanged"] == 3
    report = Path(err.strip().splitlines()[-1].split(": ", 1)[1])
    assert report.is_file() and "lots" in report.read_text()
    code, _result, err = _command(tmp_path, "", MAPPING)
    assert code == 2 and "empty" in err
