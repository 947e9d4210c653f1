"""A definition compiled to SQL: one statement evaluates every lead of an id range.

The meaning is the reference evaluator's (definitions.rules.evaluate, documented in
docs/definition-format.md); a hypothesis test holds the two equal on SQLite and on
PostgreSQL.  The statement has three layers:

1. ``leads``: the lead queryset, annotated through the ORM with one boolean per field
   criterion (``m<i>``).  Each is ``CASE WHEN <lookup> THEN true ELSE false END``: a
   missing value makes the lookup NULL, and NULL is not true, so a missing value
   matches nothing but "is not set", exactly like the evaluator.
2. ``acts``: the activity queryset of the same id range grouped by lead, kind and UTC
   day through the ORM, folded per lead into one count per activity criterion (the
   day level gives "N on one day" as a MAX; ``ever`` and ``last_days`` are SUMs).  A
   single pass over the activities, not one probe per lead and criterion.
3. The combination: the qualify tree, junk, score, stage and the matched ids, written
   out from the definition (plain boolean algebra over the columns above).

Text compares by Python's ``str.casefold``.  SQLite calls it directly (a function
registered on each connection); PostgreSQL 15 has no such function, so ASCII text is
lower-cased in the "C" collation (exactly what casefold does to ASCII) and any other text
is looked up in FoldedText, which ``fold_prepare`` fills before a run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DateTimeField,
    Expression,
    F,
    FloatField,
    Func,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.functions import NullIf, StrIndex, TruncDate
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from definitions import rules
from definitions.rules.schema import Value as Value_
from feedback.models import FoldedText, Lead, LeadActivity

BUILTIN = {spec.key: spec for spec in rules.BUILTIN_FIELDS}
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


# ----------------------------------------------------------------- SQL building blocks


class Fold(Func):
    """str.casefold() of a text expression (NULL stays NULL)."""

    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="lw_casefold", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        # A string whose byte length equals its character length is pure ASCII: cheaper
        # to test than a regular expression, and a million rows test it per criterion.
        folded = (
            f"CASE WHEN octet_length({sql}) = char_length({sql}) "
            # In the "C" collation lower() maps A-Z and nothing else: exactly what
            # casefold does to ASCII, whatever the database's own locale.
            f'THEN lower({sql} COLLATE "C") '
            f"ELSE (SELECT ft.folded FROM {FoldedText._meta.db_table} ft WHERE ft.raw = {sql}) END"
        )
        return folded, (*params, *params, *params, *params)


class CustomValue(Func):
    """A custom field's value from the ``custom`` JSON, typed for one field type, or
    NULL when the stored JSON value has another type (a text where a number belongs
    never compares, as in the evaluator)."""

    def __init__(self, key: str, kind: str, output_field: Any) -> None:
        super().__init__(F("custom"), output_field=output_field)
        self.key = key
        self.kind = kind

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        col, params = compiler.compile(self.source_expressions[0])
        item, text = f"({col} -> %s)", f"({col} ->> %s)"
        typeof = f"jsonb_typeof({item})"
        args = (*params, self.key)
        if self.kind == "text":
            return f"CASE WHEN {typeof} = 'string' THEN {text} END", (*args, *args)
        if self.kind == "number":
            return f"CASE WHEN {typeof} = 'number' THEN {text}::float8 END", (*args, *args)
        if self.kind == "boolean":
            return f"CASE WHEN {typeof} = 'boolean' THEN {text}::boolean END", (*args, *args)
        # date: ISO "YYYY-MM-DD" text, as the importer and the API store it
        return (
            f"CASE WHEN {typeof} = 'string' AND {text} ~ '{ISO_DATE}' THEN {text}::date END",
            (*args, *args, *args),
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        col, params = compiler.compile(self.source_expressions[0])
        path = '$."' + self.key + '"'
        typeof, value = f"json_type({col}, %s)", f"json_extract({col}, %s)"
        args = (*params, path)
        wanted = {
            "text": "('text')",
            "number": "('integer', 'real')",
            "boolean": "('true', 'false')",
            "date": "('text')",
        }[self.kind]
        check = f"{typeof} IN {wanted}"
        if self.kind == "date":
            glob = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
            check += f" AND {value} GLOB '{glob}'"
            return f"CASE WHEN {check} THEN {value} END", (*args, *args, *args)
        return f"CASE WHEN {check} THEN {value} END", (*args, *args)


class CustomPresent(Func):
    """Whether a custom field holds a value the evaluator counts as present: a
    non-empty string, a number or a boolean (null, "", lists and objects are not)."""

    output_field = BooleanField()

    def __init__(self, key: str) -> None:
        super().__init__(F("custom"))
        self.key = key

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        col, params = compiler.compile(self.source_expressions[0])
        typeof = f"jsonb_typeof({col} -> %s)"
        # COALESCE: an absent key gives NULL, and "is not set" must still be true.
        sql = (
            f"COALESCE({typeof} IN ('number', 'boolean') "
            f"OR ({typeof} = 'string' AND ({col} ->> %s) <> ''), FALSE)"
        )
        args = (*params, self.key)
        return sql, (*args, *args, *args)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        col, params = compiler.compile(self.source_expressions[0])
        path = '$."' + self.key + '"'
        typeof = f"json_type({col}, %s)"
        sql = (
            f"COALESCE({typeof} IN ('integer', 'real', 'true', 'false') "
            f"OR ({typeof} = 'text' AND json_extract({col}, %s) <> ''), 0)"
        )
        args = (*params, path)
        return sql, (*args, *args, *args)


class DecisionMoment(Func):
    """The moment a lead is judged at: ``created + days``, never later than ``as_of``
    (``as_of`` when ``created`` is NULL), as rules.decision_moment computes it.

    PostgreSQL adds an interval of hours (LEAST ignores a NULL). SQLite stores a datetime as
    text ("YYYY-MM-DD HH:MM:SS[.ffffff]", UTC) that its own date functions would cut
    to milliseconds, so a Python function registered on the connection adds the days
    and MIN compares the texts, which sort like the moments they name."""

    output_field = DateTimeField()

    def __init__(self, created: Any, *, days: int, as_of: datetime) -> None:
        super().__init__(created, Value(as_of, output_field=DateTimeField()))
        self.days = int(days)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        created, p1 = compiler.compile(self.source_expressions[0])
        as_of, p2 = compiler.compile(self.source_expressions[1])
        # Hours, not days: a day added in a time zone with summer time is not 24 hours.
        return f"LEAST({created} + make_interval(hours => {24 * self.days}), {as_of})", (*p1, *p2)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        created, p1 = compiler.compile(self.source_expressions[0])
        as_of, p2 = compiler.compile(self.source_expressions[1])
        # NULL (no creation, or past year 9999) leaves as_of.
        return (
            f"MIN(COALESCE(lw_add_days({created}, {self.days}), {as_of}), {as_of})",
            (*p1, *p2, *p2),
        )


class ShiftDays(Func):
    """A moment ``days`` days later (earlier when negative)."""

    output_field = DateTimeField()

    def __init__(self, moment: Any, days: int) -> None:
        super().__init__(moment)
        self.days = int(days)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        moment, params = compiler.compile(self.source_expressions[0])
        return f"({moment} + make_interval(hours => {24 * self.days}))", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        moment, params = compiler.compile(self.source_expressions[0])
        return f"lw_add_days({moment}, {self.days})", params


class MomentDate(Func):
    """The UTC calendar date of a moment, ``days`` days later (earlier when negative)."""

    output_field = DateField()

    def __init__(self, moment: Any, days: int = 0) -> None:
        super().__init__(moment)
        self.days = int(days)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        moment, params = compiler.compile(self.source_expressions[0])
        # date + integer is a date; PostgreSQL's dates reach far before year 1.
        return f"((({moment}) AT TIME ZONE 'UTC')::date + {self.days})", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        moment, params = compiler.compile(self.source_expressions[0])
        return f"lw_day({moment}, {self.days})", params


def _flag(condition: Any) -> Case:
    """A lookup as a never-NULL boolean: NULL (a missing value) becomes false."""
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


# ------------------------------------------------------------------- field criteria


def _items(value: Value_) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,)


def lead_value(spec: rules.FieldSpec) -> Any:
    """The lead's value of a field as the evaluator compares it."""
    kind = spec.type
    if spec.key in BUILTIN and spec.builtin:
        if kind in (rules.FieldType.TEXT, rules.FieldType.CHOICE):
            return Fold(NullIf(F(spec.key), Value("")))
        if kind == rules.FieldType.DATE:
            return TruncDate(spec.key, tzinfo=UTC)
        return F(spec.key)
    if kind in (rules.FieldType.TEXT, rules.FieldType.CHOICE):
        return Fold(NullIf(CustomValue(spec.key, "text", TextField()), Value("")))
    if kind == rules.FieldType.NUMBER:
        return CustomValue(spec.key, "number", FloatField())
    if kind == rules.FieldType.BOOLEAN:
        return CustomValue(spec.key, "boolean", BooleanField())
    return CustomValue(spec.key, "date", DateField())


def field_present(spec: rules.FieldSpec) -> Any:
    if spec.key in BUILTIN and spec.builtin:
        if spec.type in (rules.FieldType.TEXT, rules.FieldType.CHOICE):
            return IsNull(NullIf(F(spec.key), Value("")), False)
        return IsNull(F(spec.key), False)
    return CustomPresent(spec.key)


def _compare(op: rules.Op, value: Expression, items: Sequence[Any]) -> Any:
    first = items[0]
    match op:
        case rules.Op.EQ:
            return Exact(value, first)
        case rules.Op.NE:
            # NOT (x = y) is NULL for a NULL x: a missing value does not match "ne".
            return ~Q(Exact(value, first))
        case rules.Op.IN:
            return In(value, list(items))
        case rules.Op.NOT_IN:
            return ~Q(In(value, list(items)))
        case rules.Op.GT:
            return GreaterThan(value, first)
        case rules.Op.GTE:
            return GreaterThanOrEqual(value, first)
        case rules.Op.LT:
            return LessThan(value, first)
        case rules.Op.LTE:
            return LessThanOrEqual(value, first)
        case rules.Op.BETWEEN:
            return Q(GreaterThanOrEqual(value, first)) & Q(LessThanOrEqual(value, items[1]))
    raise ValueError(f"operator {op} does not compare")


def field_condition(
    criterion: rules.FieldCriterion,
    catalog: rules.Catalog,
    *,
    as_of: datetime,
    moment: Any = None,
) -> Any:
    """The ORM condition that is true exactly when the evaluator says the criterion
    matches (NULL or false otherwise), evaluated as of ``as_of``, or as of each lead's
    own ``moment`` (an expression, e.g. DecisionMoment) when one is given."""
    spec = catalog.fields[criterion.field]
    op = criterion.op
    if op == rules.Op.IS_SET:
        return field_present(spec)
    if op == rules.Op.IS_NOT_SET:
        return ~Q(field_present(spec))
    value = lead_value(spec)
    items = _items(criterion.value)
    if spec.type in (rules.FieldType.TEXT, rules.FieldType.CHOICE):
        folded = [str(item).casefold() for item in items]
        if op == rules.Op.CONTAINS:
            return GreaterThan(StrIndex(value, Value(folded[0])), 0)
        if op == rules.Op.STARTS_WITH:
            return Exact(StrIndex(value, Value(folded[0])), 1)
        return _compare(op, value, folded)
    if spec.type == rules.FieldType.BOOLEAN:
        return Exact(value, bool(criterion.value))
    if spec.type == rules.FieldType.DATE:
        today = as_of.astimezone(UTC).date()
        if op == rules.Op.WITHIN_LAST_DAYS:
            assert isinstance(criterion.value, int)
            days = criterion.value
            if moment is not None:
                # The lead's own day: age = day - d must lie in 0..N.
                return Q(GreaterThanOrEqual(value, MomentDate(moment, -days))) & Q(
                    LessThanOrEqual(value, MomentDate(moment))
                )
            # age = today - d must lie in 0..N; clamp where N days reach before year 1.
            start = date.min if (today - date.min).days < days else today - timedelta(days=days)
            return Q(GreaterThanOrEqual(value, start)) & Q(LessThanOrEqual(value, today))
        return _compare(op, value, [date.fromisoformat(str(item)) for item in items])
    return _compare(op, value, [float(item) for item in items])


# ---------------------------------------------------------------- activity criteria


@dataclass(frozen=True)
class _ActivityColumn:
    name: str  # column of the per-lead activity row
    per_day: str  # column of the per-day rows it folds
    fold: str  # SUM or MAX


def _activity_columns(
    activity: Sequence[tuple[int, rules.ActivityCriterion]], as_of: datetime, moment: Any
) -> tuple[dict[str, Any], list[_ActivityColumn], dict[int, str]]:
    """Per-day annotations, the per-lead folds, and each criterion's column name.

    Criteria that need the same numbers share a column: "2 high-value downloads ever"
    and "1 ever" both read the count of high-value downloads."""
    per_day: dict[str, Any] = {}
    columns: dict[tuple[str, str, int | None], _ActivityColumn] = {}
    of_criterion: dict[int, str] = {}
    for index, criterion in activity:
        days = criterion.days if criterion.window == rules.Window.LAST_DAYS else None
        key = (criterion.kind, "max" if criterion.window == rules.Window.ONE_DAY else "sum", days)
        if key not in columns:
            n = len(columns)
            condition = Q(kind=criterion.kind)
            if days is not None:
                since = _minus_days(as_of, days) if moment is None else ShiftDays(moment, -days)
                condition &= Q(at__gt=since)
            per_day[f"d{n}"] = Count("pk", filter=condition)
            columns[key] = _ActivityColumn(f"a{n}", f"d{n}", key[1].upper())
        of_criterion[index] = columns[key].name
    return per_day, list(columns.values()), of_criterion


def _minus_days(moment: datetime, days: int) -> datetime:
    try:
        return moment - timedelta(days=days)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


# ------------------------------------------------------------------------ the statement


@dataclass(frozen=True)
class Statement:
    """SELECT lead_id, qualified, junk, score, stage, matched, h0 … h<n-1>."""

    sql: str
    params: tuple[Any, ...]
    # Criterion ids in document order: the order of ``matched``.
    criterion_ids: tuple[str, ...]


def _true(pg: bool) -> str:
    return "TRUE" if pg else "1"


def _false(pg: bool) -> str:
    return "FALSE" if pg else "0"


def compile_range(
    definition: rules.Definition,
    catalog: rules.Catalog,
    *,
    workshop_id: int,
    as_of: datetime,
    low: int,
    high: int,
    decision_days: int | None = None,
    only: Any = None,
) -> Statement:
    """SELECT lead_id, qualified, junk, score, stage, matched for the workshop's leads
    with low <= id < high: each lead as of its decision moment (its creation plus
    ``decision_days``, never later than ``as_of``), or every lead as of ``as_of`` when
    ``decision_days`` is None. ``only``, a function from the lead id column's name to a
    condition, keeps a subset of the range (discovery reads a sample)."""
    pg = connection.vendor == "postgresql"
    all_criteria = rules.criteria(definition)
    index_of = {c.id: i for i, c in enumerate(all_criteria)}

    def moment_of(created: str) -> Any:
        if decision_days is None:
            return None
        return DecisionMoment(F(created), days=decision_days, as_of=as_of)

    lead_flags = {
        f"m{i}": _flag(field_condition(c, catalog, as_of=as_of, moment=moment_of("created_at")))
        for i, c in enumerate(all_criteria)
        if isinstance(c, rules.FieldCriterion)
    }
    leads = (
        Lead.objects.filter(workshop_id=workshop_id, id__gte=low, id__lt=high)
        .filter(only("id") if only is not None else Q())
        .order_by()
        .annotate(**lead_flags)
        .values("id", *lead_flags)
    )
    lead_sql, lead_params = leads.query.sql_with_params()

    activity = [
        (i, c) for i, c in enumerate(all_criteria) if isinstance(c, rules.ActivityCriterion)
    ]
    # An activity's lead's decision moment (its creation, through the lead by key).
    act_moment = moment_of("lead__created_at")
    per_day, columns, column_of = _activity_columns(activity, as_of, act_moment)
    expr: dict[int, str] = {}
    for i, c in enumerate(all_criteria):
        if isinstance(c, rules.ActivityCriterion):
            expr[i] = f"(COALESCE(a.{column_of[i]}, 0) >= {int(c.min_count)})"
        else:
            expr[i] = f"l.m{i}"

    joins, act_params = "", ()
    if columns:
        daily = (
            LeadActivity.objects.filter(
                lead_id__gte=low,
                lead_id__lt=high,
                kind__in=sorted({c.kind for _, c in activity}),
            )
            .filter(only("lead_id") if only is not None else Q())
            # Only the past of the moment the lead is judged at exists.
            .filter(at__lte=as_of if act_moment is None else act_moment)
            .order_by()
            .annotate(day=TruncDate("at", tzinfo=UTC))
            # One row per lead and UTC day (only "N on one day" needs the day).
            .values("lead_id", *(["day"] if any(c.fold == "MAX" for c in columns) else []))
            .annotate(**per_day)
        )
        daily_sql, act_params = daily.query.sql_with_params()
        folds = ", ".join(f"{col.fold}(d.{col.per_day}) AS {col.name}" for col in columns)
        joins = (
            f" LEFT JOIN (SELECT d.lead_id, {folds} FROM ({daily_sql}) d GROUP BY d.lead_id) a"
            " ON a.lead_id = l.id"
        )

    def group(g: rules.Group) -> str:
        parts = [
            group(child) if isinstance(child, rules.Group) else expr[index_of[child.id]]
            for child in g.children
        ]
        if g.mode == rules.GroupMode.ALL:
            return "(" + " AND ".join(parts) + ")"
        if g.mode == rules.GroupMode.ANY:
            return "(" + " OR ".join(parts) + ")"
        counted = " + ".join(f"(CASE WHEN {p} THEN 1 ELSE 0 END)" for p in parts)
        return f"(({counted}) >= {int(g.n or 0)})"

    def any_of(criteria: Sequence[rules.Criterion]) -> str:
        if not criteria:
            return _false(pg)
        return "(" + " OR ".join(expr[index_of[c.id]] for c in criteria) + ")"

    # Junk rules never carry points (validation), and the evaluator ignores them anyway.
    junk_ids = {c.id for c in definition.disqualify}
    scored = [
        (i, c.points) for i, c in enumerate(all_criteria) if c.points and c.id not in junk_ids
    ]
    score = " + ".join(f"(CASE WHEN {expr[i]} THEN {int(p)} ELSE 0 END)" for i, p in scored) or "0"
    # Ids are written into the SQL: validation allows only [A-Za-z0-9_-], checked again.
    assert all(SAFE_ID.match(c.id) for c in all_criteria)
    matched = " || ".join(
        f"(CASE WHEN {expr[i]} THEN '{c.id},' ELSE '' END)" for i, c in enumerate(all_criteria)
    )
    stages = definition.stages
    ready = any_of(stages.sales_ready) if stages.sales_ready else _true(pg)
    # One 0/1 column per criterion (h0, h1, …) after the six result columns, so the
    # run's per-criterion counts are sums, not string searches.
    hits = "".join(
        f", (CASE WHEN {expr[i]} THEN 1 ELSE 0 END) AS h{i}" for i in range(len(all_criteria))
    )
    inner = (
        f"SELECT l.id AS lead_id, {group(definition.qualify)} AS q, "
        f"{any_of(definition.disqualify)} AS j, {score} AS s, {ready} AS r, "
        f"rtrim({matched or chr(39) * 2}, ',') AS matched{hits} "
        # OFFSET 0 keeps PostgreSQL from inlining the lead subquery: each criterion is
        # then evaluated once per lead, not once per place the combination reads it.
        f"FROM ({lead_sql}{' OFFSET 0' if pg else ''}) l{joins}"
    )
    sql = (
        "SELECT x.lead_id, (x.q AND NOT x.j) AS qualified, x.j AS junk, x.s AS score, "
        "CASE WHEN x.j THEN 'junk' WHEN NOT x.q THEN 'subscriber' "
        f"WHEN x.s >= {int(stages.sql)} AND x.r THEN 'sql' "
        f"WHEN x.s >= {int(stages.mql)} THEN 'mql' ELSE 'lead' END AS stage, x.matched"
        + "".join(f", x.h{i}" for i in range(len(all_criteria)))
        + f" FROM ({inner}) x"
    )
    return Statement(sql, (*lead_params, *act_params), tuple(c.id for c in all_criteria))


# ---------------------------------------------------------------------- text folding


def text_sources(definition: rules.Definition, catalog: rules.Catalog) -> list[rules.FieldSpec]:
    """Text and choice fields the definition compares (so their values need folding)."""
    seen: dict[str, rules.FieldSpec] = {}
    for criterion in rules.criteria(definition):
        if isinstance(criterion, rules.FieldCriterion) and criterion.op not in (
            rules.Op.IS_SET,
            rules.Op.IS_NOT_SET,
        ):
            spec = catalog.fields[criterion.field]
            if spec.type in (rules.FieldType.TEXT, rules.FieldType.CHOICE):
                seen[spec.key] = spec
    return list(seen.values())


def fold_prepare(
    definition: rules.Definition,
    catalog: rules.Catalog,
    *,
    workshop_id: int,
    among: tuple[str, Sequence[Any]] | None = None,
) -> int:
    """Fold, in Python, every non-ASCII text the definition will compare that is not
    folded yet (PostgreSQL only; SQLite folds in SQL). ``among``, an SQL query of lead
    ids and its parameters, looks only at those leads (a few arrived ones, not the
    whole workshop). Returns how many were added."""
    if connection.vendor != "postgresql":
        return 0
    sources = text_sources(definition, catalog)
    if not sources:
        return 0
    values: list[str] = []
    params: list[Any] = []
    for spec in sources:
        if spec.key in BUILTIN and spec.builtin:
            values.append(f"(l.{connection.ops.quote_name(spec.key)})")
        else:
            values.append("(l.custom ->> %s)")
            params.append(spec.key)
    table = FoldedText._meta.db_table
    sql = (
        f"SELECT DISTINCT v.t FROM {Lead._meta.db_table} l "
        f"CROSS JOIN LATERAL (VALUES {', '.join(values)}) v(t) "
        f"WHERE l.workshop_id = %s AND octet_length(v.t) <> char_length(v.t) "
        f"AND NOT EXISTS (SELECT 1 FROM {table} ft WHERE ft.raw = v.t)"
    )
    if among is not None:
        sql += f" AND l.id IN ({among[0]})"
        params += [workshop_id, *among[1]]
    else:
        params.append(workshop_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        new = [row[0] for row in cursor.fetchall()]
    FoldedText.objects.bulk_create(
        [FoldedText(raw=raw, folded=raw.casefold()) for raw in new],
        batch_size=5000,
        ignore_conflicts=True,
    )
    return len(new)


def register_sqlite_functions(connection: Any) -> None:
    """Give a SQLite connection the casefold the compiled statements call."""

    def casefold(value: object) -> object:
        return value.casefold() if isinstance(value, str) else value

    connection.create_function("lw_casefold", 1, casefold, deterministic=True)
    connection.create_function("lw_add_days", 2, sqlite_add_days, deterministic=True)
    connection.create_function("lw_day", 2, sqlite_day, deterministic=True)


# Below every datetime and date SQLite holds as text (years have four digits): what a
# moment before year 1 compares as, so "after it" holds for every stored moment.
_BEFORE_ALL = "0000-01-01 00:00:00"


def _sqlite_moment(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def sqlite_add_days(value: object, days: object) -> str | None:
    """A stored datetime ("YYYY-MM-DD HH:MM:SS[.ffffff]", UTC) ``days`` later, in the
    same text; NULL past year 9999, a text below every moment before year 1."""
    moment = _sqlite_moment(value)
    if moment is None or not isinstance(days, int):
        return None
    try:
        return str(moment + timedelta(days=days))
    except OverflowError:
        return None if days > 0 else _BEFORE_ALL


def sqlite_day(value: object, days: object) -> str | None:
    """The calendar date ("YYYY-MM-DD") of a stored datetime, ``days`` later."""
    moment = _sqlite_moment(value)
    if moment is None or not isinstance(days, int):
        return None
    try:
        return (moment.date() + timedelta(days=days)).isoformat()
    except OverflowError:
        return None if days > 0 else _BEFORE_ALL[:10]
