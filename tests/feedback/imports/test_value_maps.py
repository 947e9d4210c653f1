"""Value maps: a column's values recoded to a field's codes (in the mapping file and on
the mapping page), the outcome taken from any column, fields marked known only after
the outcome; a value the user chose to leave empty never rejects its row, and rows
that are rejected never read as a neutral "Done"."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from definitions.catalog.services import custom_field_add
from definitions.models import AuditLogEntry, CustomField, Workshop
from feedback.imports import mapping as import_mapping
from feedback.imports import run as import_run
from feedback.imports import services as import_services
from feedback.models import ImportJob, ImportMapping, ImportState, Lead
from tests.feedback.imports.test_imports import upload
from tests.htmlform import as_post, form_data

pytestmark = pytest.mark.django_db

DEALS = (
    "Deal ID,Deal Stage,Origin,Segment\n"
    "D1,Closed Won,Olark Chat,smb\n"
    "D2,closed-lost,Google,SMB\n"
    "D3,Negotiation,Carrier pigeon,enterprise\n"
    "D4,CLOSED WON ,Partner Referral,\n"
)


def import_with(admin: Any, workshop: Workshop, columns: dict[str, Any]) -> ImportJob:
    job, _shape = upload(admin, workshop, DEALS.encode())
    mapping = {"version": 1, "columns": {"Deal ID": {"target": "external_id"}, **columns}}
    import_services.import_start(actor=admin, job=job, mapping=mapping)
    return import_run.import_run(job.pk)


def outcomes(workshop: Workshop, field: str) -> dict[str, Any]:
    return dict(Lead.objects.filter(workshop=workshop).values_list("external_id", field))


def test_a_deal_stage_column_is_the_outcome_through_its_value_map(
    admin: Any, workshop: Workshop
) -> None:
    stage = {
        "target": "field",
        "field": "converted",
        "values": {"Closed Won": True, "Closed - Lost": False},
        "unmapped": "empty",
    }
    job = import_with(admin, workshop, {"Deal Stage": stage})
    assert (job.state, job.imported, job.errors) == (ImportState.DONE, 4, 0), job.error_report
    # Case, spaces and dashes do not matter; an open deal is an unknown outcome.
    assert outcomes(workshop, "converted") == {"D1": True, "D2": False, "D3": None, "D4": True}


@pytest.mark.parametrize(
    ("policy", "d3", "errors"),
    [
        ({"unmapped": "reject"}, None, 1),
        ({"unmapped": "empty"}, None, 0),
        ({"unmapped": "default", "default": "other"}, "other", 0),
    ],
    ids=["reject", "empty", "default"],
)
def test_values_the_map_does_not_name_are_rejected_left_empty_or_defaulted_as_chosen(
    admin: Any, workshop: Workshop, policy: dict[str, Any], d3: str | None, errors: int
) -> None:
    origin = {
        "target": "field",
        "field": "source",
        "values": {"olark chat": "chat", "GOOGLE": None, "partner-referral": "trusted_referral"},
        **policy,
    }
    job = import_with(admin, workshop, {"Origin": origin})
    assert job.errors == errors
    sources = outcomes(workshop, "source")
    assert (sources["D1"], sources["D2"], sources["D4"]) == ("chat", None, "trusted_referral")
    assert sources.get("D3") == d3
    if errors:
        assert "Origin,Carrier pigeon,not one of the allowed values" in job.error_report


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"field": "company", "values": {"x": "y"}}, "only into a choice or yes/no field"),
        ({"field": "source", "values": {"Google": "search"}}, "“search” is not a value"),
        ({"field": "source", "values": ["chat"]}, "must pair the file's values"),
        ({"field": "source", "unmapped": "ignore"}, "rejected, left empty or given"),
        ({"field": "source", "unmapped": "default"}, "choose the value other values"),
        ({"field": "converted", "values": {"Won": "maybe"}}, "“maybe” is not a value"),
    ],
)
def test_a_broken_value_map_is_refused_at_its_column_before_anything_is_stored(
    admin: Any, workshop: Workshop, entry: dict[str, Any], message: str
) -> None:
    job, _shape = upload(admin, workshop, DEALS.encode())
    mapping = {
        "columns": {"Deal ID": {"target": "external_id"}, "Origin": {"target": "field", **entry}}
    }
    with pytest.raises(ValidationError) as info:
        import_services.import_start(actor=admin, job=job, mapping=mapping)
    assert any(m.startswith("Column “Origin”") and message in m for m in info.value.messages)
    job.refresh_from_db()
    assert job.state == ImportState.UPLOADED and not Lead.objects.exists()


def test_a_mapping_marks_new_and_existing_custom_fields_known_only_after_the_outcome(
    admin: Any, workshop: Workshop
) -> None:
    custom_field_add(
        actor=admin, workshop=workshop, key="segment", label="Segment", type="text",
        category="firmographic",
    )  # fmt: skip
    import_with(
        admin,
        workshop,
        {
            "Segment": {"target": "field", "field": "segment", "after_outcome": True},
            "Deal Stage": {
                "target": "new_field",
                "key": "deal_stage",
                "type": "text",
                "after_outcome": True,
            },
            "Origin": {"target": "new_field", "key": "origin", "type": "text"},
        },
    )
    marks = dict(CustomField.objects.filter(workshop=workshop).values_list("key", "after_outcome"))
    assert marks == {"segment": True, "deal_stage": True, "origin": False}
    entry = AuditLogEntry.objects.get(action="definitions.field.marked_after_outcome")
    assert entry.data["fields"] == "segment"


def _mapping_page(client: Client, workshop: Workshop, content: str) -> tuple[str, str]:
    response = client.post(
        reverse("feedback:import_list", args=[workshop.slug]),
        {"kind": "leads", "file": SimpleUploadedFile("deals.csv", content.encode())},
    )
    url = response["Location"]
    return url, client.get(url).content.decode()


def test_the_mapping_page_names_the_values_without_a_code_and_the_users_choice_holds(
    admin: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(admin)
    content = DEALS.replace("Origin", "Lead Source")
    url, page = _mapping_page(client, workshop, content)
    assert 'id="col-2-values"' in page  # Lead Source → source, with its values table
    table = page.split('id="col-2-values"', 1)[1].split("</table>", 1)[0]
    assert "Carrier pigeon" in table and "no code yet" in table and "Olark Chat" in table
    data = form_data(page, "mapping-form")
    codes = {data[f"col-2-raw-{j}"]: data[f"col-2-code-{j}"] for j in range(4)}
    assert codes["Olark Chat"] == "chat" and codes["Carrier pigeon"] == ""
    assert data["col-2-unmapped"] == "default:other"
    # The user goes on, choosing to reject values without a code.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, as_post(data, **{"col-2-unmapped": "reject"}))
    assert response.status_code == 302, response.content.decode().split('role="alert"')[-1][:600]
    job = ImportJob.objects.get(workshop=workshop)
    assert (job.state, job.imported, job.errors) == (ImportState.DONE, 3, 1), job.error_report
    detail = client.get(response["Location"]).content.decode()
    assert "Finished with rejected rows" in detail and "1 of 4 rows rejected" in detail
    assert "<h2>Done</h2>" not in detail
    listing = client.get(reverse("feedback:import_list", args=[workshop.slug])).content.decode()
    assert "1 rows rejected" in listing


def test_a_value_left_empty_on_the_page_never_rejects_its_row(
    admin: Any, workshop: Workshop, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(admin)
    url, page = _mapping_page(client, workshop, DEALS.replace("Origin", "Lead Source"))
    data = form_data(page, "mapping-form")
    pigeon = next(j for j in range(4) if data[f"col-2-raw-{j}"] == "Carrier pigeon")
    overrides = {f"col-2-code-{pigeon}": "__empty", "col-2-unmapped": "reject"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, as_post(data, **overrides))
    job = ImportJob.objects.get(workshop=workshop)
    assert (job.imported, job.errors) == (4, 0), job.error_report
    assert Lead.objects.get(external_id="D3").source is None


def test_choosing_another_choice_field_on_the_page_asks_for_its_values_first(
    admin: Any, workshop: Workshop
) -> None:
    client = Client()
    client.force_login(admin)
    url, page = _mapping_page(client, workshop, DEALS)
    data = form_data(page, "mapping-form")
    assert data["col-1-target"] == "field:converted"  # "Deal Stage" with closed won/lost
    response = client.post(url, as_post(data, **{"col-1-target": "field:reached_stage"}))
    assert response.status_code == 400
    text = response.content.decode()
    assert "say below what each of its values becomes in “reached_stage”" in text
    assert 'name="col-1-for" value="reached_stage"' in text
    assert ImportJob.objects.get(workshop=workshop).state == ImportState.UPLOADED


def test_a_broken_value_code_posted_to_the_page_is_a_message_not_a_500(
    admin: Any, workshop: Workshop
) -> None:
    client = Client()
    client.force_login(admin)
    url, page = _mapping_page(client, workshop, DEALS.replace("Origin", "Lead Source"))
    data = form_data(page, "mapping-form")
    garbage = {"col-2-nvalues": "many", "col-2-unmapped": "default:teleport"}
    response = client.post(url, as_post(data, **garbage))
    assert response.status_code == 400
    assert "choose the value other values become" in response.content.decode()
    response = client.post(url, as_post(data, **{"col-2-code-0": "teleport"}))
    assert response.status_code == 400
    assert "“teleport” is not a value of “source”" in response.content.decode()
    assert not Lead.objects.exists()


def test_the_suggestion_for_a_deal_file_maps_stage_to_the_outcome(
    admin: Any, workshop: Workshop
) -> None:
    job, shape = upload(admin, workshop, DEALS.encode())
    mapping = import_mapping.suggested_mapping(job, shape)
    assert mapping["columns"]["Deal Stage"]["field"] == "converted"
    assert mapping["columns"]["Deal Stage"]["values"] == {
        "Closed Won": True,
        "closed-lost": False,
        "CLOSED WON": True,
    }


def test_a_saved_mapping_that_no_longer_fits_the_catalog_is_replaced_by_a_fresh_suggestion(
    admin: Any, workshop: Workshop
) -> None:
    import_with(
        admin,
        workshop,
        {"Segment": {"target": "new_field", "key": "segment", "type": "text"}},
    )
    ImportMapping.objects.filter(workshop=workshop).update(
        mapping={"columns": {"Deal ID": {"target": "external_id"},
                             "Segment": {"target": "field", "field": "gone"}}}
    )  # fmt: skip
    job, shape = upload(admin, workshop, DEALS.encode())
    mapping = import_mapping.suggested_mapping(job, shape)
    assert mapping["columns"]["Segment"] == {"target": "field", "field": "segment"}
    import_mapping.compile_plan(job, mapping)


def test_a_running_import_shows_rows_read_and_no_error_count_it_does_not_know_yet(
    admin: Any, workshop: Workshop
) -> None:
    job, _shape = upload(admin, workshop, DEALS.encode())
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.RUNNING, rows_done=3)
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("feedback:import_detail", args=[workshop.slug, job.pk]))
    text = page.content.decode()
    assert "3 rows read; rows are checked once all are read." in text
    assert "with errors" not in text
