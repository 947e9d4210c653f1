"""Forms of the proposal pages: open for votes, vote, comment, decline an amendment, and
the consensus policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from definitions.models import VoteChoice
from definitions.roles import Department


class OpenForm(forms.Form):
    closes_at = forms.DateTimeField(
        label=_("Voting closes"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    rationale = forms.CharField(
        label=_("Why this change?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=20000,
        help_text=_("Markdown. Voters read this first."),
    )

    @classmethod
    def initial_for(cls, days: int, rationale: str) -> dict[str, Any]:
        closes = timezone.localtime() + timedelta(days=days)
        return {"closes_at": closes.replace(second=0, microsecond=0), "rationale": rationale}


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your vote"), choices=VoteChoice.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        required=False,
        help_text=_("Required when you disagree or block."),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )
    criterion_id = forms.ChoiceField(label=_("About"), required=False)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, criteria: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["criterion_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("The whole proposal")), *(criteria or [])]


class CommentEditForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )


class DeclineForm(forms.Form):
    response = forms.CharField(
        label=_("Why decline?"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )


class PolicyForm(forms.Form):
    quorum_percent = forms.IntegerField(
        label=_("Quorum: share of voters who must vote (%)"), min_value=0, max_value=100
    )
    required_departments = forms.MultipleChoiceField(
        label=_("Departments that must each have at least one agree"),
        choices=Department.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    majority_percent = forms.IntegerField(
        label=_("Agree must be more than this share of agree + disagree (%)"),
        min_value=0,
        max_value=99,
    )
    block_vetoes = forms.BooleanField(
        label=_("A standing block rejects the proposal"), required=False
    )
    default_voting_days = forms.IntegerField(
        label=_("Default voting period (days)"), min_value=1, max_value=90
    )
    hide_tallies = forms.BooleanField(
        label=_("Hide the running tally until the vote closes"),
        required=False,
        help_text=_("Members see who has voted, but not how, until voting closes."),
    )


class RestoreForm(forms.Form):
    reason = forms.CharField(
        label=_("Why go back to this version?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Say why the definition should go back.")},
    )
    confirm_emergency = forms.BooleanField(
        label=_("I understand this publishes the earlier version now, without a vote"),
        required=False,
    )
