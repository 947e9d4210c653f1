"""Pages of the definition itself: current version, versions, drafts with the builder,
exports and imports, and the field catalog."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from definitions import builder, roles, rules, selectors, services
from definitions.catalog import catalog_for, describe_changes, error_messages, render_lines
from definitions.core.http import AuthedRequest
from definitions.core.once import submit_once
from definitions.definition_forms import (
    ActivityKindForm,
    CustomFieldForm,
    DefinitionImportForm,
    DraftCreateForm,
)
from definitions.exports import to_json_text, to_markdown
from definitions.models import (
    ActivityKind,
    CustomField,
    ProposalState,
    Workshop,
)
from definitions.permissions import (
    get_catalog_entry_for_user,
    get_proposal_for_user,
    get_version_for_user,
    get_workshop_for_user,
    require,
)
from definitions.views import apply_errors
from feedback.backtest_views import backtest_panel

SECTION_SPECS = (
    (
        "@disqualify",
        gettext_lazy("Never a lead (junk rules)"),
        gettext_lazy(
            "Any match makes the lead junk, whatever else it matches: students, "
            "competitors, excluded regions, consumers."
        ),
    ),
    (
        "@scoring",
        gettext_lazy("Extra points"),
        gettext_lazy("Criteria that only add or take away points."),
    ),
    (
        "@sales_ready",
        gettext_lazy("Stages and sales-ready actions"),
        gettext_lazy(
            "An SQL needs the SQL score and at least one of these actions; "
            "with none listed, the score alone decides."
        ),
    ),
)


def _parsed(workshop: Workshop, document: Any, catalog: rules.Catalog) -> rules.Definition | None:
    return rules.parse(document, catalog).definition


@require_GET
def definition_home(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    catalog = catalog_for(workshop)
    current = selectors.current_version(workshop)
    definition = _parsed(workshop, current.document, catalog) if current else None
    return render(
        request,
        "definitions/definition_home.html",
        {
            "workshop": workshop,
            "current": current,
            "lines": render_lines(definition, catalog) if definition else [],
            "versions": selectors.versions_of(workshop),
            "drafts": selectors.drafts_of(workshop),
            "create_form": DraftCreateForm(),
        },
    )


@require_POST
@submit_once
def draft_create(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.PROPOSE)
    form = DraftCreateForm(request.POST)
    title = form.cleaned_data["title"] if form.is_valid() else ""
    proposal = services.proposal_create(actor=request.user, workshop=workshop, title=title)
    return redirect("definitions:draft_builder", slug=slug, proposal_id=proposal.pk)


def _revision(raw: str | None) -> int:
    try:
        return int(raw or "0")
    except ValueError:
        return 0


@require_http_methods(["GET", "POST"])
def draft_builder(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id)
    workshop = proposal.workshop
    catalog = catalog_for(workshop)
    can_edit = roles.PROPOSE in workshop.user_perms and proposal.state == ProposalState.DRAFT
    new_node: str | None = None
    saved_revision: int | None = None
    conflict: int | None = None
    revision = proposal.revision
    title = proposal.title
    document: Any = proposal.document
    if request.method == "POST":
        require(workshop, roles.PROPOSE)
        document = builder.form_to_document(request.POST, catalog)
        action = request.POST.get("action", "refresh")
        document, new_node = builder.apply_action(document, action, catalog)
        revision = _revision(request.POST.get("revision"))
        title = request.POST.get("title", proposal.title)[:200]
        if action == "save":
            try:
                proposal = services.proposal_save_document(
                    actor=request.user,
                    proposal=proposal,
                    document=document,
                    expected_revision=revision,
                    title=title,
                )
            except services.DefinitionInvalid:
                pass  # the errors are shown at their criteria below
            except services.StaleRevision as exc:
                conflict = exc.current
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                if not request.htmx:
                    messages.success(
                        request, _("Draft saved (revision %(n)s).") % {"n": proposal.revision}
                    )
                    return redirect("definitions:draft_builder", slug=slug, proposal_id=proposal.pk)
                saved_revision = revision = proposal.revision
                document = proposal.document
    result = rules.parse(document, catalog)
    root, sections, by_path = builder.build_tree(document, new_node)
    builder.decorate([root, *[n for ns in sections.values() for n in ns]], catalog)
    loose = builder.attach_errors(error_messages(result.errors), by_path)
    parent_definition = (
        _parsed(workshop, proposal.parent.document, catalog) if proposal.parent else None
    )
    context = {
        "workshop": workshop,
        "proposal": proposal,
        "can_edit": can_edit,
        "title": title,
        "revision": revision,
        "document": document,
        "root": root,
        "sections": sections,
        "loose_errors": loose,
        "error_count": len(result.errors),
        "lines": render_lines(result.definition, catalog) if result.definition else None,
        "changes": (
            describe_changes(parent_definition, result.definition, catalog)
            if parent_definition and result.definition
            else None
        ),
        "saved_revision": saved_revision,
        "conflict": conflict,
        "fields_by_category": builder.fields_by_category(catalog),
        "activity_kinds": list(catalog.activity_kinds.values()),
        "categories": [(c.value, _(rules.CATEGORY_LABELS[c])) for c in rules.CRITERION_CATEGORIES],
        "mode_labels": builder.MODE_LABELS,
        "section_specs": SECTION_SPECS,
        "window_labels": builder.WINDOW_LABELS,
    }
    template = "definitions/builder.html"
    if request.htmx and request.method == "POST":
        template += "#builder"
    return render(request, template, context, status=409 if conflict else 200)


def _document_response(
    document: Any,
    workshop: Workshop,
    fmt: str,
    *,
    title: str,
    subtitle: str,
    filename: str,
) -> HttpResponse:
    if fmt == "json":
        response = HttpResponse(to_json_text(document), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
        return response
    if fmt == "md":
        catalog = catalog_for(workshop)
        definition = _parsed(workshop, document, catalog)
        if definition is None:
            raise Http404
        text = to_markdown(definition, catalog, title=title, subtitle=subtitle)
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.md"'
        return response
    raise Http404


@require_GET
def draft_export(request: AuthedRequest, slug: str, proposal_id: int, fmt: str) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id)
    return _document_response(
        proposal.document,
        proposal.workshop,
        fmt,
        title=proposal.title,
        subtitle=_("Draft, revision %(n)s") % {"n": proposal.revision},
        filename=f"{slug}-draft-{proposal.pk}",
    )


@require_GET
def version_export(request: AuthedRequest, slug: str, number: int, fmt: str) -> HttpResponse:
    version = get_version_for_user(request.user, slug, number)
    return _document_response(
        version.document,
        version.workshop,
        fmt,
        title=_("%(workshop)s — lead definition v%(n)s")
        % {"workshop": version.workshop.name, "n": version.number},
        subtitle=_("Published %(date)s") % {"date": version.published_at.date().isoformat()},
        filename=f"{slug}-v{version.number}",
    )


def _print_page(
    request: AuthedRequest, workshop: Workshop, document: Any, heading: str, subheading: str
) -> HttpResponse:
    catalog = catalog_for(workshop)
    definition = _parsed(workshop, document, catalog)
    return render(
        request,
        "definitions/print.html",
        {
            "workshop": workshop,
            "heading": heading,
            "subheading": subheading,
            "lines": render_lines(definition, catalog) if definition else [],
        },
    )


@require_GET
def draft_print(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id)
    return _print_page(
        request,
        proposal.workshop,
        proposal.document,
        proposal.title,
        _("Draft, revision %(n)s") % {"n": proposal.revision},
    )


@require_GET
def version_detail(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    version = get_version_for_user(request.user, slug, number)
    catalog = catalog_for(version.workshop)
    definition = _parsed(version.workshop, version.document, catalog)
    parent_definition = (
        _parsed(version.workshop, version.parent.document, catalog) if version.parent else None
    )
    return render(
        request,
        "definitions/version_detail.html",
        {
            "workshop": version.workshop,
            "version": version,
            "lines": render_lines(definition, catalog) if definition else [],
            "changes": (
                describe_changes(parent_definition, definition, catalog)
                if parent_definition and definition
                else None
            ),
            **backtest_panel(version.workshop, version=version),
        },
    )


@require_GET
def version_print(request: AuthedRequest, slug: str, number: int) -> HttpResponse:
    version = get_version_for_user(request.user, slug, number)
    return _print_page(
        request,
        version.workshop,
        version.document,
        _("%(workshop)s — lead definition v%(n)s")
        % {"workshop": version.workshop.name, "n": version.number},
        _("Published %(date)s") % {"date": version.published_at.date().isoformat()},
    )


@require_http_methods(["GET", "POST"])
@submit_once
def draft_import(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.PROPOSE)
    form = DefinitionImportForm(request.POST or None, request.FILES or None)
    definition_errors: list[tuple[str, str]] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("file")
        raw: bytes | str
        if upload is not None:
            if upload.size > services.MAX_DOCUMENT_BYTES:
                form.add_error("file", _("The file is larger than 1 MB; a definition is not."))
                return _import_page(request, workshop, form, definition_errors)
            raw = upload.read()
        else:
            raw = form.cleaned_data["text"]
        title = form.cleaned_data["title"] or (upload.name if upload else _("Imported draft"))
        try:
            proposal = services.proposal_import(
                actor=request.user, workshop=workshop, raw=raw, title=title
            )
        except services.DocumentRefused as exc:
            # The text itself is beyond a limit: an error at the field that carried it.
            form.add_error(
                "file" if upload is not None else "text",
                [f"{p}: {m}" if p else m for p, m in error_messages(exc.errors)],
            )
        except services.DefinitionInvalid as exc:
            definition_errors = error_messages(exc.errors)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Imported as a new draft."))
            return redirect("definitions:draft_builder", slug=slug, proposal_id=proposal.pk)
    return _import_page(request, workshop, form, definition_errors)


def _import_page(
    request: AuthedRequest,
    workshop: Workshop,
    form: DefinitionImportForm,
    definition_errors: list[tuple[str, str]],
) -> HttpResponse:
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "definitions/draft_import.html",
        {"workshop": workshop, "form": form, "definition_errors": definition_errors},
        status=status,
    )


# ------------------------------------------------------------------ catalog


def _catalog_page(
    request: AuthedRequest,
    workshop: Workshop,
    *,
    field_form: CustomFieldForm | None = None,
    kind_form: ActivityKindForm | None = None,
    status: int = 200,
) -> HttpResponse:
    catalog = catalog_for(workshop)
    return render(
        request,
        "definitions/catalog.html",
        {
            "workshop": workshop,
            "builtin_fields": [s for s in catalog.fields.values() if s.builtin],
            "builtin_kinds": [
                k
                for k in catalog.activity_kinds.values()
                if k.key in rules.DEFAULT_CATALOG.activity_kinds
            ],
            "custom_fields": selectors.custom_fields_of(workshop),
            "custom_kinds": selectors.activity_kinds_of(workshop),
            "field_form": field_form or CustomFieldForm(prefix="field"),
            "kind_form": kind_form or ActivityKindForm(prefix="kind"),
            "category_labels": {c.value: _(rules.CATEGORY_LABELS[c]) for c in rules.Category},
        },
        status=status,
    )


@require_GET
def catalog(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    return _catalog_page(request, workshop)


def _suggest_key(data: Any, prefix: str) -> Any:
    # A label is enough: the key is derived from it when left empty.
    if data.get(f"{prefix}-key", "").strip() == "" and data.get(f"{prefix}-label"):
        data = data.copy()
        data[f"{prefix}-key"] = slugify(data[f"{prefix}-label"]).replace("-", "_")[:64]
    return data


def _catalog_add(
    request: AuthedRequest,
    slug: str,
    form_class: type[CustomFieldForm] | type[ActivityKindForm],
    prefix: str,
    done: str,
) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.CHANGE)
    form = form_class(_suggest_key(request.POST, prefix), prefix=prefix)
    if form.is_valid():
        add = services.custom_field_add if prefix == "field" else services.activity_kind_add
        try:
            add(actor=request.user, workshop=workshop, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("definitions:catalog", slug=slug)
    forms: dict[str, Any] = {f"{prefix}_form": form}
    return _catalog_page(request, workshop, status=400, **forms)


def _catalog_delete(
    request: AuthedRequest,
    slug: str,
    model: type[CustomField] | type[ActivityKind],
    entry_id: int,
    done: str,
) -> HttpResponse:
    entry = get_catalog_entry_for_user(request.user, slug, model, entry_id)
    try:
        services.catalog_entry_delete(actor=request.user, entry=entry)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("definitions:catalog", slug=slug)


@require_POST
def catalog_field_add(request: AuthedRequest, slug: str) -> HttpResponse:
    return _catalog_add(request, slug, CustomFieldForm, "field", _("Field added."))


@require_POST
def catalog_kind_add(request: AuthedRequest, slug: str) -> HttpResponse:
    return _catalog_add(request, slug, ActivityKindForm, "kind", _("Activity kind added."))


@require_POST
def catalog_field_delete(request: AuthedRequest, slug: str, entry_id: int) -> HttpResponse:
    return _catalog_delete(request, slug, CustomField, entry_id, _("Field deleted."))


@require_POST
def catalog_kind_delete(request: AuthedRequest, slug: str, entry_id: int) -> HttpResponse:
    return _catalog_delete(request, slug, ActivityKind, entry_id, _("Activity kind deleted."))
