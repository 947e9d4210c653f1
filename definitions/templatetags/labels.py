"""`{% load labels %}`: codes as words on every screen (definitions.core.labels)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.safestring import SafeString

from definitions.core import labels

register = template.Library()


@register.filter
def op_label(op: str) -> str:
    return labels.op_label(op)


@register.filter
def action_label(action: str) -> str:
    return labels.action_label(action)


@register.filter
def activity_label(kind: str, custom: Mapping[str, str] | None = None) -> str:
    """`{{ a.kind|activity_label:kind_labels }}`: with the workshop's labels
    (labels.activity_labels) a custom kind reads as its admin named it."""
    return labels.activity_label(kind, custom)


@register.filter
def amount(value: Any, digits: int = 2) -> str:
    """4038.0 → '4,038' and None → '—', in the reader's locale."""
    return labels.number(value, digits)


@register.filter
def field_value(value: Any, spec: Any = None) -> str:
    return labels.field_value(value, spec)


@register.filter
def when(value: Any, style: str = "") -> SafeString:
    """A moment: `{{ x|when }}` relative within a week, `{{ x|when:"exact" }}` always
    as the locale's date and time (see labels.moment)."""
    return labels.moment(value, exact=style == "exact")


@register.filter
def day(value: Any) -> SafeString:
    """A calendar day in the locale's date format (see labels.day)."""
    return labels.day(value)


@register.filter
def system_note(note: str) -> str:
    """A note the system wrote (stored in English), in the reader's language."""
    return labels.system_note(note)
