"""The accuracy page's suggestions, through the page_context extension point
(connected in feedback/apps.py): the accuracy package sits below this one."""

from __future__ import annotations

from typing import Any

from definitions import rules
from feedback.accuracy.selectors import Accuracy
from feedback.suggestions.engine import Suggestion, suggestions_for


def on_accuracy_page(
    sender: str, *, accuracy: Accuracy, catalog: rules.Catalog, **_: Any
) -> dict[str, Any]:
    suggestions: list[Suggestion] = []
    definition = rules.parse(accuracy.run.document, catalog).definition
    if definition is not None:
        suggestions = suggestions_for(accuracy, definition, catalog)
    return {"suggestions": suggestions}
