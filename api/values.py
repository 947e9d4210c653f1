"""Typed lead values as the API receives them: JSON already, so unlike a CSV cell
nothing is guessed (no "1.234,5", no "yes"/"sì"): a number field takes a JSON number,
a choice field one of its codes exactly, a date an ISO 8601 string.

The rules are the catalog's (definitions.rules.catalog): the same field types and
choice options the importer checks (feedback.imports.convert), and the same
storage: built-in dates as aware datetimes, custom dates as "YYYY-MM-DD", numbers as
floats within ±1e15, custom texts up to 500 characters.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from django.utils.translation import gettext as _

from definitions import rules

MAX_ABS_NUMBER = 1e15
CUSTOM_TEXT_LIMIT = 500
MAX_DATE_TEXT = 64


class ValueProblem(ValueError):
    """A value that does not fit its field; `code` is a stable machine-readable type."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_moment(raw: object) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime. A time without an
    offset is taken as UTC, as the importer does."""
    if not isinstance(raw, str):
        raise ValueProblem("datetime_type", _("Enter an ISO 8601 date or date-time string."))
    # RFC 3339 allows a lower-case "t" and "z"; Python wants them upper-case.
    text = raw.strip().upper()
    try:
        if len(text) > MAX_DATE_TEXT:
            raise ValueError
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueProblem(
            "datetime_parsing",
            _("Not an ISO 8601 date or date-time (like 2024-05-17T09:30:00Z)."),
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the year 1 in UTC
        raise ValueProblem(
            "datetime_range", _("This moment is outside the years 1 to 9999 in UTC.")
        ) from None


def is_number(raw: object) -> bool:
    # JSON true/false arrive as bool, which Python counts as an int: not a number here.
    return isinstance(raw, int | float) and not isinstance(raw, bool)


def _number(raw: object) -> float:
    if not is_number(raw):
        raise ValueProblem("number_type", _("This field takes a number."))
    try:
        value = float(raw)  # type: ignore[arg-type]
    except OverflowError:
        value = math.inf
    if not math.isfinite(value) or abs(value) > MAX_ABS_NUMBER:
        raise ValueProblem("number_range", _("Numbers must be finite and at most 10^15 in size."))
    return value


def choice_message(spec: rules.FieldSpec) -> str:
    shown = ", ".join(spec.choices[:20]) + (", …" if len(spec.choices) > 20 else "")
    return _("Choose one of: %(choices)s.") % {"choices": shown}


def check_text(raw: object, limit: int) -> str:
    if not isinstance(raw, str):
        raise ValueProblem("string_type", _("This field takes text."))
    if len(raw) > limit:
        raise ValueProblem("string_too_long", _("At most %(n)s characters.") % {"n": limit})
    if "\x00" in raw:
        # PostgreSQL text and jsonb cannot hold NUL.
        raise ValueProblem("string_nul", nul_message())
    return raw


def nul_message() -> str:
    return _("Text must not contain the NUL character (\\u0000).")


def field_value(spec: rules.FieldSpec, raw: object, *, text_limit: int) -> Any:
    """A value for `spec` as it is stored: in its Lead column for a built-in field, in
    Lead.custom for a custom one (custom dates as "YYYY-MM-DD", as the importer
    stores them). ValueProblem if it does not fit the field's type. None (JSON null)
    never reaches here: the caller turns it into "no value"."""
    if spec.type == rules.FieldType.NUMBER:
        return _number(raw)
    if spec.type == rules.FieldType.BOOLEAN:
        if not isinstance(raw, bool):
            raise ValueProblem("bool_type", _("This field takes true or false."))
        return raw
    if spec.type == rules.FieldType.DATE:
        moment = parse_moment(raw)
        if spec.builtin:
            return moment
        day: date = moment.date()
        return day.isoformat()
    text = check_text(raw, text_limit)
    if spec.type == rules.FieldType.CHOICE and text not in spec.choices:
        raise ValueProblem("enum", choice_message(spec))
    return text
