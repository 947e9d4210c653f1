"""The suggestions page's goal form: what "better" means for the next search."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feedback.suggestions.types import Goal, GoalError


def _objective_choices() -> list[tuple[str, Any]]:
    return [
        ("f1", gettext_lazy("F1: precision and recall balanced")),
        ("precision", gettext_lazy("Precision, with at least the minimum recall")),
        ("recall", gettext_lazy("Recall, with at least the minimum precision")),
        ("capacity", gettext_lazy("Sales capacity: the best leads up to a number a week")),
    ]


def _target_choices() -> list[tuple[str, Any]]:
    return [
        ("outcome", gettext_lazy("What happened to the leads (outcomes)")),
        ("verdict", gettext_lazy("What sales reps said (verdicts)")),
        ("both", gettext_lazy("Leads where both agree")),
    ]


def _goal_messages() -> dict[str, str]:
    """The engine's GoalError names the option at fault; the reader gets it in words."""
    return {
        "objective": _("Choose one of the objectives offered."),
        "target": _("Choose one of the targets offered."),
        "min_recall": _("Enter a minimum recall between 0 and 1."),
        "min_precision": _("Enter a minimum precision between 0 and 1."),
        "capacity": _("Enter how many leads a week sales can take (1 to 1,000,000)."),
    }


class GoalForm(forms.Form):
    objective = forms.ChoiceField(label=gettext_lazy("Objective"), choices=_objective_choices)
    min_recall = forms.FloatField(
        label=gettext_lazy("Minimum recall"),
        required=False,
        help_text=gettext_lazy("From 0 to 1; used with the precision objective."),
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )
    min_precision = forms.FloatField(
        label=gettext_lazy("Minimum precision"),
        required=False,
        help_text=gettext_lazy("From 0 to 1; used with the recall objective."),
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("Leads a week sales can take"),
        required=False,
        help_text=gettext_lazy("Used with the sales capacity objective."),
    )
    target = forms.ChoiceField(label=gettext_lazy("Measured against"), choices=_target_choices)

    goal: Goal

    @classmethod
    def initial_from(cls, goal: Goal | None) -> dict[str, Any]:
        goal = goal or Goal()
        return {
            "objective": goal.objective,
            "min_recall": goal.min_recall,
            "min_precision": goal.min_precision,
            "capacity": goal.capacity,
            "target": goal.target,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        defaults = Goal()
        objective = data["objective"]
        min_recall = data.get("min_recall")
        min_precision = data.get("min_precision")
        try:
            # The engine's own check decides what a valid goal is; the form only says
            # which field is at fault. Capacity counts only for its objective.
            self.goal = Goal(
                objective=objective,
                target=data["target"],
                min_recall=defaults.min_recall if min_recall is None else min_recall,
                min_precision=defaults.min_precision if min_precision is None else min_precision,
                capacity=data.get("capacity") if objective == "capacity" else None,
            )
        except GoalError as error:
            field = error.option if error.option in self.fields else None
            self.add_error(field, _goal_messages().get(error.option, str(error)))
        return data
