"""Reading what a user typed into a query string or a filter: one place for the checks
every view needs, so that no value can reach the database that it refuses.

PostgreSQL refuses a NUL byte in any text and an integer beyond 64 bits; SQLite is
laxer, which is why these bugs hide in local runs (tests/test_get_fuzz.py runs on both).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from definitions import rules

# The largest page number any list accepts: far past every real list, while the
# offset (page times page size) stays far inside PostgreSQL's bigint.
MAX_PAGE = 1_000_000
# ASCII digits only: "²".isdigit() is True, yet int("²") raises; and at most 18 of them,
# so the number fits a bigint (and int() never meets Python's 4300-digit limit).
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
# C0 and C1 controls and lone surrogates: no search or filter needs them, and a
# surrogate cannot be encoded to UTF-8. (NUL, which PostgreSQL refuses in any text,
# is refused by every Django CharField already, with its own message.)
_CONTROL = re.compile(r"[\x01-\x1f\x7f-\x9f\ud800-\udfff]")


def whole_number(raw: str | None, *, high: int = 2**63 - 1) -> int | None:
    """A non-negative whole number written in ASCII digits, at most ``high``; else None."""
    if raw is None or not _WHOLE_NUMBER.fullmatch(raw):
        return None
    value = int(raw)
    return value if value <= high else None


def page_number(raw: str | None) -> int:
    """The page a ``?page=`` asks for: 1 when it is not a number, at most MAX_PAGE."""
    if raw is not None and _WHOLE_NUMBER.fullmatch(raw.strip()):
        return max(1, min(int(raw), MAX_PAGE))
    if raw is not None and raw.strip().isascii() and raw.strip().isdigit():
        return MAX_PAGE  # more than 18 digits: past the end, which shows the last page
    return 1


@dataclass(frozen=True)
class OffsetPage:
    rows: list[Any]
    number: int
    has_next: bool


def offset_page(qs: QuerySet[Any], raw: str | None, per_page: int) -> OffsetPage:
    """One page of ``qs`` by offset (the lists whose full count is too dear to take on
    every request). A page past the end shows the last page, as Django's
    ``Paginator.get_page`` does; only then is the whole list counted."""
    number = page_number(raw)
    rows = list(qs[(number - 1) * per_page : number * per_page + 1])
    if not rows and number > 1:
        number = max(1, math.ceil(qs.order_by().count() / per_page))
        rows = list(qs[(number - 1) * per_page : number * per_page + 1])
    return OffsetPage(rows=rows[:per_page], number=number, has_next=len(rows) > per_page)


def refuse_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError(_("Control characters are not allowed."), code="control")


class SearchField(forms.CharField):
    """Free text for a search or a filter: trimmed, bounded, no NUL or other control
    characters (each refused at the field, never stripped silently)."""

    default_validators = [refuse_control_characters]

    def __init__(self, *, max_length: int = 200, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(max_length=max_length, **kwargs)


class BoundedFloatField(forms.FloatField):
    """A finite number within what definitions accept (and a double holds exactly):
    FloatField already refuses NaN and infinities; this refuses the huge."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -rules.MAX_NUMBER)
        kwargs.setdefault("max_value", rules.MAX_NUMBER)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        # "1,000" is how people write a thousand; float() would refuse the comma.
        if isinstance(value, str):
            value = value.replace(",", "").strip()
        return super().to_python(value)
