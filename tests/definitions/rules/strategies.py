"""Hypothesis strategies for definitions, catalogs and leads.

Reused by the SQL-compiler equivalence test, so they stay bounded (a handful of
criteria, shallow trees, a dozen activities) and draw values from small pools that
make matches likely and hit the edges: casefold variants of text, numbers one either
side of a bound, dates and activities exactly on window boundaries, activities in
the future, missing values of every kind.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from definitions.rules import (
    BUILTIN_FIELDS,
    CRITERION_CATEGORIES,
    DEFAULT_ACTIVITY_KINDS,
    OPERATORS,
    SCHEMA_VERSION,
    Activity,
    ActivityCriterion,
    ActivityKindSpec,
    Catalog,
    Category,
    Criterion,
    Definition,
    FieldCriterion,
    FieldSpec,
    FieldType,
    Group,
    GroupMode,
    LeadData,
    Op,
    Stages,
    Window,
    criteria,
)
from definitions.rules.schema import LIST_OPS, NO_VALUE_OPS, Scalar, Value

# The moment every generated lead is evaluated at.  Fixed, so failures reproduce.
AS_OF = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)

# Ids shared by all generated definitions, so two independent definitions often share
# ids: that is what makes diff's "changed / moved / points" cases appear.
ID_POOL = tuple(f"n{i}" for i in range(24))

TEXT_POOL = ("Life Science", "life science", "LIFE", "US", "us", "Ca", "Straße", "STRASSE", "x")
CHOICE_POOL = ("alpha", "beta", "gamma", "delta")
NUMBER_POOL: tuple[int | float, ...] = (0, 1, -1, 7, 180, 1500000, 300000000, 2.5, -0.5)
DATE_POOL = tuple(date(2025, 6, 15) - timedelta(days=d) for d in (0, 1, 2, 29, 30, 31, 365))
TIMEZONES = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)))


def catalogs() -> st.SearchStrategy[Catalog]:
    """The built-in catalog plus up to three custom fields and two custom kinds."""

    @st.composite
    def build(draw: st.DrawFn) -> Catalog:
        custom: list[FieldSpec] = []
        for index in range(draw(st.integers(0, 3))):
            type_ = draw(st.sampled_from(tuple(FieldType)))
            choices: tuple[str, ...] = ()
            if type_ == FieldType.CHOICE:
                choices = tuple(
                    draw(
                        st.lists(st.sampled_from(CHOICE_POOL), min_size=1, max_size=4, unique=True)
                    )
                )
            category = draw(st.sampled_from(tuple(Category)))
            custom.append(
                FieldSpec(
                    key=f"custom_{index}",
                    label=f"Custom {index}",
                    type=type_,
                    category=category,
                    choices=choices,
                    builtin=False,
                )
            )
        kinds = [
            ActivityKindSpec(f"custom_kind_{i}", f"Custom kind {i}")
            for i in range(draw(st.integers(0, 2)))
        ]
        return Catalog.build((*BUILTIN_FIELDS, *custom), (*DEFAULT_ACTIVITY_KINDS, *kinds))

    return build()


# Built once: creating strategies inside every draw is what makes hypothesis slow.
_TEXTS = st.sampled_from(TEXT_POOL)
_NUMBERS = st.one_of(st.sampled_from(NUMBER_POOL), st.integers(-1000, 1000))
_BOOLEANS = st.booleans()
_ISO_DATES = st.sampled_from(tuple(d.isoformat() for d in DATE_POOL))


def _scalar(spec: FieldSpec) -> st.SearchStrategy[Scalar]:
    if spec.type == FieldType.TEXT:
        return _TEXTS
    if spec.type == FieldType.CHOICE:
        return st.sampled_from(spec.choices)
    if spec.type == FieldType.NUMBER:
        return _NUMBERS
    if spec.type == FieldType.BOOLEAN:
        return _BOOLEANS
    return _ISO_DATES


@st.composite
def _value(draw: st.DrawFn, spec: FieldSpec, op: Op) -> Value:
    if op in NO_VALUE_OPS:
        return None
    if op in LIST_OPS:
        return tuple(draw(st.lists(_scalar(spec), min_size=1, max_size=4)))
    if op == Op.BETWEEN:
        low, high = draw(_scalar(spec)), draw(_scalar(spec))
        assert isinstance(low, int | float | str) and isinstance(high, int | float | str)
        return (low, high) if low <= high else (high, low)  # type: ignore[operator]
    if op == Op.WITHIN_LAST_DAYS:
        return draw(st.sampled_from((1, 2, 30, 365)))
    return draw(_scalar(spec))


@st.composite
def _criterion(draw: st.DrawFn, catalog: Catalog, ids: list[str], points: str) -> Criterion:
    """``points``: "any" (None or a number), "required", or "none"."""
    criterion_id = ids.pop(draw(st.integers(0, len(ids) - 1)))
    if points == "none":
        score = None
    elif points == "required":
        score = draw(st.integers(-50, 50))
    else:
        score = draw(st.one_of(st.none(), st.integers(-50, 50)))
    fields = tuple(spec for spec in catalog.fields.values() if spec.category != Category.OUTCOME)
    if draw(st.integers(0, 3)) == 0:
        kind = draw(st.sampled_from(tuple(sorted(catalog.activity_kinds))))
        window = draw(st.sampled_from(tuple(Window)))
        return ActivityCriterion(
            id=criterion_id,
            category=draw(st.sampled_from((Category.BEHAVIOURAL, *CRITERION_CATEGORIES))),
            kind=kind,
            min_count=draw(st.integers(1, 4)),
            window=window,
            days=draw(st.sampled_from((1, 2, 7, 30))) if window == Window.LAST_DAYS else None,
            points=score,
        )
    spec = draw(st.sampled_from(fields))
    op = draw(st.sampled_from(OPERATORS[spec.type]))
    return FieldCriterion(
        id=criterion_id,
        category=draw(st.sampled_from((spec.category, *CRITERION_CATEGORIES)))
        if spec.category != Category.OUTCOME
        else Category.FORMAT,
        field=spec.key,
        op=op,
        value=draw(_value(spec, op)),
        points=score,
    )


@st.composite
def _group(draw: st.DrawFn, catalog: Catalog, ids: list[str], depth: int) -> Group:
    group_id = ids.pop(draw(st.integers(0, len(ids) - 1)))
    children: list[Group | Criterion] = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 3 and len(ids) > 4 and draw(st.integers(0, 3)) == 0:
            children.append(draw(_group(catalog, ids, depth + 1)))
        elif ids:
            children.append(draw(_criterion(catalog, ids, "any")))
    if not children:  # the id pool ran dry; a group must not be empty
        children.append(draw(_criterion(catalog, [f"{group_id}-leaf"], "any")))
    mode = draw(st.sampled_from(tuple(GroupMode)))
    n = draw(st.integers(1, len(children))) if mode == GroupMode.AT_LEAST else None
    return Group(id=group_id, mode=mode, n=n, children=tuple(children))


def definitions(catalog: Catalog) -> st.SearchStrategy[Definition]:
    """Valid definitions over ``catalog``: at most ~15 criteria, groups 3 levels deep."""

    @st.composite
    def build(draw: st.DrawFn) -> Definition:
        ids = list(draw(st.permutations(ID_POOL)))
        qualify = draw(_group(catalog, ids, 1))

        def flat(points: str, most: int) -> tuple[Criterion, ...]:
            count = min(draw(st.integers(0, most)), len(ids))
            return tuple(draw(_criterion(catalog, ids, points)) for _ in range(count))

        disqualify = flat("none", 2)
        scoring = flat("required", 3)
        sales_ready = flat("any", 2)
        # Low thresholds are common so that generated leads reach MQL and SQL too.
        mql = draw(st.sampled_from((0, 0, 5, 10, 20, 40)))
        sql = mql + draw(st.sampled_from((0, 0, 5, 20, 60)))
        return Definition(
            schema_version=SCHEMA_VERSION,
            qualify=qualify,
            disqualify=disqualify,
            scoring=scoring,
            stages=Stages(mql=mql, sql=sql, sales_ready=sales_ready),
            rationale=draw(st.sampled_from(("", "Because sales said so.", "Line one.\nLine two."))),
        )

    return build()


def _variants(value: object) -> list[object]:
    """Lead values near a criterion value: equal, case variants, one either side."""
    if isinstance(value, bool):
        return [value, not value]
    if isinstance(value, int | float):
        return [value, value - 1, value + 1, float(value)]
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return [value, value.upper(), value.lower(), value[:2], value + "x"]
        return [day, day - timedelta(days=1), day + timedelta(days=1)]
    return []


@st.composite
def _lead(
    draw: st.DrawFn, catalog: Catalog, definition: Definition | None, as_of: datetime
) -> LeadData:
    pools: dict[str, list[object]] = {}
    kinds = list(catalog.activity_kinds)
    window_days: list[int] = [1, 7, 30]
    if definition is not None:
        for criterion in criteria(definition):
            if isinstance(criterion, FieldCriterion):
                values = (
                    criterion.value if isinstance(criterion.value, tuple) else (criterion.value,)
                )
                pool = pools.setdefault(criterion.field, [])
                for item in values:
                    pool.extend(_variants(item))
                if criterion.op == Op.WITHIN_LAST_DAYS and isinstance(criterion.value, int):
                    edge = as_of.date() - timedelta(days=criterion.value)
                    pool.extend([edge, edge - timedelta(days=1), as_of.date()])
            else:
                kinds.append(criterion.kind)
                if criterion.days:
                    window_days.append(criterion.days)
    fields: dict[str, object] = {}
    for spec in catalog.fields.values():
        missing = draw(st.sampled_from(("value", "value", "value", "absent", "none", "empty")))
        if missing == "absent":
            continue
        if missing == "none":
            fields[spec.key] = None
            continue
        if missing == "empty" and spec.type in (FieldType.TEXT, FieldType.CHOICE):
            fields[spec.key] = ""
            continue
        pool = pools.get(spec.key, [])
        value: Any
        use_pool: bool = draw(st.booleans())
        if pool and use_pool:
            value = draw(st.sampled_from(tuple(pool)))
        else:
            value = draw(_scalar(spec))
            if spec.type == FieldType.DATE:
                assert isinstance(value, str)
                value = date.fromisoformat(value)
        if isinstance(value, date) and draw(st.booleans()):
            # Sometimes an aware datetime, late in the day in a zone east or west of
            # UTC, so "the UTC date" is actually exercised.
            tz = draw(st.sampled_from(TIMEZONES))
            value = datetime(value.year, value.month, value.day, 23, 30, tzinfo=UTC).astimezone(tz)
        fields[spec.key] = value
    # Activity times: on and next to window boundaries, plus the future.
    offsets = [timedelta(0), timedelta(seconds=-1), timedelta(seconds=1), timedelta(hours=-13)]
    for days in window_days:
        offsets += [timedelta(days=-days), timedelta(days=-days, seconds=1)]
    activities = [
        Activity(
            kind=draw(st.sampled_from(tuple(kinds))),
            at=(as_of + draw(st.sampled_from(tuple(offsets)))).astimezone(
                draw(st.sampled_from(TIMEZONES))
            ),
        )
        for _ in range(draw(st.integers(0, 12)))
    ]
    return LeadData(fields=fields, activities=tuple(activities))


def leads(
    catalog: Catalog, definition: Definition | None = None, as_of: datetime = AS_OF
) -> st.SearchStrategy[LeadData]:
    """Leads with values of every field type (or missing), biased towards the values
    and window edges ``definition`` tests when it is given."""
    return _lead(catalog, definition, as_of)


def json_documents() -> st.SearchStrategy[Any]:
    """Arbitrary JSON-like garbage, for "validation never raises"."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.sampled_from(("all", "any", "at_least", "of", "field", "activity", "eq", "in")),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.sampled_from(
                    (
                        "id",
                        "all",
                        "any",
                        "at_least",
                        "of",
                        "field",
                        "op",
                        "value",
                        "activity",
                        "window",
                        "days",
                        "min_count",
                        "points",
                        "category",
                        "qualify",
                        "stages",
                        "schema_version",
                        "mql",
                        "sql",
                    )
                ),
                inner,
                max_size=5,
            ),
        ),
        max_leaves=30,
    )
