"""The workshop home's accuracy figures, through the definitions app's page_context
extension point (connected in feedback/apps.py)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from definitions.models import Workshop
from feedback.accuracy.selectors import current_accuracy


def on_workshop_home(sender: str, *, workshop: Workshop, **_kwargs: Any) -> dict[str, Any]:
    return {"accuracy": current_accuracy(workshop, _)}
