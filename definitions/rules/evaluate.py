"""The reference evaluator: one definition applied to one lead, in plain Python.

It is the test oracle for the SQL compiler, so it is deliberately boring: every
criterion is evaluated (no short-circuit, so ``matched`` explains everything) and each
rule is one obvious line.  It needs no catalog: validation already tied every
criterion's value to its field's type, and a lead's values carry their Python type.
The exact semantics (also in docs/definition-format.md):

* Missing value: absent key, ``None``, ``""``, float NaN, or a value of a type no field
  has.  A missing value matches only ``is_not_set``; in particular ``ne`` and
  ``not_in`` do NOT match it (like SQL NULL).
* ``str`` lead values (text and choice fields) compare by ``str.casefold()`` of both
  sides.  For choice fields that is the same as exact comparison, because validation
  only admits the field's exact choice codes.
* ``bool`` values: booleans.  ``int``/``float``: numbers (``between`` inclusive).
* ``date``/``datetime`` values: a datetime is reduced to its UTC calendar date (a naive
  datetime is taken to be UTC); criterion values are ISO ``YYYY-MM-DD``.
  ``within_last_days N`` matches ``as_of_utc_date - N <= d <= as_of_utc_date``.
* A lead value whose type does not fit the criterion's value (a number where the
  criterion holds text) never matches a comparison; ``is_set`` still sees it as set.
* Activities: only activities with ``at <= as_of`` exist (a backtest must not see the
  future), for every window.  ``ever``: their count >= min_count.  ``last_days D``:
  count of those with ``as_of - D days < at <= as_of`` (an event exactly D days before
  ``as_of`` is outside).  ``one_day``: some UTC calendar day holds >= min_count of them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from .schema import (
    ActivityCriterion,
    Criterion,
    Definition,
    FieldCriterion,
    Group,
    GroupMode,
    Op,
    Value,
    Window,
)


class Stage(StrEnum):
    JUNK = "junk"
    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MQL = "mql"
    SQL = "sql"


@dataclass(frozen=True)
class Activity:
    kind: str
    at: datetime


@dataclass(frozen=True)
class LeadData:
    # Excluded from the hash (a dict is unhashable) but still compared by ``==``.
    fields: Mapping[str, object] = field(default_factory=dict, hash=False)
    activities: Sequence[Activity] = ()


@dataclass(frozen=True)
class Result:
    qualified: bool
    junk: bool
    score: int
    stage: Stage
    matched: frozenset[str]


def to_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive datetimes are taken to be UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def decision_moment(created_at: object, decision_days: int, as_of: datetime) -> datetime:
    """The moment a historical lead is judged at: its creation plus ``decision_days``,
    never later than ``as_of`` (a lead created less than that long ago, or whose
    creation is unknown, is judged at ``as_of``). A ``date`` is its UTC midnight, as
    the lead table stores it. Written as a difference, so it cannot overflow."""
    now = to_utc(as_of)
    if isinstance(created_at, datetime):
        created = to_utc(created_at)
    elif isinstance(created_at, date):
        created = datetime(created_at.year, created_at.month, created_at.day, tzinfo=UTC)
    else:
        return now
    window = timedelta(days=decision_days)
    if now - created <= window:
        return now
    return created + window


# The stages at which a lead is handed to sales, in order: a lead "reaches" a cut when
# it is qualified (any stage but subscriber and junk), MQL or better, or SQL.
CUTS = ("qualified", "mql", "sql")


def reaches(stage: str, cut: str) -> bool:
    """Whether a lead at ``stage`` has reached the handoff ``cut`` (junk never does)."""
    if cut == "sql":
        return stage == Stage.SQL
    if cut == "mql":
        return stage in (Stage.MQL, Stage.SQL)
    if cut == "qualified":
        return stage in (Stage.LEAD, Stage.MQL, Stage.SQL)
    raise ValueError(f"unknown cut {cut!r}")


def cut_stages(cut: str) -> tuple[str, ...]:
    """The stages that reach ``cut``."""
    return tuple(str(stage) for stage in Stage if reaches(stage, cut))


Present = str | bool | int | float | date


def present_value(raw: object) -> Present | None:
    """The comparable form of a lead value, or None when it counts as missing."""
    if isinstance(raw, str):
        return raw if raw else None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return None if math.isnan(raw) else raw
    # datetime is a subclass of date: test it first.
    if isinstance(raw, datetime):
        return to_utc(raw).date()
    if isinstance(raw, date):
        return raw
    return None


def _iso(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _items(value: Value) -> tuple[object, ...]:
    return value if isinstance(value, tuple) else (value,)


def _ordered[T: (float, date)](op: Op, lead: T, bounds: Sequence[T]) -> bool:
    """eq/ne/in/not_in/gt/gte/lt/lte/between, for numbers and for dates alike."""
    first = bounds[0]
    match op:
        case Op.EQ:
            return lead == first
        case Op.NE:
            return lead != first
        case Op.IN:
            return lead in bounds
        case Op.NOT_IN:
            return lead not in bounds
        case Op.GT:
            return lead > first
        case Op.GTE:
            return lead >= first
        case Op.LT:
            return lead < first
        case Op.LTE:
            return lead <= first
        case Op.BETWEEN:
            return len(bounds) == 2 and first <= lead <= bounds[1]
    return False


def _text(op: Op, lead: str, value: Value) -> bool:
    folded = lead.casefold()
    items = [v.casefold() for v in _items(value) if isinstance(v, str)]
    if not items or len(items) != len(_items(value)):
        return False  # the criterion does not hold text: no comparison is true
    match op:
        case Op.EQ:
            return folded == items[0]
        case Op.NE:
            return folded != items[0]
        case Op.IN:
            return folded in items
        case Op.NOT_IN:
            return folded not in items
        case Op.CONTAINS:
            return items[0] in folded
        case Op.STARTS_WITH:
            return folded.startswith(items[0])
    return False


def _number(op: Op, lead: float, value: Value) -> bool:
    items = [v for v in _items(value) if isinstance(v, int | float) and not isinstance(v, bool)]
    if not items or len(items) != len(_items(value)):
        return False
    return _ordered(op, lead, items)


def _date(op: Op, lead: date, value: Value, as_of: datetime) -> bool:
    if op == Op.WITHIN_LAST_DAYS:
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        # Compare day differences rather than subtracting a timedelta from as_of: no
        # overflow near date.min/date.max.
        age = (to_utc(as_of).date() - lead).days
        return 0 <= age <= value
    items = [d for d in (_iso(v) for v in _items(value)) if d is not None]
    if not items or len(items) != len(_items(value)):
        return False
    return _ordered(op, lead, items)


def field_matches(criterion: FieldCriterion, lead: LeadData, *, as_of: datetime) -> bool:
    present = present_value(lead.fields.get(criterion.field))
    if criterion.op == Op.IS_SET:
        return present is not None
    if criterion.op == Op.IS_NOT_SET:
        return present is None
    if present is None:
        return False  # missing matches nothing else, like SQL NULL
    if isinstance(present, str):
        return _text(criterion.op, present, criterion.value)
    if isinstance(present, bool):
        return criterion.op == Op.EQ and criterion.value is present
    if isinstance(present, date):
        return _date(criterion.op, present, criterion.value, as_of)
    return _number(criterion.op, present, criterion.value)


def activity_matches(criterion: ActivityCriterion, lead: LeadData, *, as_of: datetime) -> bool:
    now = to_utc(as_of)
    # Only the past exists: activities after as_of are ignored by every window.
    times = [
        at
        for at in (to_utc(a.at) for a in lead.activities if a.kind == criterion.kind)
        if at <= now
    ]
    match criterion.window:
        case Window.EVER:
            return len(times) >= criterion.min_count
        case Window.LAST_DAYS:
            days = timedelta(days=criterion.days or 0)
            # as_of - D < at <= as_of, written as a difference so it cannot overflow.
            return sum(1 for at in times if now - at < days) >= criterion.min_count
        case Window.ONE_DAY:
            per_day = Counter(at.date() for at in times)
            return any(count >= criterion.min_count for count in per_day.values())
    return False


def criterion_matches(criterion: Criterion, lead: LeadData, *, as_of: datetime) -> bool:
    if isinstance(criterion, FieldCriterion):
        return field_matches(criterion, lead, as_of=as_of)
    return activity_matches(criterion, lead, as_of=as_of)


def _group(group: Group, lead: LeadData, as_of: datetime, matched: set[str]) -> bool:
    # Evaluate every child before combining: no short-circuit, so ``matched`` lists
    # every matching criterion, which is what makes a result explainable.
    results = []
    for child in group.children:
        if isinstance(child, Group):
            results.append(_group(child, lead, as_of, matched))
        else:
            hit = criterion_matches(child, lead, as_of=as_of)
            if hit:
                matched.add(child.id)
            results.append(hit)
    match group.mode:
        case GroupMode.ALL:
            return all(results)
        case GroupMode.ANY:
            return any(results)
        case GroupMode.AT_LEAST:
            return sum(results) >= (group.n or 0)
    return False


def _points(criteria: Sequence[Criterion], matched: set[str]) -> int:
    return sum(c.points or 0 for c in criteria if c.id in matched)


def evaluate(definition: Definition, lead: LeadData, *, as_of: datetime) -> Result:
    """Apply ``definition`` to ``lead`` as it was at ``as_of``.

    junk = any junk rule matches; qualified = the qualify tree matches and not junk;
    score = points of every matched criterion in qualify, scoring and sales-ready (a
    criterion without points counts 0); stage = junk, else subscriber unless
    qualified, else sql if score >= SQL and (no sales-ready actions are defined or one
    matched), else mql if score >= MQL, else lead.
    """
    matched: set[str] = set()
    tree = _group(definition.qualify, lead, as_of, matched)

    def each(criteria: Sequence[Criterion]) -> list[Criterion]:
        hits = [c for c in criteria if criterion_matches(c, lead, as_of=as_of)]
        matched.update(c.id for c in hits)
        return hits

    junk = bool(each(definition.disqualify))
    each(definition.scoring)
    ready = bool(each(definition.stages.sales_ready))

    score = (
        _points(_leaves(definition.qualify), matched)
        + _points(definition.scoring, matched)
        + _points(definition.stages.sales_ready, matched)
    )
    qualified = tree and not junk
    stages = definition.stages
    if junk:
        stage = Stage.JUNK
    elif not qualified:
        stage = Stage.SUBSCRIBER
    elif score >= stages.sql and (ready or not stages.sales_ready):
        stage = Stage.SQL
    elif score >= stages.mql:
        stage = Stage.MQL
    else:
        stage = Stage.LEAD
    return Result(
        qualified=qualified, junk=junk, score=score, stage=stage, matched=frozenset(matched)
    )


def _leaves(group: Group) -> list[Criterion]:
    out: list[Criterion] = []
    for child in group.children:
        if isinstance(child, Group):
            out.extend(_leaves(child))
        else:
            out.append(child)
    return out
