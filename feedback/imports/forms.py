from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.models import ImportKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[
            (ImportKind.LEADS, _("Leads: one row per lead")),
            (ImportKind.ACTIVITIES, _("Activities: lead id, kind and time per row")),
        ],
        initial=ImportKind.LEADS,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        help_text=_("UTF-8, UTF-8 with BOM, Latin-1 or Windows-1252; comma, semicolon or tab."),
    )


class OptionsForm(forms.Form):
    decimal = forms.ChoiceField(
        label=_("Numbers are written"),
        choices=[
            ("auto", _("Detect (1,234.5 or 1.234,5)")),
            ("dot", _("1,234.5 (dot decimal)")),
            ("comma", _("1.234,5 (comma decimal)")),
        ],
    )
    date_order = forms.ChoiceField(
        label=_("Dates that are not ISO are written"),
        choices=[
            ("ymd", _("Year-month-day (2026-03-31)")),
            ("dmy", _("Day/month/year (31/03/2026)")),
            ("mdy", _("Month/day/year (03/31/2026)")),
        ],
    )
    null_tokens = forms.CharField(
        label=_("Cells that mean “empty”"),
        max_length=1000,
        required=False,
        help_text=_("Separated by commas; compared without case."),
    )
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing: import nothing if any row has an error"), required=False
    )
    strict = forms.BooleanField(
        label=_("Strict: reject a row with a cell that cannot be read"),
        help_text=_(
            "Otherwise such a cell (a date in another format, a number with stray text) "
            "is left empty, listed in the report, and the row is imported."
        ),
        required=False,
    )

    def options(self) -> dict[str, Any]:
        data = self.cleaned_data
        tokens = [t.strip() for t in data.get("null_tokens", "").split(",")]
        return {
            "decimal": data["decimal"],
            "date_order": data["date_order"],
            "null_tokens": ["", *[t for t in tokens if t]],
            "all_or_nothing": bool(data.get("all_or_nothing")),
            "strict": bool(data.get("strict")),
        }
