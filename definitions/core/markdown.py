"""Comments are Markdown; what reaches the page is sanitised HTML.

Two locks: markdown-it never passes raw HTML through (html=False), and nh3 (Ammonia)
then keeps only a short list of tags and attributes and only http(s)/mailto links, so
no script, event handler, style or javascript: URL survives either step.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.disable("image")  # images would load third-party URLs into every reader's browser

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


# A pure function of the text: every poll of a proposal re-renders the same comments.
@lru_cache(maxsize=4096)
def render_markdown(text: str) -> SafeString:
    html = _md.render(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow ugc",
    )
    return mark_safe(clean)  # noqa: S308  (sanitised by nh3 just above)
