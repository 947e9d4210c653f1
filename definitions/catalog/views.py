"""The catalog page: built-in and custom fields and activity kinds."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from definitions import roles, rules
from definitions.catalog import selectors as catalog_selectors
from definitions.catalog import services as catalog_services
from definitions.catalog.forms import ActivityKindForm, CustomFieldForm
from definitions.catalog.selectors import (
    catalog_for,
)
from definitions.core.forms import apply_errors
from definitions.core.http import AuthedRequest
from definitions.models import (
    ActivityKind,
    CustomField,
    Workshop,
)
from definitions.workshops.access import (
    get_catalog_entry_for_user,
    get_workshop_for_user,
)


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
            "custom_fields": catalog_selectors.custom_fields_of(workshop),
            "custom_kinds": catalog_selectors.activity_kinds_of(workshop),
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
        add = (
            catalog_services.custom_field_add
            if prefix == "field"
            else catalog_services.activity_kind_add
        )
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
        catalog_services.catalog_entry_delete(actor=request.user, entry=entry)
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
