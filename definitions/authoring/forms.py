"""Forms of the definition page: a new draft, a definition imported as JSON."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class DraftCreateForm(forms.Form):
    title = forms.CharField(label=_("Title of the draft"), max_length=200, required=False)


class DefinitionImportForm(forms.Form):
    title = forms.CharField(label=_("Title of the draft"), max_length=200, required=False)
    file = forms.FileField(label=_("JSON file"), required=False)
    text = forms.CharField(
        label=_("…or paste the JSON"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        required=False,
        max_length=1_000_000,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("file") and not (data.get("text") or "").strip():
            raise forms.ValidationError(_("Choose a JSON file or paste the JSON."))
        return data
