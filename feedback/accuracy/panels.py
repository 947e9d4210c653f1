"""The accuracy package's receivers (connected in feedback/apps.py): the workshop
home's figures, through the definitions app's page_context extension point, and the
count against outcomes of every run that settles."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from definitions.models import Workshop
from feedback.accuracy.selectors import count_outcomes, current_accuracy
from feedback.models import EvaluationRun


def on_workshop_home(sender: str, *, workshop: Workshop, **_kwargs: Any) -> dict[str, Any]:
    return {"accuracy": current_accuracy(workshop, _)}


def on_run_settled(sender: type, *, run: EvaluationRun, **_kwargs: Any) -> dict[str, Any]:
    """Count a done run against outcomes once, for the accuracy pages."""
    return {} if run.outcome_stats else {"outcome_stats": count_outcomes(run)}
