"""A definition as a file: canonical JSON, and Markdown for documents and wikis."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from definitions import rules
from definitions.catalog.selectors import render_lines


def to_json_text(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def _md_escape(text: str) -> str:
    # Text typed by users (labels, values, rationale) must not turn into Markdown
    # emphasis, links, images, tables or HTML wherever the file is rendered. Escaping
    # the brackets is enough to stop links and images; parentheses can stay readable.
    out = []
    for ch in text:
        if ch in "\\`*_[]<>|":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def to_markdown(
    definition: rules.Definition, catalog: rules.Catalog, *, title: str, subtitle: str = ""
) -> str:
    lines = [f"# {_md_escape(title)}", ""]
    if subtitle:
        lines += [f"_{_md_escape(subtitle)}_", ""]
    for line in render_lines(definition, catalog):
        indent = "  " * max(line.depth - 1, 0)
        text = _md_escape(line.text)
        lines.append(f"{indent}- {text}" if line.depth > 0 else f"\n{text}\n")
    body = to_json_text(rules.to_json(definition)).rstrip()
    # A fence longer than any run of backticks in the content cannot be closed early.
    fence = "`" * max(3, _longest_run(body, "`") + 1)
    lines += ["", f"## {_('Definition as JSON')}", "", f"{fence}json", body, fence, ""]
    return "\n".join(lines)


def _longest_run(text: str, char: str) -> int:
    best = run = 0
    for ch in text:
        run = run + 1 if ch == char else 0
        best = max(best, run)
    return best
