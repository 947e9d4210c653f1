"""The lead list's search and filter, as a form: each value is checked at its field
(no control characters, numbers in range, real dates) before it reaches a query."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from definitions import rules
from definitions.core.querystring import BoundedFloatField, SearchField

_FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
# A day with a day on either side, so the range of its moments never leaves the
# calendar in any time zone.
_FIRST_DAY, _LAST_DAY = date(1, 1, 2), date(9999, 12, 30)


class LeadFilterForm(forms.Form):
    q = SearchField(label=_("Search name, e-mail or company"))
    field = forms.ChoiceField(
        label=_("Field"),
        required=False,
        error_messages={"invalid_choice": _("Choose a field from the list.")},
    )
    value = SearchField(label=_("Value"))

    def __init__(self, data: Any, *, catalog: rules.Catalog) -> None:
        super().__init__(data)
        self.catalog = catalog
        field = self.fields["field"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", ""), *((k, k) for k in catalog.fields)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        spec = self.catalog.fields.get(data.get("field") or "")
        raw = data.get("value") or ""
        data["typed"] = None
        if spec is not None and raw and "value" not in self.errors:
            data["typed"] = self._typed(spec, raw)
        return data

    def _typed(self, spec: rules.FieldSpec, raw: str) -> Any:
        """The value in the field's type, or None after a field error."""
        field: forms.Field
        if spec.type == rules.FieldType.NUMBER:
            field = BoundedFloatField()
        elif spec.type == rules.FieldType.DATE:
            field = forms.DateField(input_formats=["%Y-%m-%d"])
        elif spec.type == rules.FieldType.BOOLEAN:
            if raw.lower() not in _FLAGS:
                self.add_error("value", _("Enter yes or no."))
                return None
            return _FLAGS[raw.lower()]
        else:
            return raw
        try:
            value = field.clean(raw)
        except forms.ValidationError as exc:
            self.add_error("value", exc)
            return None
        if isinstance(value, date) and not _FIRST_DAY <= value <= _LAST_DAY:
            self.add_error("value", forms.DateField.default_error_messages["invalid"])
            return None
        return value
