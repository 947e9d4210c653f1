"""A workshop's lead field catalog and activity kinds, as the pure rules see them."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from django.db.models import QuerySet
from django.utils.translation import gettext, ngettext, pgettext

from definitions import rules
from definitions.core import labels
from definitions.models import ActivityKind, CustomField, Workshop


def catalog_for(workshop: Workshop, *, translated: bool = True) -> rules.Catalog:
    """Built-in fields and kinds (labels in the active language) plus the workshop's own."""
    base = rules.DEFAULT_CATALOG.translated(gettext) if translated else rules.DEFAULT_CATALOG
    custom_fields = [
        rules.FieldSpec(
            key=f.key,
            label=f.label,
            type=rules.FieldType(f.type),
            category=rules.Category(f.category),
            choices=tuple(f.choices or ()),
            builtin=False,
        )
        for f in CustomField.objects.filter(workshop=workshop).order_by("label")
    ]
    custom_kinds = [
        rules.ActivityKindSpec(key=k.key, label=k.label)
        for k in ActivityKind.objects.filter(workshop=workshop).order_by("label")
    ]
    return rules.Catalog.build(
        [*base.fields.values(), *custom_fields],
        [*base.activity_kinds.values(), *custom_kinds],
    )


def render_text(definition: rules.Definition, catalog: rules.Catalog) -> str:
    return rules.render_text(definition, catalog, gettext, ngettext)


def render_lines(definition: rules.Definition, catalog: rules.Catalog) -> list[rules.Line]:
    return list(rules.render_lines(definition, catalog, gettext, ngettext))


def describe_changes(
    old: rules.Definition, new: rules.Definition, catalog: rules.Catalog
) -> list[str]:
    names = rules.group_names(old, new, translate=gettext, ntranslate=ngettext, ptranslate=pgettext)
    return [rules.describe(c, catalog, gettext, ngettext, names) for c in rules.diff(old, new)]


def error_messages(errors: tuple[rules.ValidationError, ...]) -> list[tuple[str, str]]:
    """(path, message in the reader's language) for each validation error, operators
    named as the builder names them ("is at least", not `gte`)."""
    return [(e.path, _with_words(e).render(gettext)) for e in errors]


def _with_words(error: rules.ValidationError) -> rules.ValidationError:
    params = dict(error.params)
    if "op" in params and params["op"] in labels.OP_LABELS:
        params["op"] = labels.op_label(params["op"])
    if "allowed" in params:
        ops = [op.strip() for op in params["allowed"].split(",")]
        if all(op in labels.OP_LABELS for op in ops):
            params["allowed"] = ", ".join(f"“{labels.op_label(op)}”" for op in ops)
    return replace(error, params=MappingProxyType(params))


def custom_fields_of(workshop: Workshop) -> QuerySet[CustomField]:
    return CustomField.objects.filter(workshop=workshop).order_by("label")


def after_outcome_keys(workshop: Workshop) -> frozenset[str]:
    """The keys of the workshop's fields known only after the outcome."""
    return frozenset(
        CustomField.objects.filter(workshop=workshop, after_outcome=True).values_list(
            "key", flat=True
        )
    )


def activity_kinds_of(workshop: Workshop) -> QuerySet[ActivityKind]:
    return ActivityKind.objects.filter(workshop=workshop).order_by("label")
