"""Forms of the catalog page: a custom field, an activity kind."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from definitions.models import FieldCategory, FieldType

KEY_HELP = _("Lower-case letters, digits and underscores, starting with a letter.")


class CustomFieldForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=120)
    key = forms.RegexField(
        label=_("Key"),
        regex=r"^[a-z][a-z0-9_]{0,63}\Z",
        max_length=64,
        help_text=KEY_HELP,
        error_messages={"invalid": KEY_HELP},
    )
    type = forms.ChoiceField(label=_("Type"), choices=FieldType.choices)
    category = forms.ChoiceField(label=_("Category"), choices=FieldCategory.choices)
    choices = forms.CharField(
        label=_("Allowed values (choice fields)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=20_000,
        help_text=_("One per line."),
    )
    after_outcome = forms.BooleanField(
        label=_("Known only after the outcome"),
        required=False,
        help_text=_(
            "Filled in once the deal is decided (a loss reason, a contract value): "
            "criterion discovery never uses it, and the builder warns where a criterion does."
        ),
    )

    def clean_choices(self) -> list[str]:
        raw: str = self.cleaned_data.get("choices", "")
        return [line.strip() for line in raw.splitlines() if line.strip()]


class ActivityKindForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=120)
    key = forms.RegexField(
        label=_("Key"),
        regex=r"^[a-z][a-z0-9_]{0,63}\Z",
        max_length=64,
        help_text=KEY_HELP,
        error_messages={"invalid": KEY_HELP},
    )
