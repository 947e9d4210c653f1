"""The reviews' receivers (connected in feedback/apps.py): the workshop home shows the
newest ready reviews, through definitions' page_context extension point."""

from __future__ import annotations

from typing import Any

from definitions.models import Workshop
from feedback.reviews.selectors import home_reviews


def on_workshop_home(sender: str, *, workshop: Workshop, **_kwargs: Any) -> dict[str, Any]:
    return {"version_reviews": home_reviews(workshop)}
