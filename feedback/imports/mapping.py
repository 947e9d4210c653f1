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
from feedback.imports import read as tabular
from feedback.models import ImportJob, ImportKind, ImportMapping

if TYPE_CHECKING:
    pass


BUILTIN = [spec.key for spec in rules.BUILTIN_FIELDS]

BUILTIN_TYPES = {spec.key: str(spec.type) for spec in rules.BUILTIN_FIELDS}

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

TARGETS = ("ignore", "external_id", "name", "email", "field", "new_field", "kind", "at")


def header_signature(headers: list[str]) -> str:
    return hashlib.sha256("\x1f".join(h.strip().casefold() for h in headers).encode()).hexdigest()


def suggested_mapping(job: ImportJob, shape: tabular.Preview) -> dict[str, Any]:
    """The saved mapping for this header, else a guess from the column names."""
    saved = ImportMapping.objects.filter(
        workshop=job.workshop, signature=header_signature(job.headers)
    ).first()
    if saved is not None:
        remembered: dict[str, Any] = saved.mapping
        return remembered
    catalog = catalog_for(job.workshop, translated=False)
    columns: dict[str, dict[str, Any]] = {}
    for column in shape.columns:
        columns[column.name] = _guess(column, catalog, job.kind)
    return {"version": 1, "options": default_options(), "columns": columns}


def default_options() -> dict[str, Any]:
    return {
        "null_tokens": list(tabular.DEFAULT_NULLS),
        "decimal": "auto",
        "date_order": "ymd",
        "all_or_nothing": False,
    }


SYNONYMS = {
    "external_id": {"id", "external id", "prospect id", "lead id", "lead number", "record id"},
    "name": {"name", "full name", "lead name", "contact", "contact name"},
    "email": {"email", "e-mail", "email address", "mail"},
    "kind": {"kind", "activity", "activity type", "event", "type"},
    "at": {"at", "timestamp", "time", "date", "occurred at", "activity date"},
    "source": {"lead source", "source", "lead origin", "origin"},
    "company": {"company", "company name", "organization", "account"},
    "country": {"country", "country code"},
    "job_title": {"title", "job title", "position"},
    "annual_revenue": {"revenue", "annual revenue"},
    "employees": {"employees", "company size", "headcount"},
    "converted": {"converted", "won", "is converted"},
    "created_at": {"created", "created at", "created date", "create date"},
}


def _norm(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip().casefold())


def _guess(column: tabular.Column, catalog: rules.Catalog, kind: str) -> dict[str, Any]:
    name = _norm(column.name)
    wanted = (
        ("external_id", "kind", "at")
        if kind == ImportKind.ACTIVITIES
        else ("external_id", "name", "email")
    )
    for target in wanted:
        if name in SYNONYMS.get(target, set()):
            return {"target": target}
    if kind == ImportKind.ACTIVITIES:
        return {"target": "ignore"}
    for spec in catalog.fields.values():
        if name in (spec.key.replace("_", " "), _norm(spec.label)) or name in SYNONYMS.get(
            spec.key, set()
        ):
            return {"target": "field", "field": spec.key}
    key = re.sub(r"[^a-z0-9]+", "_", column.name.casefold()).strip("_")[:60] or "column"
    if not key[0].isalpha():
        key = f"f_{key}"[:64]
    return {
        "target": "new_field",
        "key": key,
        "label": column.name[:120],
        "type": column.inferred if column.inferred in ("number", "boolean", "date") else "text",
        "category": "demographic",
    }


@dataclass
class Target:
    index: int
    header: str
    kind: str  # external_id | name | email | builtin | custom | kind | at
    key: str = ""
    type: str = "text"
    spec: rules.FieldSpec | None = None


@dataclass
class Plan:
    kind: str
    targets: list[Target]
    options: dict[str, Any]
    new_fields: list[dict[str, Any]] = field(default_factory=list)
    new_choices: dict[str, list[str]] = field(default_factory=dict)

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
    if not isinstance(options["null_tokens"], list) or not all(
        isinstance(t, str) for t in options["null_tokens"]
    ):
        errors.append(_("Empty-value tokens must be a list of texts."))
    catalog = catalog_for(job.workshop, translated=False)
    targets: list[Target] = []
    new_fields: list[dict[str, Any]] = []
    used: dict[str, str] = {}
    for index, header in enumerate(job.headers):
        spec_raw = mapping["columns"].get(header, {"target": "ignore"})
        target = spec_raw.get("target") if isinstance(spec_raw, dict) else None
        if target not in TARGETS:
            errors.append(_("Column “%(c)s”: unknown target.") % {"c": header})
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
        if target in ("external_id", "name", "email", "kind", "at"):
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
            targets.append(
                Target(index, header, "builtin" if spec.builtin else "custom", key, spec.type, spec)
            )
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
    if errors:
        raise ValidationError(errors)
    return Plan(job.kind, targets, options, new_fields)
