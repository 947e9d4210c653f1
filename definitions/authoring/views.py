"""The definition page, the builder, and a draft's export, print and import pages."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from definitions import roles, rules
from definitions.authoring import builder
from definitions.authoring import selectors as authoring_selectors
from definitions.authoring import services as authoring_services
from definitions.authoring.forms import DefinitionImportForm, DraftCreateForm
from definitions.catalog import documents
from definitions.catalog.selectors import (
    after_outcome_keys,
    catalog_for,
    describe_changes,
    error_messages,
    render_lines,
)
from definitions.core.extensions import extra_context
from definitions.core.forms import apply_errors
from definitions.core.http import AuthedRequest
from definitions.core.once import submit_once
from definitions.models import (
    ProposalState,
    Workshop,
)
from definitions.versions import selectors as version_selectors
from definitions.versions import services as version_services
from definitions.versions.rendering import document_response, parsed, print_page
from definitions.workshops.access import (
    get_proposal_for_user,
    get_workshop_for_user,
    require,
)

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


@require_GET
def definition_home(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    catalog = catalog_for(workshop)
    current = version_selectors.current_version(workshop)
    definition = parsed(workshop, current.document, catalog) if current else None
    return render(
        request,
        "definitions/definition_home.html",
        {
            "workshop": workshop,
            "current": current,
            "lines": render_lines(definition, catalog) if definition else [],
            "versions": version_selectors.versions_of(workshop),
            "drafts": authoring_selectors.drafts_of(workshop),
            "create_form": DraftCreateForm(),
        },
    )


@require_POST
@submit_once
def draft_create(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, roles.PROPOSE)
    form = DraftCreateForm(request.POST)
    title = form.cleaned_data["title"] if form.is_valid() else ""
    proposal = authoring_services.proposal_create(
        actor=request.user, workshop=workshop, title=title
    )
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
                proposal = authoring_services.proposal_save_document(
                    actor=request.user,
                    proposal=proposal,
                    document=document,
                    expected_revision=revision,
                    title=title,
                )
            except documents.DefinitionInvalid:
                pass  # the errors are shown at their criteria below
            except authoring_services.StaleRevision as exc:
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
    builder.decorate(
        [root, *[n for ns in sections.values() for n in ns]],
        catalog,
        after_outcome_keys(workshop),
    )
    loose = builder.attach_errors(error_messages(result.errors), by_path)
    # While the draft has an error, the preview stays on its last valid state, marked
    # stale: the form carries that state, so this works alike with and without script.
    last_valid = result.definition
    if last_valid is None and request.method == "POST":
        last_valid = builder.last_valid_definition(request.POST.get("last_valid"), catalog)
    # The live evidence and the leads' value ranges come from the feedback app.
    evidence = extra_context(
        "draft_builder",
        workshop=workshop,
        proposal=proposal,
        definition=last_valid,
        catalog=catalog,
    )
    threshold_warnings: list[str] = []
    if result.definition is not None:
        threshold_warnings = builder.attach_findings(
            rules.checks.check(result.definition, evidence.get("value_ranges")),
            result.definition,
            list(by_path.values()),
            catalog,
        )
    parent_definition = (
        parsed(workshop, proposal.parent.document, catalog) if proposal.parent else None
    )
    current = version_selectors.current_version(workshop)
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
        "last_valid_json": json.dumps(rules.to_json(last_valid)) if last_valid else "",
        "preview_stale": result.definition is None and last_valid is not None,
        "first_error": builder.first_error(root, sections, loose) if result.errors else None,
        "lines": render_lines(result.definition, catalog) if result.definition else None,
        "changes": (
            describe_changes(parent_definition, result.definition, catalog)
            if parent_definition and result.definition
            else None
        ),
        "saved_revision": saved_revision,
        "conflict": conflict,
        # A newer version was published since the draft's base: say so, with the way
        # to rebase (the conflicts are settled on the rebase page, criterion by criterion).
        "stale_base": current if version_services.is_stale(proposal, current) else None,
        "threshold_warnings": threshold_warnings,
        **evidence,
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


@require_GET
def draft_export(request: AuthedRequest, slug: str, proposal_id: int, fmt: str) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id)
    return document_response(
        proposal.document,
        proposal.workshop,
        fmt,
        title=proposal.title,
        subtitle=_("Draft, revision %(n)s") % {"n": proposal.revision},
        filename=f"{slug}-draft-{proposal.pk}",
    )


@require_GET
def draft_print(request: AuthedRequest, slug: str, proposal_id: int) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, slug, proposal_id)
    return print_page(
        request,
        proposal.workshop,
        proposal.document,
        proposal.title,
        _("Draft, revision %(n)s") % {"n": proposal.revision},
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
            if upload.size > documents.MAX_DOCUMENT_BYTES:
                form.add_error("file", _("The file is larger than 1 MB; a definition is not."))
                return _import_page(request, workshop, form, definition_errors)
            raw = upload.read()
        else:
            raw = form.cleaned_data["text"]
        title = form.cleaned_data["title"] or (upload.name if upload else _("Imported draft"))
        try:
            proposal = authoring_services.proposal_import(
                actor=request.user, workshop=workshop, raw=raw, title=title
            )
        except documents.DocumentRefused as exc:
            # The text itself is beyond a limit: an error at the field that carried it.
            form.add_error(
                "file" if upload is not None else "text",
                [f"{p}: {m}" if p else m for p, m in error_messages(exc.errors)],
            )
        except documents.DefinitionInvalid as exc:
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
