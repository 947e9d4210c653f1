from __future__ import annotations

import dataclasses
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from definitions import rules
from definitions.authoring import services as authoring_services
from definitions.catalog import services as catalog_services
from definitions.models import (
    CustomField,
    Proposal,
    PublishedVersionIsImmutable,
    Version,
    Workshop,
)
from definitions.versions import services as version_services
from tests.factories import logged_in
from tests.htmlform import as_post, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(admin: Any, workshop: Workshop, v1: Version) -> Proposal:
    return authoring_services.proposal_create(actor=admin, workshop=workshop, title="Stricter")


def builder_url(draft: Proposal) -> str:
    return reverse("definitions:draft_builder", args=[draft.workshop.slug, draft.pk])


def builder_form(client: Client, draft: Proposal) -> Any:
    page = client.get(builder_url(draft))
    assert page.status_code == 200
    return form_data(page.content.decode(), "builder")


# ----------------------------------------------------------------- builder


def test_a_new_draft_starts_from_the_current_version(draft: Proposal, v1: Version) -> None:
    assert draft.parent == v1
    assert draft.document == v1.document


def test_the_builder_form_posts_back_exactly_the_document_it_shows(
    admin: Any, draft: Proposal
) -> None:
    client = logged_in(admin)
    data = builder_form(client, draft)
    response = client.post(builder_url(draft), as_post(data, action="save"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.revision == 2
    expected = rules.to_json(
        rules.parse(rules.WORKED_EXAMPLE, rules.DEFAULT_CATALOG).definition  # type: ignore[arg-type]
    )
    assert json.dumps(draft.document, indent=1, sort_keys=True) == json.dumps(
        expected, indent=1, sort_keys=True
    )


def test_adding_a_criterion_to_a_group_shows_it_focused_without_saving(
    marketer: Any, draft: Proposal
) -> None:
    client = logged_in(marketer)
    data = builder_form(client, draft)
    root_id = draft.document["qualify"]["id"]
    response = client.post(
        builder_url(draft),
        as_post(data, action=f"add_field:{root_id}"),
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<form id="builder"')
    assert body.count(" autofocus") == 1
    draft.refresh_from_db()
    assert draft.revision == 1  # only "save" saves


def test_the_operator_list_follows_the_field_type(admin: Any, draft: Proposal) -> None:
    client = logged_in(admin)
    data = builder_form(client, draft)
    criterion = next(
        c for c in draft.document["qualify"]["any"][1]["all"] if c["field"] == "annual_revenue"
    )
    key = f"n-{criterion['id']}"
    response = client.post(
        builder_url(draft), as_post(data, **{f"{key}-field": "seniority", "action": "refresh"})
    )
    html = response.content.decode()
    after = form_data(html, "builder")
    assert after.get(f"{key}-op") == "eq"  # gte is not an operator for a choice field
    assert f'name="{key}-value"' in html and '<option value="vp"' in html


def test_a_bad_value_is_shown_at_its_criterion_and_nothing_is_saved(
    admin: Any, draft: Proposal
) -> None:
    client = logged_in(admin)
    data = builder_form(client, draft)
    criterion = next(
        c for c in draft.document["qualify"]["any"][1]["all"] if c["field"] == "annual_revenue"
    )
    key = f"n-{criterion['id']}"
    response = client.post(
        builder_url(draft), as_post(data, **{f"{key}-value": "lots", "action": "save"})
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="node-{criterion["id"]}-errors"' in html
    assert "is not a number" in html
    draft.refresh_from_db()
    assert draft.revision == 1


def test_removing_and_moving_criteria(admin: Any, draft: Proposal) -> None:
    client = logged_in(admin)
    group = draft.document["qualify"]["any"][1]
    first, second = group["all"][0]["id"], group["all"][1]["id"]
    data = builder_form(client, draft)
    after_move = form_data(
        client.post(builder_url(draft), as_post(data, action=f"down:{first}")).content.decode(),
        "builder",
    )
    order = after_move.getlist("order")
    assert order.index(second) < order.index(first)
    after_remove = form_data(
        client.post(
            builder_url(draft), as_post(after_move, action=f"remove:{first}")
        ).content.decode(),
        "builder",
    )
    assert first not in after_remove.getlist("order")


def test_two_people_saving_the_same_revision_never_overwrite_each_other(
    admin: Any, marketer: Any, draft: Proposal
) -> None:
    alice, bob = logged_in(admin), logged_in(marketer)
    alice_form, bob_form = builder_form(alice, draft), builder_form(bob, draft)
    assert (
        alice.post(
            builder_url(draft), as_post(alice_form, title="Alice's", action="save")
        ).status_code
        == 302
    )
    response = bob.post(
        builder_url(draft),
        as_post(bob_form, title="Bob's", action="save"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert "someone else saved this draft" in response.content.decode()
    assert "Reload the latest revision" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.title, draft.revision) == ("Alice's", 2)


def test_the_service_refuses_a_stale_revision(admin: Any, draft: Proposal) -> None:
    authoring_services.proposal_save_document(
        actor=admin, proposal=draft, document=draft.document, expected_revision=1
    )
    with pytest.raises(authoring_services.StaleRevision):
        authoring_services.proposal_save_document(
            actor=admin, proposal=draft, document=draft.document, expected_revision=1
        )


def test_a_viewer_sees_the_builder_read_only(viewer: Any, draft: Proposal) -> None:
    html = logged_in(viewer).get(builder_url(draft)).content.decode()
    assert "Save draft" not in html
    assert '<fieldset class="section" disabled>' in html


def test_the_builder_shows_the_changes_against_the_parent(admin: Any, draft: Proposal) -> None:
    client = logged_in(admin)
    data = builder_form(client, draft)
    html = client.post(
        builder_url(draft), as_post(data, mql="55", action="refresh")
    ).content.decode()
    assert "MQL threshold" in html and "55" in html


# ----------------------------------------------------------------- versions


def test_a_published_version_cannot_be_changed(v1: Version) -> None:
    v1.document = {"tampered": True}
    with pytest.raises(PublishedVersionIsImmutable):
        v1.save()
    v1.refresh_from_db()
    assert "tampered" not in v1.document


def test_versions_are_numbered_one_after_another(
    admin: Any, workshop: Workshop, v1: Version
) -> None:
    v2 = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.SALES_LEANING_EXAMPLE, parent=v1
    )
    assert (v1.number, v2.number) == (1, 2)


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_a_version_exports_as_json_and_markdown(admin: Any, v1: Version, fmt: str) -> None:
    response = logged_in(admin).get(
        reverse("definitions:version_export", args=[v1.workshop.slug, 1, fmt])
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    if fmt == "json":
        assert json.loads(body) == v1.document
    else:
        assert "A lead is anyone who" in body and "```json" in body


def test_an_unknown_export_format_is_not_found(admin: Any, v1: Version) -> None:
    url = reverse("definitions:version_export", args=[v1.workshop.slug, 1, "exe"])
    assert logged_in(admin).get(url).status_code == 404


def test_the_print_page_has_the_written_definition(viewer: Any, v1: Version) -> None:
    html = (
        logged_in(viewer)
        .get(reverse("definitions:version_print", args=[v1.workshop.slug, 1]))
        .content.decode()
    )
    assert "Annual revenue is at least 300M" in html
    assert "<nav" not in html


def test_the_written_definition_reads_in_italian(admin: Any, v1: Version) -> None:
    client = logged_in(admin)
    client.post(reverse("set_language"), {"language": "it", "next": "/"})
    html = client.get(
        reverse("definitions:definition_home", args=[v1.workshop.slug])
    ).content.decode()
    assert "Fatturato annuo" in html or "fatturato annuo" in html


# ----------------------------------------------------------------- import


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested more than 32 levels deep"),
        (b'{"schema_version": 1}', "Missing required key"),
        (
            json.dumps({**rules.WORKED_EXAMPLE, "stages": {"mql": "high", "sql": 70}}).encode(),
            "stages.mql",
        ),
        (
            json.dumps(
                {
                    **rules.WORKED_EXAMPLE,
                    "qualify": {
                        "id": "g",
                        "any": [{"id": "x", "field": "shoe_size", "op": "eq", "value": 1}],
                    },
                }
            ).encode(),
            "Unknown field",
        ),
        (b"x" * 1_100_000, "larger than 1 MB"),
    ],
    ids=["malformed", "binary", "deep", "missing-keys", "wrong-type", "unknown-field", "huge"],
)
def test_a_bad_import_lists_its_errors_and_saves_nothing(
    admin: Any, workshop: Workshop, content: bytes, expected: str
) -> None:
    before = Proposal.objects.count()
    response = logged_in(admin).post(
        reverse("definitions:draft_import", args=[workshop.slug]),
        {"title": "x", "file": SimpleUploadedFile("d.json", content, "application/json")},
    )
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert Proposal.objects.count() == before


def test_a_valid_import_becomes_a_draft(admin: Any, workshop: Workshop) -> None:
    response = logged_in(admin).post(
        reverse("definitions:draft_import", args=[workshop.slug]),
        {"title": "", "text": json.dumps(rules.WORKED_EXAMPLE)},
    )
    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == builder_url(proposal)


def test_the_command_line_round_trips_a_definition(
    workshop: Workshop, v1: Version, tmp_path: Path
) -> None:
    out = StringIO()
    call_command("definition_export", "--workshop", "acme", "--version", "1", stdout=out)
    path = tmp_path / "v1.json"
    path.write_text(out.getvalue())
    out = StringIO()
    call_command("definition_import", "--workshop", "acme", str(path), stdout=out)
    draft_id = int(out.getvalue().split()[1])
    assert Proposal.objects.get(pk=draft_id).document == v1.document


def test_the_command_line_import_exits_2_with_every_error(
    workshop: Workshop, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {"schema_version": 1, "qualify": {"id": "g", "any": []}, "stages": {"mql": 9, "sql": 1}}
        )
    )
    err = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("definition_import", "--workshop", "acme", str(path), stderr=err)
    assert info.value.returncode == 2
    assert "qualify.any" in err.getvalue() and "stages.sql" in err.getvalue()
    assert not Proposal.objects.exists()


# ----------------------------------------------------------------- catalog


def test_an_admin_adds_a_choice_field_that_the_builder_offers(
    admin: Any, workshop: Workshop, draft: Proposal
) -> None:
    client = logged_in(admin)
    response = client.post(
        reverse("definitions:catalog_field_add", args=[workshop.slug]),
        {
            "field-label": "Occupation",
            "field-key": "",
            "field-type": "choice",
            "field-category": "demographic",
            "field-choices": "Student\nWorking professional\n\nStudent",
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get(workshop=workshop)
    assert (field.key, field.choices) == ("occupation", ["Student", "Working professional"])
    assert '<option value="occupation"' in client.get(builder_url(draft)).content.decode()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"field-key": "industry", "field-type": "text"}, "built-in field"),
        ({"field-key": "Bad Key!", "field-type": "text"}, "Lower-case letters"),
        ({"field-key": "occupation", "field-type": "choice"}, "at least one allowed value"),
    ],
)
def test_bad_custom_fields_are_refused_at_the_field(
    admin: Any, workshop: Workshop, data: dict[str, str], error: str
) -> None:
    response = logged_in(admin).post(
        reverse("definitions:catalog_field_add", args=[workshop.slug]),
        {"field-label": "X", "field-category": "demographic", "field-choices": "", **data},
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not CustomField.objects.exists()


def test_a_field_used_by_a_draft_cannot_be_deleted(admin: Any, workshop: Workshop) -> None:
    field = catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="occupation",
        label="Occupation",
        type="choice",
        category="demographic",
        choices=["Student"],
    )
    document = json.loads(json.dumps(rules.WORKED_EXAMPLE))
    document["disqualify"].append(
        {"id": "students", "field": "occupation", "op": "eq", "value": "Student"}
    )
    authoring_services.proposal_create(actor=admin, workshop=workshop, title="t", document=document)
    response = logged_in(admin).post(
        reverse("definitions:catalog_field_delete", args=[workshop.slug, field.pk]), follow=True
    )
    assert "used by a version or a draft" in response.content.decode()
    assert CustomField.objects.filter(pk=field.pk).exists()


def test_an_unused_field_can_be_deleted(admin: Any, workshop: Workshop) -> None:
    field = catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="shoe",
        label="Shoe",
        type="number",
        category="demographic",
    )
    logged_in(admin).post(
        reverse("definitions:catalog_field_delete", args=[workshop.slug, field.pk])
    )
    assert not CustomField.objects.exists()


@pytest.mark.parametrize("language", ["it", "pt", "fr", "ja"])
def test_the_worked_example_renders_in_every_shipped_language(
    admin: Any, v1: Version, language: str
) -> None:
    from django.utils import translation

    from definitions.catalog.selectors import catalog_for, render_text

    parsed = rules.parse(v1.document, rules.DEFAULT_CATALOG).definition
    assert parsed is not None
    # The rationale is prose the workshop wrote in its own language; leave it out.
    definition = dataclasses.replace(parsed, rationale="")
    english = rules.render_text(definition, rules.DEFAULT_CATALOG)
    with translation.override(language):
        text = render_text(definition, catalog_for(v1.workshop))
    assert text != english
    for sentence in ("A lead is anyone who", "at least", "Annual revenue", "junk"):
        assert sentence not in text, f"{sentence!r} left in English in {language}"
    assert "300" in text  # values survive translation


@pytest.mark.parametrize(
    "data",
    [
        {"order": [f"x{i}" for i in range(900)], "revision": "abc", "action": "save"},
        {
            "order": ["g-root"],
            "n-g-root-kind": "group",
            "n-g-root-parent": "@qualify",
            "n-g-root-mode": "sideways",
            "n-g-root-n": "-5",
            "action": "save",
        },
        {
            "order": ["c", "c"],
            "n-c-kind": "field",
            "n-c-parent": "nowhere",
            "n-c-field": "<script>",
            "n-c-op": "explode",
            "action": "remove:zzz",
        },
        {"action": "up:"},
        {"action": "add_group:@scoring", "mql": "1e999", "sql": "NaN"},
        {},
    ],
    ids=[
        "many-bogus-nodes",
        "bad-group",
        "unknown-field",
        "empty-target",
        "section-group",
        "nothing",
    ],
)
def test_ugly_builder_posts_never_fail_and_save_nothing(
    admin: Any, draft: Proposal, data: dict[str, Any]
) -> None:
    response = logged_in(admin).post(builder_url(draft), data)
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()  # our own tags all carry src=
    draft.refresh_from_db()
    assert draft.revision == 1


def test_the_workshop_home_points_to_the_current_version(admin: Any, v1: Version) -> None:
    html = (
        logged_in(admin)
        .get(reverse("definitions:workshop_home", args=[v1.workshop.slug]))
        .content.decode()
    )
    assert "Current version: v1" in html
