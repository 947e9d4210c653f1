"""The definition model: frozen dataclasses holding tuples, so a definition is
hashable, comparable with ``==`` and safe to share between threads and caches.

The JSON form (``to_json``) is the stored and exported format; ``validate.parse`` is
its exact inverse for valid documents.  Values stay JSON-native (str / int / float /
bool, tuples for lists; dates as ISO ``YYYY-MM-DD`` strings) so that round-tripping
never depends on a conversion the SQL compiler might do differently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from .catalog import Category, FieldType

SCHEMA_VERSION = 1

# Limits.  They exist so a stored definition stays cheap to validate, render, diff and
# compile to SQL, and so hostile input cannot make any of those slow.
MAX_CRITERIA = 200  # criteria in the whole document (qualify + junk + scoring + sales-ready)
MAX_DEPTH = 8  # group nesting; the root ``qualify`` group is level 1
MAX_RATIONALE_CHARS = 20_000
MAX_STRING_CHARS = 500  # any other string value
MAX_LIST_ITEMS = 500  # values of ``in`` / ``not_in``
MAX_POINTS = 1000  # |points| per criterion
MAX_THRESHOLD = 1_000_000  # MQL / SQL score thresholds
MAX_DAYS = 36_500  # windows and within_last_days: 100 years is "ever" for any business
MAX_MIN_COUNT = 100_000
MAX_NUMBER = 10**15  # |number| in criteria: exact in a double and in a 64-bit integer
# Limits on the JSON text itself, checked by ``validate.load`` before and while it is
# parsed (Python's json would otherwise raise on a 5,000-digit integer, recurse until
# RecursionError on deep nesting, and accept NaN).
MAX_DOCUMENT_CHARS = 1_000_000  # the whole text; 200 criteria with long texts are < 300 kB
MAX_JSON_DEPTH = 32  # objects and lists inside each other; the deepest valid definition
# (groups nested MAX_DEPTH levels, then a criterion and its list of values) needs 19
MAX_NUMBER_CHARS = 32  # one number as written: any double's shortest form has at most 24

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    WITHIN_LAST_DAYS = "within_last_days"
    IS_SET = "is_set"
    IS_NOT_SET = "is_not_set"


# Operators allowed per field type, in the order the UI and error messages list them.
OPERATORS: Mapping[FieldType, tuple[Op, ...]] = MappingProxyType(
    {
        FieldType.TEXT: (
            Op.EQ,
            Op.NE,
            Op.IN,
            Op.NOT_IN,
            Op.CONTAINS,
            Op.STARTS_WITH,
            Op.IS_SET,
            Op.IS_NOT_SET,
        ),
        FieldType.CHOICE: (Op.EQ, Op.NE, Op.IN, Op.NOT_IN, Op.IS_SET, Op.IS_NOT_SET),
        FieldType.NUMBER: (
            Op.EQ,
            Op.NE,
            Op.GT,
            Op.GTE,
            Op.LT,
            Op.LTE,
            Op.BETWEEN,
            Op.IN,
            Op.NOT_IN,
            Op.IS_SET,
            Op.IS_NOT_SET,
        ),
        FieldType.BOOLEAN: (Op.EQ, Op.IS_SET, Op.IS_NOT_SET),
        FieldType.DATE: (
            Op.EQ,
            Op.GT,
            Op.GTE,
            Op.LT,
            Op.LTE,
            Op.BETWEEN,
            Op.WITHIN_LAST_DAYS,
            Op.IS_SET,
            Op.IS_NOT_SET,
        ),
    }
)

NO_VALUE_OPS = frozenset({Op.IS_SET, Op.IS_NOT_SET})
LIST_OPS = frozenset({Op.IN, Op.NOT_IN})


class Window(StrEnum):
    EVER = "ever"
    ONE_DAY = "one_day"
    LAST_DAYS = "last_days"


class GroupMode(StrEnum):
    ALL = "all"
    ANY = "any"
    AT_LEAST = "at_least"


class Section(StrEnum):
    """Where a criterion lives; used by paths, rendering and the diff."""

    QUALIFY = "qualify"
    DISQUALIFY = "disqualify"
    SCORING = "scoring"
    SALES_READY = "sales_ready"


Scalar = str | int | float | bool
# None for is_set/is_not_set; a scalar; a tuple for in/not_in and (low, high) for between.
Value = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True)
class FieldCriterion:
    id: str
    category: Category
    field: str
    op: Op
    value: Value
    points: int | None = None


@dataclass(frozen=True)
class ActivityCriterion:
    id: str
    category: Category
    kind: str
    min_count: int
    window: Window
    days: int | None = None  # only (and always) for Window.LAST_DAYS
    points: int | None = None


Criterion = FieldCriterion | ActivityCriterion


@dataclass(frozen=True)
class Group:
    id: str
    mode: GroupMode
    n: int | None  # only (and always) for GroupMode.AT_LEAST
    children: tuple[Group | Criterion, ...]


@dataclass(frozen=True)
class Stages:
    mql: int
    sql: int
    # Empty means SQL needs only the score; otherwise at least one must match.
    sales_ready: tuple[Criterion, ...] = ()


@dataclass(frozen=True)
class Definition:
    schema_version: int
    qualify: Group
    disqualify: tuple[Criterion, ...]
    scoring: tuple[Criterion, ...]
    stages: Stages
    rationale: str = ""


# ---------------------------------------------------------------------------- walking


@dataclass(frozen=True)
class Located:
    """A node together with where it sits: its section and, inside ``qualify``, the id
    of its parent group (None for the root group and for the flat sections)."""

    node: Group | Criterion
    section: Section
    parent: str | None


def walk(definition: Definition) -> tuple[Located, ...]:
    """Every group and criterion in document order (qualify depth-first, then junk
    rules, scoring rules, sales-ready actions)."""
    out: list[Located] = []

    def visit(node: Group | Criterion, parent: str | None) -> None:
        out.append(Located(node, Section.QUALIFY, parent))
        if isinstance(node, Group):
            for child in node.children:
                visit(child, node.id)

    visit(definition.qualify, None)
    for section, criteria in (
        (Section.DISQUALIFY, definition.disqualify),
        (Section.SCORING, definition.scoring),
        (Section.SALES_READY, definition.stages.sales_ready),
    ):
        out.extend(Located(c, section, None) for c in criteria)
    return tuple(out)


def criteria(definition: Definition) -> tuple[Criterion, ...]:
    return tuple(loc.node for loc in walk(definition) if not isinstance(loc.node, Group))


# ---------------------------------------------------------------------------- to_json

JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


def _value_json(value: Value) -> JSONValue:
    if isinstance(value, tuple):
        return list(value)
    return value


def criterion_to_json(criterion: Criterion) -> dict[str, JSONValue]:
    # ``category`` and ``points`` are always written, even when they are the defaults,
    # so a stored document never depends on the catalog to be read by a human.
    if isinstance(criterion, FieldCriterion):
        return {
            "id": criterion.id,
            "category": str(criterion.category),
            "field": criterion.field,
            "op": str(criterion.op),
            "value": _value_json(criterion.value),
            "points": criterion.points,
        }
    out: dict[str, JSONValue] = {
        "id": criterion.id,
        "category": str(criterion.category),
        "activity": criterion.kind,
        "min_count": criterion.min_count,
        "window": str(criterion.window),
    }
    if criterion.window == Window.LAST_DAYS:
        out["days"] = criterion.days
    out["points"] = criterion.points
    return out


def group_to_json(group: Group) -> dict[str, JSONValue]:
    children: list[JSONValue] = [node_to_json(child) for child in group.children]
    if group.mode == GroupMode.AT_LEAST:
        return {"id": group.id, "at_least": group.n, "of": children}
    return {"id": group.id, str(group.mode): children}


def node_to_json(node: Group | Criterion) -> dict[str, JSONValue]:
    if isinstance(node, Group):
        return group_to_json(node)
    return criterion_to_json(node)


def to_json(definition: Definition) -> dict[str, JSONValue]:
    """The stored/exported JSON form; ``parse(to_json(d), catalog).definition == d``."""
    return {
        "schema_version": definition.schema_version,
        "rationale": definition.rationale,
        "qualify": group_to_json(definition.qualify),
        "disqualify": [criterion_to_json(c) for c in definition.disqualify],
        "scoring": [criterion_to_json(c) for c in definition.scoring],
        "stages": {
            "mql": definition.stages.mql,
            "sql": definition.stages.sql,
            "sales_ready": [criterion_to_json(c) for c in definition.stages.sales_ready],
        },
    }
