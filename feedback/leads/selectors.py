"""Reads for leads: the list (search, filters, sort) with its capped count and pager,
and a lead's activities."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import BooleanField, F, QuerySet
from django.db.models.expressions import OrderBy, RawSQL

from definitions import rules
from definitions.models import Workshop
from feedback.models import Lead, LeadActivity

WHOLE_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Compared exactly; the other built-in fields are texts, compared without case.
EXACT_FIELDS = {f.key for f in rules.BUILTIN_FIELDS if f.type != rules.FieldType.TEXT}
# Counting past this many rows costs time and tells nobody anything more.
COUNT_CAP = 10_000
# Each matches an index of Lead exactly; leads without the value come last.
SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "newest": ("-id",),
    "created": (F("created_at").desc(nulls_last=True), "-id"),
    "company": ("company", "id"),
    "revenue": (F("annual_revenue").desc(nulls_last=True), "-id"),
}


# The fields the lead list filters through the GIN index of migration feedback/0017,
# in the argument order of its lead_filter_tokens(), with the SQL that turns a value
# into the token's value exactly as the index does. The others are served by a sort
# index or (the nearly unique texts: company, e-mail and its domain, job title) by
# their B-trees of migration feedback/0009.
TOKEN_FIELDS: dict[str, str] = {
    "source": "{v}::text",
    "channel": "{v}::text",
    "seniority": "{v}::text",
    "email_domain_kind": "{v}::text",
    "budget": "{v}::text",
    "authority": "{v}::text",
    "need": "{v}::text",
    "reached_stage": "{v}::text",
    "industry": "upper({v}::text)",
    "country": "upper({v}::text)",
    "region": "upper({v}::text)",
    "employees": "({v}::double precision + 0)::text",
    "timeline_days": "({v}::double precision + 0)::text",
    "deal_value": "({v}::double precision + 0)::text",
    "converted": "({v}::boolean)::text",
    "closed_at": "{v}::text",
}

_EPOCH_DAY = date(2000, 1, 1)


def _tokens_sql() -> str:
    table = Lead._meta.db_table
    columns = ", ".join(f'"{table}"."{c}"' for c in ["workshop_id", *TOKEN_FIELDS])
    return f"lead_filter_tokens({columns})"


def has_token(workshop_id: int, key: str, values: list[Any]) -> RawSQL:
    """PostgreSQL: the lead has "key = value" for one of `values` (already typed), as a
    condition the lead_filter_tokens GIN index answers."""
    needles = ", ".join(f"(%s || {TOKEN_FIELDS[key].format(v='%s')})" for _value in values)
    params: list[Any] = []
    for value in values:
        params += [f"{workshop_id}:{key}=", value]
    # Column names and TOKEN_FIELDS' SQL are our own; every value is a parameter.
    condition = f"{_tokens_sql()} && ARRAY[{needles}]"
    return RawSQL(condition, params, output_field=BooleanField())  # noqa: S611


def utc_days(start: datetime, end: datetime) -> list[int]:
    """The close-date tokens of the moments from `start` to `end`: their UTC days."""
    first, last = start.astimezone(UTC).date(), end.astimezone(UTC).date()
    return list(range((first - _EPOCH_DAY).days, (last - _EPOCH_DAY).days + 1))


def field_equals(qs: QuerySet[Lead], workshop_id: int, key: str, value: Any) -> QuerySet[Lead]:
    """Leads whose built-in field `key` equals `value` (typed; texts without case; a
    date column: the range of moments (start, end)). On PostgreSQL through the token
    index where the field has a token, otherwise through the B-trees of migration
    feedback/0009 or a sort index."""
    if isinstance(value, tuple):
        start, end = value
        qs = qs.filter(**{f"{key}__range": (start, end)})
        if connection.vendor == "postgresql" and key in TOKEN_FIELDS:
            qs = qs.filter(has_token(workshop_id, key, [str(d) for d in utc_days(start, end)]))
        return qs
    if connection.vendor == "postgresql" and key in TOKEN_FIELDS:
        return qs.filter(has_token(workshop_id, key, [value]))
    if isinstance(value, str) and key not in EXACT_FIELDS:
        return qs.filter(**{f"{key}__iexact": value})
    return qs.filter(**{key: value})


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
        qs = field_equals(qs, workshop.pk, "email", q)
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
