"""Writes to the catalog: add a custom field or an activity kind, delete one that no
version or draft uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from definitions import rules
from definitions.core.audit import log_action
from definitions.models import (
    ActivityKind,
    CustomField,
    Proposal,
    Version,
    Workshop,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _documents_of(workshop: Workshop) -> list[object]:
    return [
        *Version.objects.filter(workshop=workshop).values_list("document", flat=True),
        *Proposal.objects.filter(workshop=workshop).values_list("document", flat=True),
    ]


@transaction.atomic
def custom_field_add(
    *,
    actor: User,
    workshop: Workshop,
    key: str,
    label: str,
    type: str,
    category: str,
    choices: list[str] | None = None,
    after_outcome: bool = False,
) -> CustomField:
    key = key.strip()
    errors: dict[str, str] = {}
    if key in rules.DEFAULT_CATALOG.fields:
        errors["key"] = _("“%(key)s” is a built-in field.") % {"key": key}
    elif CustomField.objects.filter(workshop=workshop, key=key).exists():
        errors["key"] = _("This workshop already has a field “%(key)s”.") % {"key": key}
    if type not in {t.value for t in rules.FieldType}:
        errors["type"] = _("Unknown field type.")
    if category not in {c.value for c in rules.Category}:
        errors["category"] = _("Unknown category.")
    clean_choices = list(dict.fromkeys(c.strip() for c in (choices or []) if c.strip()))
    if type == rules.FieldType.CHOICE and not clean_choices:
        errors["choices"] = _("A choice field needs at least one allowed value.")
    if len(clean_choices) > 200:
        errors["choices"] = _("At most 200 allowed values.")
    if any(len(c) > 200 for c in clean_choices):
        errors["choices"] = _("Each allowed value may be at most 200 characters.")
    if errors:
        raise ValidationError(errors)
    field = CustomField.objects.create(
        workshop=workshop,
        key=key,
        label=label.strip(),
        type=type,
        category=category,
        choices=clean_choices if type == rules.FieldType.CHOICE else [],
        after_outcome=bool(after_outcome),
    )
    log_action(
        "definitions.field.added",
        actor=actor,
        workshop=workshop,
        key=key,
        label=field.label,
        after_outcome=field.after_outcome,
    )
    return field


@transaction.atomic
def custom_fields_mark_after_outcome(*, actor: User, workshop: Workshop, keys: list[str]) -> int:
    """Mark custom fields as known only after the outcome (an import's mapping says
    so); returns how many changed. Unmarking stays a decision made on the catalog."""
    fields = CustomField.objects.filter(workshop=workshop, key__in=keys, after_outcome=False)
    changed = sorted(fields.values_list("key", flat=True))
    if changed:
        CustomField.objects.filter(workshop=workshop, key__in=changed).update(after_outcome=True)
        log_action(
            "definitions.field.marked_after_outcome",
            actor=actor,
            workshop=workshop,
            fields=", ".join(changed),
        )
    return len(changed)


@transaction.atomic
def activity_kind_add(*, actor: User, workshop: Workshop, key: str, label: str) -> ActivityKind:
    key = key.strip()
    if key in rules.DEFAULT_CATALOG.activity_kinds:
        raise ValidationError({"key": _("“%(key)s” is a built-in activity kind.") % {"key": key}})
    if ActivityKind.objects.filter(workshop=workshop, key=key).exists():
        raise ValidationError(
            {"key": _("This workshop already has an activity kind “%(key)s”.") % {"key": key}}
        )
    kind = ActivityKind.objects.create(workshop=workshop, key=key, label=label.strip())
    log_action(
        "definitions.activity_kind.added", actor=actor, workshop=workshop, key=key, label=kind.label
    )
    return kind


@transaction.atomic
def catalog_entry_delete(*, actor: User, entry: CustomField | ActivityKind) -> None:
    """Delete a custom field or activity kind that no version or draft uses: a
    definition must never name something the catalog no longer has."""
    is_field = isinstance(entry, CustomField)
    if any(
        rules.edit.mentions(doc, "field" if is_field else "activity", entry.key)
        for doc in _documents_of(entry.workshop)
    ):
        raise ValidationError(
            _("“%(label)s” is used by a version or a draft and cannot be deleted.")
            % {"label": entry.label},
            code="in_use",
        )
    action = "definitions.field.deleted" if is_field else "definitions.activity_kind.deleted"
    log_action(action, actor=actor, workshop=entry.workshop, key=entry.key, label=entry.label)
    entry.delete()


@transaction.atomic
def custom_field_choices_add(
    *, actor: User, workshop: Workshop, key: str, values: list[str]
) -> list[str]:
    """Add allowed values to a custom choice field (an import's new values, when the
    admin chose to take them in); returns those that were new."""
    field = CustomField.objects.select_for_update().get(workshop=workshop, key=key)
    if field.type != rules.FieldType.CHOICE:
        raise ValidationError(_("Only a choice field has allowed values."))
    new = [v for v in dict.fromkeys(v.strip() for v in values) if v and v not in field.choices]
    if not new:
        return []
    if len(field.choices) + len(new) > 200:
        raise ValidationError(
            _("“%(field)s” would have more than 200 allowed values: import it as text.")
            % {"field": field.label}
        )
    if any(len(v) > 200 for v in new):
        raise ValidationError(_("Each allowed value may be at most 200 characters."))
    field.choices = [*field.choices, *new]
    field.save(update_fields=["choices"])
    log_action(
        "definitions.field.choices_added",
        actor=actor,
        workshop=workshop,
        key=key,
        values=", ".join(new),
    )
    return new
