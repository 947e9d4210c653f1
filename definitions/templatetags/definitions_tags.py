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
