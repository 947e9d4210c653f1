"""Stage 2 of an import: which column feeds which field. The suggested mapping from the
headers and samples, the saved mapping per header signature, and the plan compiled
from a mapping (checked, with new custom fields)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from definitions import rules
from definitions.catalog.selectors import catalog_for
from feedback.imports import dispositions, presets
from feedback.imports import read as tabular
from feedback.models import ImportJob, ImportKind, ImportMapping

if TYPE_CHECKING:
    pass


BUILTIN = [spec.key for spec in rules.BUILTIN_FIELDS]

BUILTIN_TYPES = {spec.key: str(spec.type) for spec in rules.BUILTIN_FIELDS}

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

TARGETS = ("ignore", "external_id", "name", "email", "field", "new_field", "kind", "at", "rep")


def header_signature(headers: list[str]) -> str:
    return hashlib.sha256("\x1f".join(h.strip().casefold() for h in headers).encode()).hexdigest()


def suggested_mapping(job: ImportJob, shape: tabular.Preview) -> dict[str, Any]:
    """The saved mapping for this header if it is still valid, else one built from the
    CRM presets, the workshop's catalog and the sampled values. Always valid as it is:
    no two columns feed one field (the best match keeps it, the others become custom
    fields)."""
    saved = ImportMapping.objects.filter(
        workshop=job.workshop, signature=header_signature(job.headers)
    ).first()
    if saved is not None:
        remembered: dict[str, Any] = saved.mapping
        try:
            compile_plan(job, remembered)
        except ValidationError:
            pass  # the catalog changed since (a field deleted): suggest afresh
        else:
            return remembered
    catalog = catalog_for(job.workshop, translated=False)
    if job.kind == ImportKind.ACTIVITIES:
        columns = _suggest_activities(shape.columns)
    else:
        columns = _suggest_leads(shape.columns, catalog)
    options = default_options()
    options["date_order"] = guess_date_order(shape.columns)
    return {"version": 1, "options": options, "columns": columns}


def default_options() -> dict[str, Any]:
    return {
        "null_tokens": list(tabular.DEFAULT_NULLS),
        "decimal": "auto",
        "date_order": "ymd",
        "all_or_nothing": False,
        "strict": False,
    }


ACTIVITY_SYNONYMS = {
    "external_id": {"id", "external id", "prospect id", "lead id", "lead number", "record id"},
    "kind": {"kind", "activity", "activity type", "event", "type"},
    "at": {"at", "timestamp", "time", "date", "occurred at", "activity date"},
}


def _suggest_activities(columns: list[tabular.Column]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for column in columns:
        name = presets.header_key(column.name)
        found[column.name] = {"target": "ignore"}
        for target, names in ACTIVITY_SYNONYMS.items():
            if name in names and target not in taken:
                found[column.name] = {"target": target}
                taken.add(target)
                break
    return found


def _values_of(column: tabular.Column) -> list[str]:
    return list(column.counts) or list(column.samples)


def slot_of(entry: dict[str, Any]) -> str:
    """What a mapping entry fills: two entries with one slot cannot both be kept."""
    if entry["target"] == "field":
        return f"field:{entry['field']}"
    if entry["target"] == "new_field":
        return f"field:{entry['key']}"
    return str(entry["target"])


def _suggest_leads(
    columns: list[tabular.Column], catalog: rules.Catalog
) -> dict[str, dict[str, Any]]:
    chosen: dict[int, dict[str, Any]] = {}
    taken: dict[str, int] = {}
    name_parts = 0
    candidates = sorted(
        (
            (rule.rank, i, rule)
            for i, column in enumerate(columns)
            for rule in presets.rules_for(column.name, _values_of(column))
        ),
        key=lambda c: (c[0], c[1]),
    )
    for _rank, i, rule in candidates:
        if i in chosen:
            continue
        entry = dict(rule.target)
        if entry["target"] == "new_field":
            existing = catalog.fields.get(str(entry["key"]))
            if existing is not None and existing.builtin:
                continue
            if existing is not None:  # an earlier import created it: fill it again
                entry = {"target": "field", "field": existing.key}
        if entry["target"] == "ignore":
            chosen[i] = entry
            continue
        slot = slot_of(entry)
        if rule.name_part:
            # A whole-name column (ranked first) leaves no room for parts.
            if (slot in taken and not name_parts) or name_parts >= 2:
                continue
            name_parts += 1
        elif slot in taken or (slot == "name" and name_parts):
            continue
        taken[slot] = i
        spec = catalog.fields.get(str(entry.get("field", "")))
        if spec is not None and _recodable(spec):
            entry.update(_value_entry(spec, columns[i], rule.unmapped, rule.default))
        if rule.after_outcome and (entry["target"] == "new_field" or (spec and not spec.builtin)):
            entry["after_outcome"] = True
        chosen[i] = entry
    if "external_id" not in taken:
        found = _likely_id(columns, chosen)
        if found is not None:
            chosen[found], taken["external_id"] = {"target": "external_id"}, found
    for i, column in enumerate(columns):
        if i not in chosen:
            chosen[i] = _guess(column, catalog, taken)
            if chosen[i]["target"] != "ignore":
                taken[slot_of(chosen[i])] = i
    _suggest_verdicts(columns, chosen)
    fallback = guess_date_order(columns)
    for i, column in enumerate(columns):
        readings = date_readings(column, fallback)
        if len(readings) > 1 or any(r.order != fallback for r in readings):
            # Mixed patterns, or one whose values disagree with the file's order.
            chosen[i]["date_orders"] = {r.separator: r.order for r in readings}
    return {column.name: chosen[i] for i, column in enumerate(columns)}


def _suggest_verdicts(columns: list[tabular.Column], chosen: dict[int, dict[str, Any]]) -> None:
    """The first disposition column whose values a preset knows also gives sales
    verdicts, attributed to the owner column's rep when there is one."""
    for i, column in enumerate(columns):
        if presets.header_key(column.name) not in presets.VERDICT_HEADERS:
            continue
        values = presets.verdict_values(_values_of(column))
        if values is None:
            continue
        chosen[i]["verdict"] = {"values": values, "unmapped": dispositions.NONE}
        for j, owner in enumerate(columns):
            if presets.header_key(owner.name) in presets.REP_HEADERS:
                chosen[j] = {"target": "rep"}
                break
        return


def _likely_id(columns: list[tabular.Column], chosen: dict[int, dict[str, Any]]) -> int | None:
    """No header says "id": the first column whose sampled cells are all filled and all
    different, preferring one whose name ends in id, number, key or code."""
    unique = [
        i
        for i, column in enumerate(columns)
        if i not in chosen
        and column.seen
        and column.filled == column.seen
        and all(n == 1 for n in column.counts.values())
    ]
    named = [
        i
        for i in unique
        if presets.header_key(columns[i].name).rsplit(" ", 1)[-1] in ("id", "number", "key", "code")
    ]
    best = named or unique
    return best[0] if best else None


def _guess(column: tabular.Column, catalog: rules.Catalog, taken: dict[str, int]) -> dict[str, Any]:
    """A column no preset names: a catalog field whose key or label it carries, else a
    new custom field with a key no other column or field has."""
    name = presets.header_key(column.name)
    for spec in catalog.fields.values():
        if name in (spec.key.replace("_", " "), presets.header_key(spec.label)):
            if f"field:{spec.key}" in taken:
                break
            entry: dict[str, Any] = {"target": "field", "field": spec.key}
            if _recodable(spec):
                entry.update(_value_entry(spec, column, "reject", ""))
            return entry
    base = re.sub(r"[^a-z0-9]+", "_", column.name.casefold()).strip("_")[:60] or "column"
    if not base[0].isalpha():
        base = f"f_{base}"[:60]
    key, n = base, 1
    while key in catalog.fields or f"field:{key}" in taken:
        n += 1
        key = f"{base}_{n}"
    return {
        "target": "new_field",
        "key": key,
        "label": column.name[:120],
        "type": column.inferred if column.inferred in ("number", "boolean", "date") else "text",
        "category": "demographic",
    }


def _recodable(spec: rules.FieldSpec) -> bool:
    return (spec.type == rules.FieldType.CHOICE and bool(spec.choices)) or (
        spec.type == rules.FieldType.BOOLEAN
    )


def native_value(spec: rules.FieldSpec, raw: str) -> Any:
    """What a value means without a value map: a choice's code or label, yes/no."""
    if spec.type == rules.FieldType.BOOLEAN:
        return tabular.parse_bool(raw)
    folded = raw.strip().casefold()
    for code in spec.choices:
        if code.casefold() == folded or spec.choice_label(code).casefold() == folded:
            return code
    return None


def _value_entry(
    spec: rules.FieldSpec, column: tabular.Column, unmapped: str, default: str
) -> dict[str, Any]:
    """The suggested value map: the sampled values that do not already say a code
    and that the presets know."""
    table = presets.VALUES.get(spec.key, {}) if spec.builtin else {}
    values: dict[str, Any] = {}
    for raw in _values_of(column):
        if native_value(spec, raw) is None and presets.value_key(raw) in table:
            values[raw] = table[presets.value_key(raw)]
    entry: dict[str, Any] = {"values": values, "unmapped": unmapped}
    if unmapped == "default":
        entry["default"] = default
    return entry


_SLASHED = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.]\d{4}\b")

_DAY_MONTH = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2\d{4}\b")

DATE_PATTERNS = {"/": "31/12/2026", "-": "31-12-2026", ".": "31.12.2026"}


def date_separator(raw: str) -> str | None:
    """The separator of a day/month/year date ("/", "-" or "."), None for others."""
    match = _DAY_MONTH.match(raw.strip())
    return match.group(2) if match else None


@dataclass
class DateReading:
    """How one pattern of a column's dates is read: its separator, an example from
    the file, the order chosen and whether the file's values decided it."""

    separator: str
    example: str
    order: str
    decided: bool


def date_readings(column: tabular.Column, fallback: str) -> list[DateReading]:
    """Each day/month/year pattern of the column's sampled values (a spreadsheet
    round trip leaves `5/26/2021 17:27` next to `06-01-2021 20:28`), with the order
    its own values show (a first number above 12 is a day, a second one a month's
    day) or, undecided, `fallback`."""
    seen: dict[str, list[Any]] = {}
    for raw in _values_of(column):
        match = _DAY_MONTH.match(raw.strip())
        if match is None:
            continue
        entry = seen.setdefault(match.group(2), [raw.strip(), False, False])
        entry[1] |= int(match.group(1)) > 12
        entry[2] |= int(match.group(3)) > 12
    readings = []
    for sep, (example, day_first, month_first) in seen.items():
        decided = day_first != month_first
        order = ("dmy" if day_first else "mdy") if decided else fallback
        if order == "ymd":
            order = "mdy"  # a pattern that is not ISO, undecided: as the CRMs export
        readings.append(DateReading(sep, example, order, decided))
    return readings


def guess_date_order(columns: list[tabular.Column]) -> str:
    """Day or month first, from the sampled dates: a first number above 12 is a day
    (dmy), a second one above 12 too (mdy). Undecided slashed dates are read month
    first, as the big CRMs export them by default; none at all keeps ISO."""
    day_first = month_first = slashed = False
    for column in columns:
        for raw in _values_of(column):
            match = _SLASHED.match(raw)
            if match is None:
                continue
            slashed = True
            day_first |= int(match.group(1)) > 12
            month_first |= int(match.group(2)) > 12
    if day_first and not month_first:
        return "dmy"
    if month_first or slashed:
        return "mdy"
    return "ymd"


@dataclass
class Target:
    index: int
    header: str
    kind: str  # external_id | name | email | builtin | custom | kind | at
    key: str = ""
    type: str = "text"
    spec: rules.FieldSpec | None = None
    # Value recoding (value_key of the file's value → code; None: leave empty) and what
    # a value with no code becomes: "reject" the row, leave it "empty", or `default`.
    values: dict[str, Any] | None = None
    unmapped: str = "reject"
    default: Any = None
    # A custom choice field that takes the file's values it does not know as new
    # choices (the admin chose "add them to the choices").
    add_choices: bool = False
    # A date column's order per day/month/year separator ("/": "mdy"), over the
    # file's date_order: dates of mixed patterns in one column.
    date_orders: dict[str, str] = field(default_factory=dict)

    @property
    def recodes(self) -> bool:
        return self.values is not None or self.unmapped != "reject" or self.add_choices


@dataclass
class VerdictColumn:
    """A disposition column: its values → sales verdicts (dispositions.Disposition by
    value_key; any other value gets `unmapped`), attributed to the rep named in the
    `rep` column's cell, else to `rep_name`, else to the system rep."""

    index: int
    header: str
    values: dict[str, dispositions.Disposition]
    unmapped: dispositions.Disposition
    rep_index: int | None = None
    rep_name: str = ""


@dataclass
class Plan:
    kind: str
    targets: list[Target]
    options: dict[str, Any]
    new_fields: list[dict[str, Any]] = field(default_factory=list)
    new_choices: dict[str, list[str]] = field(default_factory=dict)
    # Values found by the run that become new choices of existing custom fields.
    added_choices: dict[str, list[str]] = field(default_factory=dict)
    # Existing custom fields the mapping marks as known only after the outcome.
    after_outcome: list[str] = field(default_factory=list)
    verdict: VerdictColumn | None = None

    @property
    def mapped_builtins(self) -> list[str]:
        return [t.key for t in self.targets if t.kind == "builtin"]


def compile_plan(job: ImportJob, mapping: dict[str, Any]) -> Plan:
    """Check a mapping against the file and the catalog; every problem, by column."""
    if not isinstance(mapping, dict) or not isinstance(mapping.get("columns"), dict):
        raise ValidationError(_("The mapping must have a “columns” object."))
    options = {**default_options(), **(mapping.get("options") or {})}
    errors: list[str] = []
    if options["decimal"] not in ("auto", "dot", "comma"):
        errors.append(_("The number style must be auto, dot or comma."))
    if options["date_order"] not in ("ymd", "dmy", "mdy"):
        errors.append(_("The date order must be ymd, dmy or mdy."))
    if not isinstance(options.get("strict", False), bool):
        errors.append(_("“strict” must be true or false."))
    if not isinstance(options["null_tokens"], list) or not all(
        isinstance(t, str) for t in options["null_tokens"]
    ):
        errors.append(_("Empty-value tokens must be a list of texts."))
    catalog = catalog_for(job.workshop, translated=False)
    targets: list[Target] = []
    new_fields: list[dict[str, Any]] = []
    after_outcome: list[str] = []
    used: dict[str, str] = {}
    verdict: VerdictColumn | None = None
    rep_index: int | None = None
    for index, header in enumerate(job.headers):
        spec_raw = mapping["columns"].get(header, {"target": "ignore"})
        target = spec_raw.get("target") if isinstance(spec_raw, dict) else None
        if target not in TARGETS:
            errors.append(_("Column “%(c)s”: unknown target.") % {"c": header})
            continue
        if spec_raw.get("verdict") is not None and job.kind != ImportKind.ACTIVITIES:
            found = _verdict_column(index, header, spec_raw["verdict"], errors)
            if found is not None and verdict is not None:
                errors.append(
                    _("Columns “%(a)s” and “%(b)s” both give sales verdicts.")
                    % {"a": verdict.header, "b": header}
                )
            verdict = verdict or found
        if target == "rep" and job.kind != ImportKind.ACTIVITIES:
            if rep_index is not None:
                errors.append(
                    _("Columns “%(a)s” and “%(b)s” both name the rep.")
                    % {"a": job.headers[rep_index], "b": header}
                )
            rep_index = index
            continue
        if target == "ignore":
            continue
        if job.kind == ImportKind.ACTIVITIES and target not in ("external_id", "kind", "at"):
            errors.append(
                _(
                    "Column “%(c)s”: an activities file maps only the lead id, the kind "
                    "and the time."
                )
                % {"c": header}
            )
            continue
        if target == "name":
            # First and last name columns: their parts are joined, in file order.
            targets.append(Target(index, header, target))
            continue
        if target in ("external_id", "email", "kind", "at"):
            slot = target
            targets.append(Target(index, header, target))
        elif target == "field":
            key = str(spec_raw.get("field", ""))
            spec = catalog.fields.get(key)
            if spec is None:
                errors.append(
                    _("Column “%(c)s”: there is no field “%(f)s”.") % {"c": header, "f": key}
                )
                continue
            slot = key
            recoding = _recoding(header, spec, spec_raw, errors)
            if recoding is None:
                continue
            add_choices = bool(spec_raw.get("add_choices"))
            if add_choices and (spec.builtin or spec.type != rules.FieldType.CHOICE):
                errors.append(
                    _("Column “%(c)s”: only a custom choice field can take new values.")
                    % {"c": header}
                )
                continue
            targets.append(
                Target(
                    index,
                    header,
                    "builtin" if spec.builtin else "custom",
                    key,
                    spec.type,
                    spec,
                    *recoding,
                    add_choices=add_choices,
                )
            )
            if spec_raw.get("after_outcome") and not spec.builtin:
                after_outcome.append(key)
        else:
            key = str(spec_raw.get("key", ""))
            ftype = str(spec_raw.get("type", "text"))
            if not KEY_RE.match(key):
                errors.append(
                    _(
                        "Column “%(c)s”: the new field's key must be lower-case letters, "
                        "digits and underscores."
                    )
                    % {"c": header}
                )
                continue
            existing = catalog.fields.get(key)
            if existing is not None and not existing.builtin and existing.type == ftype:
                # The saved mapping of an earlier import created it: fill it again.
                slot = key
                targets.append(Target(index, header, "custom", key, ftype, existing))
                if spec_raw.get("after_outcome"):
                    after_outcome.append(key)
                if slot in used:
                    errors.append(
                        _("Columns “%(a)s” and “%(b)s” both feed “%(f)s”.")
                        % {"a": used[slot], "b": header, "f": slot}
                    )
                used[slot] = header
                continue
            if existing is not None:
                errors.append(
                    _("Column “%(c)s”: a field “%(f)s” exists already; map to it instead.")
                    % {"c": header, "f": key}
                )
                continue
            if ftype not in ("text", "number", "boolean", "date", "choice"):
                errors.append(_("Column “%(c)s”: unknown field type.") % {"c": header})
                continue
            category = str(spec_raw.get("category") or "demographic")
            if category not in {c.value for c in rules.Category} - {rules.Category.OUTCOME}:
                errors.append(_("Column “%(c)s”: unknown category.") % {"c": header})
                continue
            slot = key
            new_fields.append(
                {
                    "key": key,
                    "label": str(spec_raw.get("label") or header)[:120],
                    "type": ftype,
                    "category": category,
                    "after_outcome": bool(spec_raw.get("after_outcome")),
                }
            )
            targets.append(Target(index, header, "custom", key, ftype))
        if slot in used:
            errors.append(
                _("Columns “%(a)s” and “%(b)s” both feed “%(f)s”.")
                % {"a": used[slot], "b": header, "f": slot}
            )
        used[slot] = header
    required = (
        ("external_id", "kind", "at") if job.kind == ImportKind.ACTIVITIES else ("external_id",)
    )
    for slot in required:
        if slot not in used:
            errors.append(
                {
                    "external_id": _(
                        "Choose the column that identifies each lead (its external id)."
                    ),
                    "kind": _("Choose the column with the activity kind."),
                    "at": _("Choose the column with the activity time."),
                }[slot]
            )
    if verdict is not None:
        verdict.rep_index = rep_index
    for t in targets:
        orders = mapping["columns"][t.header].get("date_orders")
        if orders is None:
            continue
        if not isinstance(orders, dict) or not all(
            sep in DATE_PATTERNS and order in ("dmy", "mdy") for sep, order in orders.items()
        ):
            errors.append(
                _("Column “%(c)s”: date orders pair “/”, “-” or “.” with dmy or mdy.")
                % {"c": t.header}
            )
            continue
        t.date_orders = dict(orders)
    if errors:
        raise ValidationError(errors)
    return Plan(
        job.kind, targets, options, new_fields, after_outcome=after_outcome, verdict=verdict
    )


def _verdict_column(index: int, header: str, raw: Any, errors: list[str]) -> VerdictColumn | None:
    """A column entry's "verdict" part, checked: {"values": {file value: "good" |
    "bad:<reason>" | null}, "unmapped": same, "rep": username}."""
    if not isinstance(raw, dict) or not isinstance(raw.get("values", {}), dict):
        errors.append(_("Column “%(c)s”: the sales verdict needs a value map.") % {"c": header})
        return None
    values: dict[str, dispositions.Disposition] = {}
    bad = False
    for value, code in (raw.get("values") or {}).items():
        parsed = dispositions.parse_code(code)
        if parsed is None or not isinstance(value, str):
            bad = True
            errors.append(
                _("Column “%(c)s”: “%(v)s” is not a verdict (good, bad, bad:<reason> or none).")
                % {"c": header, "v": str(code)[:80]}
            )
            continue
        values[presets.value_key(value)] = parsed
    unmapped = dispositions.parse_code(raw.get("unmapped"))
    if unmapped is None:
        bad = True
        errors.append(
            _("Column “%(c)s”: other values must be good, bad, bad:<reason> or none.")
            % {"c": header}
        )
    rep = raw.get("rep") or ""
    if not isinstance(rep, str):
        bad = True
        errors.append(_("Column “%(c)s”: the rep is a username.") % {"c": header})
    if bad or unmapped is None:
        return None
    return VerdictColumn(index, header, values, unmapped, rep_name=str(rep)[:150])


UNMAPPED = ("reject", "empty", "default")


def _code(spec: rules.FieldSpec, value: Any) -> tuple[bool, Any]:
    """(valid, code) of one value-map target: a choice's code, a yes/no, or empty."""
    if value is None or value == "":
        return True, None
    if spec.type == rules.FieldType.BOOLEAN:
        if isinstance(value, bool):
            return True, value
        parsed = tabular.parse_bool(str(value))
        return parsed is not None, parsed
    return (isinstance(value, str) and value in spec.choices), value


def _recoding(
    header: str, spec: rules.FieldSpec, raw: dict[str, Any], errors: list[str]
) -> tuple[dict[str, Any] | None, str, Any] | None:
    """The checked value map of a column: (values by value_key, unmapped, default),
    or None after adding its problems to `errors`."""
    values = raw.get("values")
    unmapped = raw.get("unmapped", "reject")
    if values is None and unmapped == "reject":
        return None, "reject", None
    if not _recodable(spec):
        errors.append(
            _("Column “%(c)s”: values can be recoded only into a choice or yes/no field.")
            % {"c": header}
        )
        return None
    if not isinstance(values, dict | None) or not all(isinstance(k, str) for k in values or {}):
        errors.append(
            _("Column “%(c)s”: the value map must pair the file's values with codes.")
            % {"c": header}
        )
        return None
    if unmapped not in UNMAPPED:
        errors.append(
            _("Column “%(c)s”: other values must be rejected, left empty or given a default.")
            % {"c": header}
        )
        return None
    table: dict[str, Any] = {}
    bad = False
    for value, code in (values or {}).items():
        ok, table[presets.value_key(value)] = _code(spec, code)
        if not ok:
            bad = True
            errors.append(
                _("Column “%(c)s”: “%(v)s” is not a value of “%(f)s”.")
                % {"c": header, "v": str(code)[:80], "f": spec.key}
            )
    default = None
    if unmapped == "default":
        ok, default = _code(spec, raw.get("default"))
        if not ok or default is None:
            bad = True
            errors.append(
                _("Column “%(c)s”: choose the value other values become.") % {"c": header}
            )
    return None if bad else (table, str(unmapped), default)


# -- the mapping page's value tables

EMPTY_CODE = "__empty"  # the form's word for "leave empty"


@dataclass
class ValueRow:
    raw: str
    rows: int  # how many sampled rows carry it
    chosen: str  # the form value selected: a code, "true"/"false", EMPTY_CODE or ""
    mapped: bool  # the value says a code (by the map or by itself)


@dataclass
class ValueTable:
    field: str
    codes: list[tuple[str, str]]
    rows: list[ValueRow]
    unmapped: str  # "reject", "empty" or "default:<code>"
    unmapped_choices: list[tuple[str, str]]
    more: bool  # the sample had more distinct values than listed


def _form_code(value: Any) -> str:
    if value is None:
        return EMPTY_CODE
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def value_table(
    spec: rules.FieldSpec, column: tabular.Column, entry: dict[str, Any]
) -> ValueTable | None:
    """The column's sampled values with the code each becomes, for a choice or yes/no
    target; what the page shows before anything is imported."""
    if not _recodable(spec):
        return None
    if "values" not in entry and entry.get("unmapped", "reject") == "reject":
        entry = {**entry, **_value_entry(spec, column, "reject", "")}
    given = {presets.value_key(k): v for k, v in (entry.get("values") or {}).items()}
    listed = dict(column.counts) or dict.fromkeys(column.samples, 0)
    seen = {presets.value_key(v) for v in listed}
    for raw in entry.get("values") or {}:
        if presets.value_key(raw) not in seen:
            listed[raw] = 0
    rows = []
    for raw, count in listed.items():
        key = presets.value_key(raw)
        value = given[key] if key in given else native_value(spec, raw)
        known = key in given or value is not None
        rows.append(ValueRow(raw, count, _form_code(value) if known else "", known))
    if spec.type == rules.FieldType.BOOLEAN:
        codes = [("true", _("Yes")), ("false", _("No"))]
    else:
        codes = [(code, spec.choice_label(code)) for code in spec.choices]
    unmapped = str(entry.get("unmapped", "reject"))
    if unmapped == "default":
        unmapped = f"default:{_form_code(entry.get('default'))}"
    return ValueTable(
        field=spec.key,
        codes=[("", _("as the other values")), (EMPTY_CODE, _("leave empty")), *codes],
        rows=rows,
        unmapped=unmapped,
        unmapped_choices=[
            ("reject", _("reject the row")),
            ("empty", _("leave empty")),
            *((f"default:{code}", _("make it “%(v)s”") % {"v": label}) for code, label in codes),
        ],
        more=column.more_values,
    )


def _from_form(code: str, spec: rules.FieldSpec) -> Any:
    if code == EMPTY_CODE:
        return None
    if spec.type == rules.FieldType.BOOLEAN:
        return code == "true"
    return code


def mapping_from_form(
    job: ImportJob, data: Any, options: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The mapping the page posted, and the columns whose value table was shown for
    another field than the one now chosen (their values must be matched again)."""
    catalog = catalog_for(job.workshop, translated=False)
    columns: dict[str, Any] = {}
    pending: list[str] = []
    for i, header in enumerate(job.headers):
        target = data.get(f"col-{i}-target", "ignore")
        entry: dict[str, Any]
        if target.startswith("field:"):
            entry = {"target": "field", "field": target[6:]}
        elif target == "new_field":
            entry = {
                "target": "new_field",
                "key": data.get(f"col-{i}-key", "").strip(),
                "label": data.get(f"col-{i}-label", "").strip() or header,
                "type": data.get(f"col-{i}-type", "text"),
                "category": data.get(f"col-{i}-category", "demographic"),
            }
        else:
            entry = {"target": target}
        if data.get(f"col-{i}-after"):
            entry["after_outcome"] = True
        spec = catalog.fields.get(entry.get("field", ""))
        if spec is not None and data.get(f"col-{i}-addchoices") and _takes_new_choices(spec):
            entry["add_choices"] = True
        if data.get(f"col-{i}-verdict"):
            entry["verdict"] = _verdict_from_form(data, i)
            if data.get(f"col-{i}-vnvalues") is None:
                pending.append(
                    _("Column “%(c)s”: say below which verdict each of its values gives.")
                    % {"c": header}
                )
        orders = {
            sep: data.get(f"col-{i}-date-{sep}")
            for sep in DATE_PATTERNS
            if data.get(f"col-{i}-date-{sep}") in ("dmy", "mdy")
        }
        if orders and entry.get("target") in ("field", "new_field"):
            entry["date_orders"] = orders
        if spec is not None and _recodable(spec):
            if data.get(f"col-{i}-for") != spec.key:
                pending.append(
                    _("Column “%(c)s”: say below what each of its values becomes in “%(f)s”.")
                    % {"c": header, "f": spec.key}
                )
            else:
                entry.update(_values_from_form(data, i, spec))
        columns[header] = entry
    return {"version": 1, "options": options, "columns": columns}, pending


def _takes_new_choices(spec: rules.FieldSpec) -> bool:
    return not spec.builtin and spec.type == rules.FieldType.CHOICE


def _verdict_from_form(data: Any, i: int) -> dict[str, Any]:
    """The column's "sales verdict" part as the page posted it: each listed value's
    verdict (when the table was shown) and what any other value means."""
    values: dict[str, Any] = {}
    try:
        count = min(int(data.get(f"col-{i}-vnvalues") or 0), 1000)
    except ValueError:
        count = 0
    for j in range(count):
        raw, code = data.get(f"col-{i}-vraw-{j}"), data.get(f"col-{i}-vcode-{j}", "")
        if raw is not None and code:
            values[raw] = None if code == dispositions.NONE else code
    unmapped = data.get(f"col-{i}-vunmapped") or dispositions.NONE
    return {"values": values, "unmapped": None if unmapped == dispositions.NONE else unmapped}


def _values_from_form(data: Any, i: int, spec: rules.FieldSpec) -> dict[str, Any]:
    values: dict[str, Any] = {}
    try:
        count = min(int(data.get(f"col-{i}-nvalues") or 0), 1000)
    except ValueError:
        count = 0
    for j in range(count):
        raw, code = data.get(f"col-{i}-raw-{j}"), data.get(f"col-{i}-code-{j}", "")
        if raw is not None and code:
            values[raw] = _from_form(code, spec)
    unmapped = str(data.get(f"col-{i}-unmapped", "reject"))
    entry: dict[str, Any] = {"values": values, "unmapped": unmapped}
    if unmapped.startswith("default:"):
        entry["unmapped"], entry["default"] = "default", _from_form(unmapped[8:], spec)
    return entry


@dataclass
class VerdictTable:
    """A disposition column's sampled values with the verdict each gives."""

    rows: list[ValueRow]
    codes: list[tuple[str, str]]
    unmapped: str


@dataclass
class PageRow:
    index: int
    column: tabular.Column
    value: str  # the target select's value
    chosen: dict[str, Any]
    table: ValueTable | None
    verdicts: VerdictTable | None = None
    dates: list[DateReading] = field(default_factory=list)
    # A custom choice field: the file's unmapped values may become new choices.
    takes_new_choices: bool = False

    @property
    def unmapped(self) -> list[ValueRow]:
        """The sampled values that will reject their rows as the mapping stands."""
        if self.table is None or self.table.unmapped != "reject" or self.chosen.get("add_choices"):
            return []
        return [row for row in self.table.rows if not row.mapped and row.rows]


def verdict_table(column: tabular.Column, entry: dict[str, Any]) -> VerdictTable:
    """The column's sampled values and the verdict each gives under its "verdict"
    part (the suggestion's, or what the page posted)."""
    raw_spec = entry.get("verdict")
    spec: dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    given = {presets.value_key(k): v for k, v in (spec.get("values") or {}).items()}
    listed = dict(column.counts) or dict.fromkeys(column.samples, 0)
    rows = []
    for raw, count in listed.items():
        key = presets.value_key(raw)
        known = key in given
        code = given.get(key)
        chosen = (dispositions.NONE if code is None else str(code)) if known else ""
        rows.append(ValueRow(raw, count, chosen, known))
    unmapped = spec.get("unmapped")
    return VerdictTable(
        rows=rows,
        codes=[("", _("as the other values")), *dispositions.code_choices()],
        unmapped=dispositions.NONE if unmapped is None else str(unmapped),
    )


def page_rows(job: ImportJob, shape: tabular.Preview, mapping: dict[str, Any]) -> list[PageRow]:
    """Each column of the file with its mapping entry and, for a choice or yes/no
    target, its value table."""
    catalog = catalog_for(job.workshop, translated=False)
    rows = []
    for i, column in enumerate(shape.columns):
        chosen = mapping["columns"].get(column.name, {"target": "ignore"})
        if not isinstance(chosen, dict):
            chosen = {"target": "ignore"}
        spec = (
            catalog.fields.get(str(chosen.get("field", "")))
            if chosen.get("target") == "field"
            else None
        )
        value = (
            f"field:{chosen['field']}" if spec is not None else str(chosen.get("target", "ignore"))
        )
        table = value_table(spec, column, chosen) if spec is not None else None
        verdicts = verdict_table(column, chosen) if chosen.get("verdict") is not None else None
        order = str((mapping.get("options") or {}).get("date_order", "ymd"))
        dates = [
            DateReading(
                r.separator,
                r.example,
                (chosen.get("date_orders") or {}).get(r.separator, r.order),
                r.decided,
            )
            for r in date_readings(column, order)
        ]
        rows.append(
            PageRow(
                i,
                column,
                value,
                chosen,
                table,
                verdicts,
                dates,
                takes_new_choices=spec is not None and _takes_new_choices(spec),
            )
        )
    return rows


def unmapped_lines(job: ImportJob, shape: tabular.Preview, mapping: dict[str, Any]) -> list[str]:
    """The preview's list of values that will not map, one line per column: what the
    command prints before it imports (the page shows the same)."""
    lines = []
    for row in page_rows(job, shape, mapping):
        if row.unmapped:
            values = ", ".join(f"“{v.raw}” ({v.rows})" for v in row.unmapped[:20])
            lines.append(
                _("Column “%(c)s”: values that will not map (rows in the sample): %(v)s")
                % {"c": row.column.name, "v": values}
            )
    return lines
