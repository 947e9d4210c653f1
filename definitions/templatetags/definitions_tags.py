from __future__ import annotations

import functools
from typing import Any

from django import template
from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language_info

from definitions.core.markdown import render_markdown
from definitions.core.once import TOKEN_FIELD, new_token

register = template.Library()


@register.filter
def dict_get(mapping: Any, key: str) -> Any:
    """`mapping[key]` in a template, or an empty list when absent."""
    if hasattr(mapping, "get"):
        return mapping.get(key, [])
    return []


@register.filter
def markdown(text: str) -> Any:
    """Sanitised HTML from a comment's Markdown (definitions.core.markdown)."""

    return render_markdown(text or "")


@register.simple_tag
def form_token() -> str:
    """A hidden one-time token: a view with @submit_once acts on this form once."""

    return format_html('<input type="hidden" name="{}" value="{}">', TOKEN_FIELD, new_token())


@register.simple_tag
def options(choices: Any, selected: Any = "", blank: bool = True) -> str:
    """The <option> elements of a select: an empty "—" first (unless `blank` is
    false), then one per choice, given as (value, label) or (value, label, keyboard
    digit). A list of twenty cards each with four selects is a thousand options: built
    once per list, language and selection for the process, instead of node by node in
    a template loop."""
    chosen = "" if selected is None else str(selected)
    return _options(tuple((str(c[0]), str(c[1]), *c[2:]) for c in choices), chosen, blank)


@functools.lru_cache(maxsize=1024)
def _options(choices: tuple[tuple[Any, ...], ...], chosen: str, blank: bool) -> str:

    rows = []
    for choice in choices:
        value, label = choice[0], choice[1]
        digit = choice[2] if len(choice) > 2 and choice[2] >= 0 else None
        rows.append(
            (
                value,
                format_html(' data-digit="{}"', digit) if digit is not None else "",
                " selected" if value == chosen and chosen else "",
                format_html("{} · {}", digit, label) if digit is not None else label,
            )
        )
    return format_html(
        "{}{}",
        mark_safe('<option value="">—</option>') if blank else "",
        format_html_join("", '<option value="{}"{}{}>{}</option>', rows),
    )


@register.simple_tag
def language_choices() -> list[tuple[str, str]]:
    """(code, the language's name in itself) for the header's language switch."""
    return _language_choices()


@functools.cache
def _language_choices() -> list[tuple[str, str]]:
    # Constant for the process: the switch is on every page, and asking Django per
    # page means activating each language in turn.

    return [(code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]
