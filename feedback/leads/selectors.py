"""Reads for leads: the list (search, filters, sort) with its capped count and pager,
and a lead's activities."""

from __future__ import annotations

import re
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy

from definitions.models import Workshop
from feedback.models import Lead, LeadActivity

WHOLE_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Counting past this many rows costs time and tells nobody anything more.
COUNT_CAP = 10_000
# Each matches an index of Lead exactly; leads without the value come last.
SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "newest": ("-id",),
    "created": (F("created_at").desc(nulls_last=True), "-id"),
    "company": ("company", "id"),
    "revenue": (F("annual_revenue").desc(nulls_last=True), "-id"),
}


def leads_of(
    workshop: Workshop,
    *,
    q: str = "",
    filters: dict[str, str] | None = None,
    sort: str = "newest",
) -> QuerySet[Lead]:
    qs = Lead.objects.filter(workshop=workshop)
    q = q.strip()
    if WHOLE_EMAIL.fullmatch(q):
        # A whole address finds the lead that has it, through an index. As a substring
        # search its every trigram (".example", "@") would be in most leads' text.
        qs = qs.filter(email__iexact=q)
    elif q:
        qs = qs.filter(search_text__contains=q.lower())
    for key, value in (filters or {}).items():
        if key.startswith("custom."):
            qs = qs.filter(**{f"custom__{key[7:]}": value})
        else:
            qs = qs.filter(**{key: value})
    return qs.order_by(*SORTS.get(sort, SORTS["newest"]))


def capped_count(qs: QuerySet[Lead], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, more): the exact count up to ``cap``, else ``cap`` and True."""
    n = qs.order_by()[: cap + 1].count()
    return min(n, cap), n > cap


if TYPE_CHECKING:
    _Paginator = Paginator[Any]
else:  # Django's Paginator is generic only in its type stubs
    _Paginator = Paginator


class CappedPaginator(_Paginator):
    """Pages over a large queryset that count at most COUNT_CAP rows: beyond that the
    number of pages is a lower bound, and ``more`` says so (the pager shows "500+")."""

    more = False

    def __init__(
        self, *args: Any, cap: int = COUNT_CAP, known: int | None = None, **kwargs: Any
    ) -> None:
        """``known``: the number of rows, when the caller has it without counting."""
        super().__init__(*args, **kwargs)
        self.cap = cap
        self.known = known

    @cached_property
    def count(self) -> int:
        if self.known is not None:
            self.more = self.known > self.cap
            return min(self.known, self.cap)
        n, self.more = capped_count(cast(QuerySet[Lead], self.object_list), self.cap)
        return n


def activities_of(lead: Lead, limit: int = 200) -> QuerySet[LeadActivity]:
    return LeadActivity.objects.filter(lead=lead).order_by("-at")[:limit]
