"""Parse and validate a definition document: JSON-like data in, a typed
:class:`~definitions.rules.schema.Definition` or a list of precise errors out.

Design notes
------------
* Every error is collected (the editor shows them all next to their fields), each
  with a dotted path such as ``qualify.any[0].of[1].op``; the document root is ``""``.
* Input is untrusted (pasted JSON, API calls).  Nothing here recurses into values, and
  group recursion stops at ``MAX_DEPTH``, so no input can exhaust the stack; after
  ``MAX_ERRORS`` errors parsing stops, so huge garbage is cheap to reject.
* Messages are English templates marked with ``_`` and rendered with named
  parameters, so the Django side can translate them (``error.render(gettext)``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from .catalog import CRITERION_CATEGORIES, Catalog, Category, FieldSpec, FieldType
from .i18n import Translate, _, identity
from .schema import (
    ID_PATTERN,
    LIST_OPS,
    MAX_CRITERIA,
    MAX_DAYS,
    MAX_DEPTH,
    MAX_DOCUMENT_CHARS,
    MAX_JSON_DEPTH,
    MAX_LIST_ITEMS,
    MAX_MIN_COUNT,
    MAX_NUMBER,
    MAX_NUMBER_CHARS,
    MAX_POINTS,
    MAX_RATIONALE_CHARS,
    MAX_STRING_CHARS,
    MAX_THRESHOLD,
    NO_VALUE_OPS,
    OPERATORS,
    SCHEMA_VERSION,
    ActivityCriterion,
    Criterion,
    Definition,
    FieldCriterion,
    Group,
    GroupMode,
    Op,
    Scalar,
    Section,
    Stages,
    Value,
    Window,
)

MAX_ERRORS = 100  # then one "too many errors" error and stop

_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TOP_KEYS = ("schema_version", "rationale", "qualify", "disqualify", "scoring", "stages")
_STAGE_KEYS = ("mql", "sql", "sales_ready")
_FIELD_KEYS = ("id", "category", "field", "op", "value", "points")
_ACTIVITY_KEYS = ("id", "category", "activity", "min_count", "window", "days", "points")
_MODE_KEYS = ("all", "any", "at_least")


@dataclass(frozen=True)
class ValidationError:
    path: str
    template: str
    # Excluded from the hash (a dict is unhashable) but still compared by ``==``.
    params: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def message(self) -> str:
        """The English message."""
        return self.render(identity)

    def render(self, translate: Translate = identity) -> str:
        # Translate the whole template first, then fill in the parameters, so the
        # translation may put them in any order.
        return translate(self.template).format(**self.params)


@dataclass(frozen=True)
class ValidationResult:
    definition: Definition | None
    errors: tuple[ValidationError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


class _TooManyErrors(Exception):
    """Raised internally to abandon a hopeless document early."""


def show(value: object) -> str:
    """A short, safe, never-raising display of an arbitrary input value.

    Never ``repr`` a container (it recurses, and hostile input nests thousands deep)
    and never ``str`` a huge int (Python refuses beyond 4300 digits).
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if value.bit_length() > 200:
            return "-1e60…" if value < 0 else "1e60…"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value if len(value) <= 60 else value[:59] + "…"
    if isinstance(value, list | tuple):
        return "[…]"
    if isinstance(value, dict):
        return "{…}"
    return f"<{type(value).__name__}>"


def _is_int(value: object) -> bool:
    # bool is a subclass of int, but JSON true is not the number 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _int_between(value: object, low: int, high: int) -> int | None:
    """``value`` if it is a (non-bool) int within [low, high], else None."""
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def _is_number(value: object) -> bool:
    return _is_int(value) or isinstance(value, float)


def _join(items: object) -> str:
    if isinstance(items, tuple | list):
        return ", ".join(str(i) for i in items)
    return str(items)


class _Parser:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.errors: list[ValidationError] = []
        self.ids: dict[str, str] = {}  # id -> path of first use
        self.criteria_count = 0

    # ------------------------------------------------------------------ helpers

    def error(self, path: str, template: str, **params: object) -> None:
        if len(self.errors) >= MAX_ERRORS:
            self.errors.append(
                ValidationError(
                    "",
                    _("Too many errors; only the first {count} are shown."),
                    MappingProxyType({"count": str(MAX_ERRORS)}),
                )
            )
            raise _TooManyErrors
        self.errors.append(
            ValidationError(
                path, template, MappingProxyType({k: str(v) for k, v in params.items()})
            )
        )

    @staticmethod
    def sub(path: str, key: str) -> str:
        return f"{path}.{key}" if path else key

    def object_keys(self, data: dict[object, object], path: str, allowed: tuple[str, ...]) -> None:
        for key in data:
            if not isinstance(key, str):
                self.error(path, _("Keys must be strings; found {key}."), key=show(key))
            elif key not in allowed:
                self.error(
                    self.sub(path, show(key)),
                    _("Unknown key '{key}'; allowed keys are: {allowed}."),
                    key=show(key),
                    allowed=_join(allowed),
                )

    def check_id(self, data: dict[object, object], path: str) -> str | None:
        id_path = self.sub(path, "id")
        if "id" not in data:
            self.error(id_path, _("Missing required key 'id'."))
            return None
        value = data["id"]
        if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
            self.error(
                id_path,
                _(
                    "'{value}' is not a valid id: use 1 to 64 letters, digits, '-' or '_', "
                    "starting with a letter or digit."
                ),
                value=show(value),
            )
            return None
        if value in self.ids:
            self.error(
                id_path,
                _("Duplicate id '{value}' (already used at {other})."),
                value=value,
                other=self.ids[value],
            )
            return None
        self.ids[value] = path
        return value

    def int_in_range(
        self, data: dict[object, object], key: str, path: str, low: int, high: int, template: str
    ) -> int | None:
        value = _int_between(data.get(key), low, high)
        if value is None:
            self.error(self.sub(path, key), template, low=low, high=high)
        return value

    # ------------------------------------------------------------------ document

    def document(self, data: object) -> Definition | None:
        if not isinstance(data, dict):
            self.error("", _("A definition must be a JSON object."))
            return None
        self.object_keys(data, "", _TOP_KEYS)

        version = data.get("schema_version")
        if "schema_version" not in data:
            self.error("schema_version", _("Missing required key 'schema_version'."))
        elif not _is_int(version) or version != SCHEMA_VERSION:
            self.error(
                "schema_version",
                _("Unsupported schema version '{value}'; expected {expected}."),
                value=show(version),
                expected=SCHEMA_VERSION,
            )

        rationale = data.get("rationale", "")
        if not isinstance(rationale, str):
            self.error("rationale", _("The rationale must be text."))
            rationale = ""
        elif len(rationale) > MAX_RATIONALE_CHARS:
            self.error(
                "rationale",
                _("The rationale may be at most {max} characters long."),
                max=MAX_RATIONALE_CHARS,
            )

        qualify: Group | None = None
        if "qualify" not in data:
            self.error("qualify", _("Missing required key 'qualify'."))
        else:
            raw = data["qualify"]
            if isinstance(raw, dict) and not any(k in raw for k in (*_MODE_KEYS, "of")):
                self.error("qualify", _("'qualify' must be a group ('all', 'any' or 'at_least')."))
            else:
                node = self.node(raw, "qualify", 1, Section.QUALIFY)
                qualify = node if isinstance(node, Group) else None

        disqualify = self.criterion_list(data, "disqualify", "disqualify", Section.DISQUALIFY)
        scoring = self.criterion_list(data, "scoring", "scoring", Section.SCORING)
        stages = self.stages(data)

        if self.errors or qualify is None or stages is None:
            return None
        return Definition(
            schema_version=SCHEMA_VERSION,
            qualify=qualify,
            disqualify=disqualify,
            scoring=scoring,
            stages=stages,
            rationale=rationale,
        )

    def criterion_list(
        self, data: dict[object, object], key: str, path: str, section: Section
    ) -> tuple[Criterion, ...]:
        raw = data.get(key, [])
        if not isinstance(raw, list):
            self.error(path, _("'{key}' must be a list of criteria."), key=key)
            return ()
        out: list[Criterion] = []
        for index, item in enumerate(raw):
            node = self.node(item, f"{path}[{index}]", 1, section)
            if isinstance(node, FieldCriterion | ActivityCriterion):
                out.append(node)
        return tuple(out)

    def stages(self, data: dict[object, object]) -> Stages | None:
        if "stages" not in data:
            self.error("stages", _("Missing required key 'stages'."))
            return None
        raw = data["stages"]
        if not isinstance(raw, dict):
            self.error("stages", _("'stages' must be an object with 'mql' and 'sql'."))
            return None
        self.object_keys(raw, "stages", _STAGE_KEYS)
        template = _("The {stage} threshold must be a whole number from {low} to {high}.")
        thresholds: dict[str, int | None] = {}
        for key, stage in (("mql", "MQL"), ("sql", "SQL")):
            thresholds[key] = _int_between(raw.get(key), 0, MAX_THRESHOLD)
            if thresholds[key] is None:
                self.error(f"stages.{key}", template, stage=stage, low=0, high=MAX_THRESHOLD)
        mql, sql = thresholds["mql"], thresholds["sql"]
        if mql is not None and sql is not None and sql < mql:
            self.error(
                "stages.sql",
                _("The SQL threshold ({sql}) must not be lower than the MQL threshold ({mql})."),
                sql=sql,
                mql=mql,
            )
        sales_ready = self.criterion_list(
            raw, "sales_ready", "stages.sales_ready", Section.SALES_READY
        )
        if mql is None or sql is None:
            return None
        return Stages(mql=mql, sql=sql, sales_ready=sales_ready)

    # ------------------------------------------------------------------ nodes

    def node(
        self, data: object, path: str, depth: int, section: Section
    ) -> Group | Criterion | None:
        if not isinstance(data, dict):
            self.error(path, _("Expected an object (a group or a criterion)."))
            return None
        if any(k in data for k in (*_MODE_KEYS, "of")):
            if section != Section.QUALIFY:
                self.error(path, _("Groups are only allowed in 'qualify'; use a criterion here."))
                return None
            return self.group(data, path, depth)
        if "field" in data and "activity" in data:
            self.error(path, _("A criterion has either 'field' or 'activity', not both."))
            return None
        if "field" not in data and "activity" not in data:
            self.error(
                path,
                _(
                    "Expected a group ('all', 'any' or 'at_least') or a criterion "
                    "('field' or 'activity')."
                ),
            )
            return None
        self.criteria_count += 1
        if self.criteria_count > MAX_CRITERIA:
            if self.criteria_count == MAX_CRITERIA + 1:
                self.error(
                    path, _("A definition may have at most {max} criteria."), max=MAX_CRITERIA
                )
            return None
        if "field" in data:
            return self.field_criterion(data, path, section)
        return self.activity_criterion(data, path, section)

    def group(self, data: dict[object, object], path: str, depth: int) -> Group | None:
        if depth > MAX_DEPTH:
            # Report and stop: never descend into arbitrarily deep input.
            self.error(path, _("Groups may be nested at most {max} levels deep."), max=MAX_DEPTH)
            return None
        group_id = self.check_id(data, path)
        modes = [k for k in _MODE_KEYS if k in data]
        if len(modes) != 1:
            self.error(
                path,
                _("A group needs exactly one of 'all', 'any' or 'at_least'.")
                if not modes
                else _("A group has more than one of 'all', 'any' and 'at_least'; keep one."),
            )
            return None
        mode = GroupMode(modes[0])
        list_key = "of" if mode == GroupMode.AT_LEAST else str(mode)
        self.object_keys(
            data, path, ("id", str(mode), "of") if mode == GroupMode.AT_LEAST else ("id", str(mode))
        )
        list_path = self.sub(path, list_key)
        raw_children = data.get(list_key)
        children: list[Group | Criterion] = []
        ok = True
        if list_key not in data:
            self.error(list_path, _("Missing required key '{key}'."), key=list_key)
            ok = False
        elif not isinstance(raw_children, list):
            self.error(list_path, _("'{key}' must be a list."), key=list_key)
            ok = False
        elif not raw_children:
            self.error(list_path, _("A group needs at least one criterion or group."))
            ok = False
        else:
            for index, item in enumerate(raw_children):
                child = self.node(item, f"{list_path}[{index}]", depth + 1, Section.QUALIFY)
                if child is None:
                    ok = False
                else:
                    children.append(child)
        n: int | None = None
        if mode == GroupMode.AT_LEAST:
            count = len(raw_children) if isinstance(raw_children, list) else None
            n = _int_between(data["at_least"], 1, count or MAX_CRITERIA)
            if n is None:
                self.error(
                    self.sub(path, "at_least"),
                    _(
                        "'at_least' must be a whole number from 1 to the number of items "
                        "in the group ({count})."
                    ),
                    count=count if count else "?",
                )
                ok = False
        if not ok or group_id is None:
            return None
        return Group(id=group_id, mode=mode, n=n, children=tuple(children))

    def common(
        self, data: dict[object, object], path: str, section: Section, default: Category
    ) -> tuple[str | None, Category | None, int | None, bool]:
        """Checks shared by both criterion kinds: id, category, points."""
        ok = True
        criterion_id = self.check_id(data, path)
        category: Category | None = default
        if "category" in data and data["category"] is not None:
            raw = data["category"]
            if raw == Category.OUTCOME:
                self.error(
                    self.sub(path, "category"),
                    _(
                        "Criteria cannot be in the 'outcome' category: outcomes are what "
                        "a definition is measured against."
                    ),
                )
                category, ok = None, False
            elif not isinstance(raw, str) or raw not in CRITERION_CATEGORIES:
                self.error(
                    self.sub(path, "category"),
                    _("Unknown category '{value}'; use one of: {allowed}."),
                    value=show(raw),
                    allowed=_join(CRITERION_CATEGORIES),
                )
                category, ok = None, False
            else:
                category = Category(raw)
        points_path = self.sub(path, "points")
        points = data.get("points")
        if points is not None:
            if _int_between(points, -MAX_POINTS, MAX_POINTS) is None:
                self.error(
                    points_path,
                    _("Points must be a whole number from -{max} to {max}; got '{value}'."),
                    max=MAX_POINTS,
                    value=show(points),
                )
                points, ok = None, False
            elif section == Section.DISQUALIFY:
                self.error(
                    points_path,
                    _(
                        "Junk rules cannot carry points: a junk lead is excluded "
                        "whatever its score."
                    ),
                )
                ok = False
        elif section == Section.SCORING:
            self.error(points_path, _("A scoring rule needs points."))
            ok = False
        assert points is None or isinstance(points, int)
        return criterion_id, category, points, ok

    def field_criterion(
        self, data: dict[object, object], path: str, section: Section
    ) -> FieldCriterion | None:
        self.object_keys(data, path, _FIELD_KEYS)
        key = data["field"]
        spec: FieldSpec | None = None
        ok = True
        if not isinstance(key, str) or key not in self.catalog.fields:
            self.error(self.sub(path, "field"), _("Unknown field '{field}'."), field=show(key))
            ok = False
        else:
            spec = self.catalog.fields[key]
            if spec.category == Category.OUTCOME:
                self.error(
                    self.sub(path, "field"),
                    _(
                        "'{field}' is an outcome field; criteria cannot test outcomes, "
                        "because outcomes are what a definition is measured against."
                    ),
                    field=spec.label,
                )
                ok = False
        criterion_id, category, points, common_ok = self.common(
            data, path, section, spec.category if spec else Category.FORMAT
        )
        op = self.operator(data, path, spec)
        value: Value = None
        if op is not None and spec is not None and spec.category != Category.OUTCOME:
            value_ok, value = self.value(data, path, spec, op)
            ok = ok and value_ok
        if not ok or not common_ok or op is None or criterion_id is None or category is None:
            return None
        assert isinstance(key, str)
        return FieldCriterion(
            id=criterion_id, category=category, field=key, op=op, value=value, points=points
        )

    def operator(self, data: dict[object, object], path: str, spec: FieldSpec | None) -> Op | None:
        op_path = self.sub(path, "op")
        if "op" not in data:
            self.error(op_path, _("Missing required key 'op'."))
            return None
        raw = data["op"]
        allowed = OPERATORS[spec.type] if spec else tuple(Op)
        if not isinstance(raw, str) or raw not in allowed:
            if spec is None:
                self.error(op_path, _("Unknown operator '{op}'."), op=show(raw))
            else:
                self.error(
                    op_path,
                    _("Operator '{op}' is not allowed for field '{field}'; use one of: {allowed}."),
                    op=show(raw),
                    field=spec.label,
                    allowed=_join(allowed),
                )
            return None
        return Op(raw)

    # ------------------------------------------------------------------ values

    def value(
        self, data: dict[object, object], path: str, spec: FieldSpec, op: Op
    ) -> tuple[bool, Value]:
        value_path = self.sub(path, "value")
        raw = data.get("value")
        if op in NO_VALUE_OPS:
            if raw is not None:
                self.error(
                    value_path, _("Operator '{op}' takes no value; remove it or use null."), op=op
                )
                return False, None
            return True, None
        if raw is None:
            self.error(value_path, _("Operator '{op}' needs a value."), op=op)
            return False, None
        if op in LIST_OPS:
            if not isinstance(raw, list) or not raw:
                self.error(
                    value_path, _("Operator '{op}' needs a non-empty list of values."), op=op
                )
                return False, None
            if len(raw) > MAX_LIST_ITEMS:
                self.error(
                    value_path,
                    _("A list of values may have at most {max} items."),
                    max=MAX_LIST_ITEMS,
                )
                return False, None
            items = [self.scalar(item, f"{value_path}[{i}]", spec) for i, item in enumerate(raw)]
            if any(item is None for item in items):
                return False, None
            return True, tuple(item for item in items if item is not None)
        if op == Op.BETWEEN:
            if not isinstance(raw, list) or len(raw) != 2:
                self.error(value_path, _("'between' needs a list of two values: [low, high]."))
                return False, None
            low = self.scalar(raw[0], f"{value_path}[0]", spec)
            high = self.scalar(raw[1], f"{value_path}[1]", spec)
            if low is None or high is None:
                return False, None
            if _greater(low, high):
                self.error(
                    value_path,
                    _("The low bound {low} is greater than the high bound {high}."),
                    low=show(low),
                    high=show(high),
                )
                return False, None
            return True, (low, high)
        if op == Op.WITHIN_LAST_DAYS:
            days = _int_between(raw, 1, MAX_DAYS)
            if days is None:
                self.error(
                    value_path,
                    _("'within_last_days' needs a whole number of days from 1 to {max}."),
                    max=MAX_DAYS,
                )
                return False, None
            return True, days
        scalar = self.scalar(raw, value_path, spec)
        return scalar is not None, scalar

    def scalar(self, raw: object, path: str, spec: FieldSpec) -> Scalar | None:
        """One value of the field's type, or None after reporting an error."""
        label = spec.label
        if spec.type == FieldType.TEXT:
            if not isinstance(raw, str):
                self.error(
                    path,
                    _("'{value}' is not text for field '{field}'."),
                    value=show(raw),
                    field=label,
                )
                return None
            if not raw:
                self.error(
                    path,
                    _("Text values cannot be empty; use 'is_not_set' to match a missing value."),
                )
                return None
            if len(raw) > MAX_STRING_CHARS:
                self.error(
                    path,
                    _("Text values may be at most {max} characters long."),
                    max=MAX_STRING_CHARS,
                )
                return None
            return raw
        if spec.type == FieldType.CHOICE:
            if not isinstance(raw, str) or raw not in spec.choices:
                self.error(
                    path,
                    _("'{value}' is not a choice of field '{field}'; use one of: {allowed}."),
                    value=show(raw),
                    field=label,
                    allowed=_join(spec.choices),
                )
                return None
            return raw
        if spec.type == FieldType.NUMBER:
            if not _is_number(raw):
                self.error(
                    path,
                    _("'{value}' is not a number for field '{field}'."),
                    value=show(raw),
                    field=label,
                )
                return None
            assert isinstance(raw, int | float)
            if isinstance(raw, float) and not math.isfinite(raw):
                self.error(path, _("'{value}' is not a finite number."), value=show(raw))
                return None
            if abs(raw) > MAX_NUMBER:
                self.error(
                    path,
                    _("Numbers must be between -{max} and {max}."),
                    max=f"{MAX_NUMBER:.0e}".replace("+", ""),
                )
                return None
            return raw
        if spec.type == FieldType.BOOLEAN:
            if not isinstance(raw, bool):
                self.error(
                    path,
                    _("'{value}' is not true or false for field '{field}'."),
                    value=show(raw),
                    field=label,
                )
                return None
            return raw
        # FieldType.DATE: strictly YYYY-MM-DD (fromisoformat alone also accepts
        # "20240101" and week dates, which the SQL side would not).
        if not isinstance(raw, str) or not _DATE_PATTERN.fullmatch(raw) or _parse_date(raw) is None:
            self.error(
                path,
                _("'{value}' is not a date (YYYY-MM-DD) for field '{field}'."),
                value=show(raw),
                field=label,
            )
            return None
        return raw

    def activity_criterion(
        self, data: dict[object, object], path: str, section: Section
    ) -> ActivityCriterion | None:
        self.object_keys(data, path, _ACTIVITY_KEYS)
        ok = True
        kind = data["activity"]
        if not isinstance(kind, str) or kind not in self.catalog.activity_kinds:
            self.error(
                self.sub(path, "activity"), _("Unknown activity kind '{kind}'."), kind=show(kind)
            )
            ok = False
        criterion_id, category, points, common_ok = self.common(
            data, path, section, Category.BEHAVIOURAL
        )
        min_count = self.int_in_range(
            data,
            "min_count",
            path,
            1,
            MAX_MIN_COUNT,
            _("'min_count' must be a whole number from {low} to {high}."),
        )
        window: Window | None = None
        raw_window = data.get("window")
        if not isinstance(raw_window, str) or raw_window not in tuple(Window):
            self.error(
                self.sub(path, "window"),
                _("Unknown window '{value}'; use one of: {allowed}."),
                value=show(raw_window),
                allowed=_join(tuple(Window)),
            )
        else:
            window = Window(raw_window)
        days: int | None = None
        if window == Window.LAST_DAYS:
            days = self.int_in_range(
                data,
                "days",
                path,
                1,
                MAX_DAYS,
                _("A 'last_days' window needs 'days', a whole number from {low} to {high}."),
            )
            ok = ok and days is not None
        elif window is not None and data.get("days") is not None:
            self.error(self.sub(path, "days"), _("'days' only applies to the 'last_days' window."))
            ok = False
        if (
            not ok
            or not common_ok
            or criterion_id is None
            or category is None
            or min_count is None
            or window is None
        ):
            return None
        assert isinstance(kind, str)
        return ActivityCriterion(
            id=criterion_id,
            category=category,
            kind=kind,
            min_count=min_count,
            window=window,
            days=days,
            points=points,
        )


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _greater(low: Scalar, high: Scalar) -> bool:
    # Both bounds already passed the same type check: two numbers or two ISO dates
    # (which sort correctly as strings).
    if isinstance(low, str) and isinstance(high, str):
        return low > high
    if isinstance(low, int | float) and isinstance(high, int | float):
        return low > high
    return False


def parse(data: object, catalog: Catalog) -> ValidationResult:
    """Validate ``data`` (the result of ``json.loads``) against ``catalog``.

    Returns the definition when there are no errors, otherwise ``definition=None``
    and every error found (up to ``MAX_ERRORS``).  Never raises on any input.
    """
    parser = _Parser(catalog)
    try:
        definition = parser.document(data)
    except _TooManyErrors:
        definition = None
    errors = tuple(parser.errors)
    return ValidationResult(definition if not errors else None, errors)


# ---------------------------------------------------------------------- JSON text


@dataclass(frozen=True)
class LoadResult:
    """The parsed JSON (``None`` when refused) and the errors of the text's limits."""

    data: object
    errors: tuple[ValidationError, ...]


@dataclass(frozen=True)
class _Refused:
    """Stands in for a number the parse hooks refused, until the walk finds its path."""

    template: str
    params: Mapping[str, str]


# A JSON string (escapes included) or one of the structural characters.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]')


def _key_text(token: str) -> str:
    try:
        key = json.loads(token)
    except ValueError:
        key = token.strip('"')
    return show(key)


@dataclass
class _Open:
    """A container open at some point of the scan: where in it the scan is."""

    is_object: bool
    index: int = 0  # in a list
    key: str = ""  # in an object: the key whose value is being read
    pending: str = ""  # in an object: the last string, which a ':' makes the key

    def step(self) -> str:
        return f".{self.key}" if self.is_object else f"[{self.index}]"


def _too_deep(text: str) -> str | None:
    """The JSON path of the first object or list nested deeper than MAX_JSON_DEPTH, or
    None. A scan of the text, without recursion: it runs before ``json.loads``, whose
    recursion is what deep nesting attacks. Syntax errors are left to json."""
    opened: list[_Open] = []
    previous = ""
    for match in _TOKEN.finditer(text):
        lexeme = match.group()
        if lexeme in ("{", "["):
            if len(opened) >= MAX_JSON_DEPTH:
                return "".join(o.step() for o in opened).lstrip(".")
            opened.append(_Open(is_object=lexeme == "{"))
        elif lexeme in ("}", "]"):
            if opened:
                opened.pop()
        elif lexeme == ",":
            if opened and not opened[-1].is_object:
                opened[-1].index += 1
        elif lexeme == ":":
            if opened and opened[-1].is_object:
                opened[-1].key = opened[-1].pending
        elif opened and opened[-1].is_object and previous in ("{", ","):
            opened[-1].pending = _key_text(lexeme)
        previous = lexeme
    return None


def _refuse_int(literal: str) -> int | _Refused:
    if len(literal) > MAX_NUMBER_CHARS:
        return _too_long(literal)
    return int(literal)


def _refuse_float(literal: str) -> float | _Refused:
    if len(literal) > MAX_NUMBER_CHARS:
        return _too_long(literal)
    value = float(literal)
    if not math.isfinite(value):
        return _Refused(_("'{value}' is out of range for a number."), {"value": literal})
    return value


def _too_long(literal: str) -> _Refused:
    return _Refused(
        _("This number is written with {length} characters; a number may have at most {max}."),
        {"length": str(len(literal)), "max": str(MAX_NUMBER_CHARS)},
    )


def _refuse_constant(name: str) -> _Refused:
    return _Refused(_("'{value}' is not a JSON number."), {"value": name})


def _refused_paths(data: object) -> list[ValidationError]:
    """Each refused number with its path, found iteratively (the data may be wide)."""
    errors: list[ValidationError] = []
    stack: list[tuple[str, object]] = [("", data)]
    while stack and len(errors) < MAX_ERRORS:
        path, value = stack.pop()
        if isinstance(value, _Refused):
            errors.append(ValidationError(path, value.template, MappingProxyType(value.params)))
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                stack.append((f"{path}.{show(key)}" if path else show(key), item))
        elif isinstance(value, list):
            for index in reversed(range(len(value))):
                stack.append((f"{path}[{index}]", value[index]))
    return errors


def load(text: str) -> LoadResult:
    """Parse a definition's JSON text within the document limits (MAX_DOCUMENT_CHARS,
    MAX_JSON_DEPTH, MAX_NUMBER_CHARS, finite numbers, no NaN or Infinity), each
    violation an error with its JSON path; then :func:`parse` checks the definition.

    Raises ``json.JSONDecodeError`` for text that is not JSON at all (the caller words
    that with the line and column); never anything else.
    """
    if len(text) > MAX_DOCUMENT_CHARS:
        error = ValidationError(
            "",
            _("The document is {size} characters long; a definition may have at most {max}."),
            MappingProxyType({"size": str(len(text)), "max": str(MAX_DOCUMENT_CHARS)}),
        )
        return LoadResult(None, (error,))
    deep = _too_deep(text)
    if deep is not None:
        error = ValidationError(
            deep,
            _("The document is nested more than {max} levels deep here."),
            MappingProxyType({"max": str(MAX_JSON_DEPTH)}),
        )
        return LoadResult(None, (error,))
    try:
        data = json.loads(
            text,
            parse_int=_refuse_int,
            parse_float=_refuse_float,
            parse_constant=_refuse_constant,
        )
    except RecursionError:  # the scan above prevents it; a smaller stack would not
        error = ValidationError(
            "",
            _("The document is nested more than {max} levels deep here."),
            MappingProxyType({"max": str(MAX_JSON_DEPTH)}),
        )
        return LoadResult(None, (error,))
    errors = _refused_paths(data)
    return LoadResult(None if errors else data, tuple(errors))
