"""Cells and values a real export carries: a cell that cannot be read is left empty
with a warning (or, strict, rejects its row); a choice column's values that will not
map are named before the import, reject their rows (exit 3, the warning state) or
become new choices; dates of mixed patterns in one column are each read their own
way; re-importing the same values reports them unchanged on either database."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from definitions.catalog import services as catalog_services
from definitions.models import CustomField, Workshop
from feedback.imports import mapping as import_mapping
from feedback.models import ImportJob, ImportState, Lead
from tests.factories import logged_in
from tests.feedback.imports.test_imports import run, upload

pytestmark = pytest.mark.django_db

MESSY = (
    "Prospect ID,Created,Employees,Annual revenue,Converted\n"
    "P1,2026-01-31,120,1000,yes\n"
    "P2,someday,about 50,2000,no\n"  # two cells that cannot be read
    "P3,2026-02-01,30,n/a,maybe\n"  # the outcome cannot be read
)

OUTCOME = {"Converted": {"target": "field", "field": "converted"}}


def test_a_cell_that_cannot_be_read_is_left_empty_and_listed_and_its_row_imports(
    admin: Any, workshop: Workshop
) -> None:
    # Converted with no value map: a yes/no that is neither is no outcome to guess.
    job = run(admin, workshop, MESSY.encode(), OUTCOME)
    assert (job.state, job.imported, job.errors, job.warnings) == (ImportState.DONE, 2, 1, 2)
    p2 = Lead.objects.get(workshop=workshop, external_id="P2")
    assert (p2.created_at, p2.employees, p2.annual_revenue) == (None, None, 2000)
    assert not Lead.objects.filter(external_id="P3").exists()  # the outcome is no guess
    assert "3,Created,someday,not a date,left empty; the row was imported" in job.error_report
    assert "3,Employees,about 50,not a number,left empty" in job.error_report
    assert "4,Converted,maybe,not yes/no," in job.error_report
    page = logged_in(admin).get(reverse("feedback:import_detail", args=["acme", job.pk]))
    text = page.content.decode()
    assert 'id="import-cell-warnings"' in text and "2 cells could not be read" in text
    # Only the rejected row is among the most common reasons for rejection.
    reasons = text.split('id="rejection-reasons"', 1)[1].split("</table>", 1)[0]
    assert "Converted" in reasons and "Created" not in reasons


def test_strict_rejects_a_row_with_a_cell_that_cannot_be_read(
    admin: Any, workshop: Workshop
) -> None:
    job = run(admin, workshop, MESSY.encode(), OUTCOME, strict=True)
    assert (job.imported, job.errors, job.warnings) == (1, 2, 0)
    assert list(Lead.objects.values_list("external_id", flat=True)) == ["P1"]


TIERS = "Account ID,Tier\nA1,Gold\nA2,gold \nA3,Bronze\nA4,Platinum\nA5,Bronze\nA6,\n"


@pytest.fixture
def tier(admin: Any, workshop: Workshop) -> CustomField:
    return catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="tier",
        label="Tier",
        type="choice",
        category="firmographic",
        choices=["Gold", "Silver"],
    )


def test_values_that_will_not_map_are_named_before_the_import_then_rejected_with_exit_3(
    admin: Any, workshop: Workshop, tier: CustomField, tmp_path: Path
) -> None:
    path = tmp_path / "accounts.csv"
    path.write_text(TIERS)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_leads", "--workshop", "acme", "--dry-run", str(path), stdout=out,
                 stderr=err)  # fmt: skip
    assert json.loads(out.getvalue())["columns"]["Tier"]["field"] == "tier"
    assert "“Bronze” (2), “Platinum” (1)" in err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("import_leads", "--workshop", "acme", str(path), stdout=out, stderr=err)
    assert exited.value.code == 3
    assert json.loads(out.getvalue().strip().rsplit("\n", 1)[1])["errors"] == 3
    assert "“Bronze” (2)" in err.getvalue() and "3 rows rejected" in err.getvalue()
    # The page that shows the import ends in the warning state.
    job = ImportJob.objects.get(workshop=workshop)
    page = logged_in(admin).get(reverse("feedback:import_detail", args=["acme", job.pk]))
    assert 'id="import-warning"' in page.content.decode()
    assert "3 of 6 rows rejected" in page.content.decode()


def test_the_mapping_page_names_the_values_that_will_not_map(
    admin: Any, workshop: Workshop, tier: CustomField
) -> None:
    job, _shape = upload(admin, workshop, TIERS.encode())
    page = logged_in(admin).get(reverse("feedback:import_mapping", args=["acme", job.pk]))
    text = page.content.decode()
    warning = text.split('id="unmapped-values"', 1)[1].split("</section>", 1)[0]
    assert "“Bronze” (2 rows)" in warning and "“Platinum” (1 row)" in warning
    assert "Gold" not in warning
    assert 'name="col-1-addchoices"' in text


def test_the_files_new_values_can_become_choices_of_the_field(
    admin: Any, workshop: Workshop, tier: CustomField
) -> None:
    entry = {"target": "field", "field": "tier", "add_choices": True}
    job = run(admin, workshop, TIERS.encode(), {"Tier": entry})
    assert (job.imported, job.errors) == (6, 0)
    tier.refresh_from_db()
    assert tier.choices == ["Gold", "Silver", "Bronze", "Platinum"]
    tiers = dict(Lead.objects.values_list("external_id", "custom"))
    assert tiers["A2"] == {"tier": "Gold"} and tiers["A4"] == {"tier": "Platinum"}
    with pytest.raises(Exception, match="only a custom choice field"):
        import_mapping.compile_plan(
            job,
            {"columns": {"Account ID": {"target": "external_id"},
                         "Tier": {"target": "field", "field": "source", "add_choices": True}}},
        )  # fmt: skip


def test_dates_of_two_patterns_in_one_column_are_each_read_their_own_way(
    admin: Any, workshop: Workshop
) -> None:
    content = (
        "Prospect ID,Create Date\n"
        "P1,5/26/2021 17:27\n"  # a spreadsheet's month/day/year
        "P2,06/01/2021 08:00\n"
        "P3,13-06-2021 20:28\n"  # the CRM's own day-month-year
        "P4,06-01-2021 20:28\n"
    )
    job, shape = upload(admin, workshop, content.encode())
    mapping = import_mapping.suggested_mapping(job, shape)
    assert mapping["columns"]["Create Date"]["date_orders"] == {"/": "mdy", "-": "dmy"}
    page = logged_in(admin).get(reverse("feedback:import_mapping", args=["acme", job.pk]))
    readings = page.content.decode().split('id="col-1-dates"', 1)[1].split("</ul>", 1)[0]
    assert "“5/26/2021 17:27”: read as month/day/year" in readings
    assert "“13-06-2021 20:28”: read as day/month/year" in readings
    job = run(admin, workshop, content.encode())
    assert (job.imported, job.errors, job.warnings) == (4, 0, 0)
    created = dict(Lead.objects.values_list("external_id", "created_at"))
    assert created == {
        "P1": datetime(2021, 5, 26, 17, 27, tzinfo=UTC),
        "P2": datetime(2021, 6, 1, 8, 0, tzinfo=UTC),
        "P3": datetime(2021, 6, 13, 20, 28, tzinfo=UTC),
        "P4": datetime(2021, 1, 6, 20, 28, tzinfo=UTC),
    }


def test_reimporting_a_file_that_fills_some_of_a_leads_custom_fields_reports_it_unchanged(
    admin: Any, workshop: Workshop
) -> None:
    """The second file maps two of the three custom fields the first one created: on
    SQLite the rewritten JSON has its keys in another order, and that is no change."""
    run(admin, workshop, b"Id,Alpha,Beta,Gamma\nL1,a,b,c\nL2,x,y,z\n")
    partial = b"Id,Alpha,Gamma\nL1,a,c\nL2,x,z\n"
    columns = {
        "Alpha": {"target": "field", "field": "alpha"},
        "Gamma": {"target": "field", "field": "gamma"},
    }
    first = run(admin, workshop, partial, columns)
    again = run(admin, workshop, partial, columns)
    assert (first.updated, first.unchanged) == (again.updated, again.unchanged) == (0, 2)
    changed = run(admin, workshop, b"Id,Alpha,Gamma\nL1,a,C\nL2,x,z\n", columns)
    assert (changed.updated, changed.unchanged) == (1, 1)
    assert Lead.objects.get(external_id="L1").custom == {"alpha": "a", "beta": "b", "gamma": "C"}


def test_a_broken_date_order_or_strict_option_is_refused(admin: Any, workshop: Workshop) -> None:
    job, _shape = upload(admin, workshop, b"Id,When\n1,1/2/2020\n")
    with pytest.raises(Exception, match="date orders"):
        import_mapping.compile_plan(
            job,
            {"columns": {"Id": {"target": "external_id"},
                         "When": {"target": "field", "field": "created_at",
                                  "date_orders": {"/": "ydm"}}}},
        )  # fmt: skip
    with pytest.raises(Exception, match="strict"):
        import_mapping.compile_plan(
            job, {"options": {"strict": "yes"}, "columns": {"Id": {"target": "external_id"}}}
        )


def test_evaluate_and_accuracy_take_a_draft(admin: Any, workshop: Workshop) -> None:
    from definitions import rules
    from definitions.models import Proposal

    run(admin, workshop, b"Id,Employees\n1,500\n2,5\n")
    draft = Proposal.objects.create(
        workshop=workshop, author=admin, title="Try", document=rules.WORKED_EXAMPLE
    )
    out = io.StringIO()
    call_command("evaluate", "--workshop", "acme", "--draft", str(draft.pk), stdout=out,
                 stderr=io.StringIO())  # fmt: skip
    assert json.loads(out.getvalue())["leads"] == 2
    out = io.StringIO()
    call_command("accuracy", "--workshop", "acme", "--draft", str(draft.pk), stdout=out)
    printed = json.loads(out.getvalue())
    assert (printed["draft"], printed["version"], printed["verdicts_counted"]) == (
        draft.pk,
        None,
        "both",
    )
    with pytest.raises(CommandError) as caught:
        call_command("accuracy", "--workshop", "acme", "--draft", "999999")
    assert caught.value.returncode == 2
