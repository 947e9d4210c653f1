from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def dict_get(mapping: Any, key: str) -> Any:
    """`mapping[key]` in a template, or an empty list when absent."""
    if hasattr(mapping, "get"):
        return mapping.get(key, [])
    return []


@register.filter
def markdown(text: str) -> Any:
    """Sanitised HTML from a comment's Markdown (definitions.markdown)."""
    from definitions.markdown import render_markdown

    return render_markdown(text or "")


@register.simple_tag
def form_token() -> str:
    """A hidden one-time token: a view with @submit_once acts on this form once."""
    from django.utils.html import format_html

    from definitions.once import TOKEN_FIELD, new_token

    return format_html('<input type="hidden" name="{}" value="{}">', TOKEN_FIELD, new_token())


@register.simple_tag(takes_context=True)
def options(context: Any, choices: Any, selected: Any = "") -> str:
    """The <option> elements of a select: an empty "—" first, then one per choice,
    given as (value, label) or (value, label, keyboard digit). A list of twenty cards
    each with four selects is a thousand options: built here once per list and
    selection for the whole page, instead of node by node in a template loop."""
    from django.utils.html import format_html, format_html_join

    chosen = "" if selected is None else str(selected)
    built = context.render_context.setdefault("options", {})
    key = (id(choices), chosen)
    if key in built:
        return str(built[key])
    rows = []
    for choice in choices:
        value, label = str(choice[0]), choice[1]
        digit = choice[2] if len(choice) > 2 and choice[2] >= 0 else None
        rows.append(
            (
                value,
                format_html(' data-digit="{}"', digit) if digit is not None else "",
                " selected" if value == chosen and chosen else "",
                format_html("{} · {}", digit, label) if digit is not None else label,
            )
        )
    built[key] = format_html(
        '<option value="">—</option>{}',
        format_html_join("", '<option value="{}"{}{}>{}</option>', rows),
    )
    return str(built[key])
