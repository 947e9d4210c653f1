"""Importing CRM exports into a workshop's leads.

SQL here is assembled from constant column names (the built-in catalog keys and
our own table names), never from user input; values always travel as parameters.

Flow: upload (stored, previewed) → mapping (which column feeds which field) → the
worker loads the file's cells untouched into a temporary table (PostgreSQL: COPY of
the file's own bytes, falling back to Python's csv reader for ragged files; SQLite and
XLSX: row by row), converts each DISTINCT value of each typed column once, checks
and converts every row in one INSERT … SELECT that keeps the reason for each bad
cell, and then ONE transaction merges the good rows into the lead table (insert new
external ids, update known ones) and creates any new custom fields. A cancelled or
failed run merges nothing. Re-importing a file changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from definitions import rules
from definitions.catalog.selectors import catalog_for
from definitions.catalog.services import custom_field_add
from definitions.core.audit import log_action
from definitions.core.ratelimits import RateLimited, rate_limit_take
from definitions.models import Workshop
from feedback import tabular
from feedback.models import ImportJob, ImportKind, ImportMapping, ImportState, Lead
from feedback.services import leads_changed

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

BUILTIN = [spec.key for spec in rules.BUILTIN_FIELDS]
BUILTIN_TYPES = {spec.key: str(spec.type) for spec in rules.BUILTIN_FIELDS}
TEXT_LIMITS: dict[str, int] = {
    f.name: f.max_length for f in Lead._meta.concrete_fields if isinstance(f.max_length, int)
}
PROGRESS_EVERY_ROWS = 5000
PROGRESS_EVERY_SECONDS = 1.0
STAGE_BATCH = 20_000
MAX_REPORTED_ERRORS = 10_000
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TARGETS = ("ignore", "external_id", "name", "email", "field", "new_field", "kind", "at")


class ImportCancelled(Exception):
    pass


def header_signature(headers: list[str]) -> str:
    return hashlib.sha256("\x1f".join(h.strip().casefold() for h in headers).encode()).hexdigest()


# ------------------------------------------------------------------ upload


@transaction.atomic
def import_upload(
    *, actor: User, workshop: Workshop, upload: File[Any], kind: str = ImportKind.LEADS
) -> tuple[ImportJob, tabular.Preview]:
    """Store the file and read its shape; ValidationError for a file we cannot use."""
    limit = settings.IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            {
                "file": _("The file is %(size)s MB; the limit is %(limit)s MB.")
                % {"size": round(upload.size / 1e6, 1), "limit": round(limit / 1e6)}
            }
        )
    if kind not in ImportKind.values:
        raise ValidationError({"kind": _("Choose leads or activities.")})
    try:
        rate_limit_take(user=actor, action="upload")
    except RateLimited as exc:
        raise ValidationError({"file": exc.messages}) from None
    job = ImportJob(
        workshop=workshop,
        created_by=actor,
        kind=kind,
        original_name=(upload.name or "upload")[:255],
        size=upload.size or 0,
        encoding="utf-8",
        delimiter=",",
    )
    job.file.save(f"{workshop.slug}-{timezone.now():%Y%m%d%H%M%S}.upload", upload, save=False)
    try:
        shape = tabular.preview(Path(job.file.path))
    except tabular.TabularError as exc:
        job.file.delete(save=False)
        raise ValidationError({"file": str(exc)}) from None
    job.encoding, job.delimiter = shape.encoding, shape.delimiter
    job.headers = [c.name for c in shape.columns]
    job.rows_estimated = shape.estimated_rows
    job.save()
    log_action(
        "feedback.import.uploaded",
        actor=actor,
        workshop=workshop,
        job=job.pk,
        file=job.original_name,
    )
    return job, shape


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


# ------------------------------------------------------------------ plan


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


# ------------------------------------------------------------------ values
#
# Values are converted per DISTINCT raw value, not per row: a column of a million
# rows holds a few dozen sources, two booleans, a few thousand company sizes. Python
# (feedback.tabular) defines what every value means; SQL applies it to the whole
# file as a set. On PostgreSQL, canonical numbers and ISO dates skip the round trip
# because a cast gives exactly what Python would (tests/feedback/test_import_sql.py
# checks that equivalence on generated values).

# Why a cell could not be imported. Codes travel through SQL; the words are added
# in Python, in the worker's language.
E_CELL, E_REQUIRED, E_ID_LONG, E_INVALID, E_TEXT_LONG, E_KIND = 1, 2, 3, 4, 5, 6
ID_LIMIT = 200
CUSTOM_TEXT_LIMIT = 500
MAX_NEW_CHOICES = 200


@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str


def _choice(spec: rules.FieldSpec | None, raw: str) -> str | None:
    if spec is None:
        return raw
    folded = raw.casefold()
    for code in spec.choices:
        if code.casefold() == folded or spec.choice_label(code).casefold() == folded:
            return code
    return None


def convert_value(t: Target, raw: str, options: dict[str, Any]) -> Any:
    """One non-empty cell of a typed column as its value, or None if it is not one."""
    if t.kind == "at" or (t.type == "date" and t.kind == "builtin"):
        return tabular.parse_date(raw, options["date_order"])
    if t.type == "date":
        moment = tabular.parse_date(raw, options["date_order"])
        return moment.date().isoformat() if moment is not None else None
    if t.type == "number":
        return tabular.parse_number(raw, options["decimal"])
    if t.type == "boolean":
        return tabular.parse_bool(raw)
    return _choice(t.spec, raw)


def _needs_lookup(t: Target) -> bool:
    return t.kind == "at" or (
        t.kind in ("builtin", "custom")
        and (t.type in ("number", "boolean", "date") or (t.type == "choice" and t.spec is not None))
    )


def _reason(t: Target, code: int) -> str:
    if code == E_CELL:
        return _("longer than 10,000 characters")
    if code == E_REQUIRED:
        return _("required")
    if code == E_ID_LONG:
        return _("longer than 200 characters")
    if code == E_KIND:
        return _("unknown activity kind")
    if code == E_TEXT_LONG:
        return _("longer than %(n)s characters") % {"n": _text_limit(t)}
    if t.kind == "at":
        return _("not a date and time")
    return {
        "number": _("not a number"),
        "boolean": _("not yes/no"),
        "date": _("not a date"),
    }.get(t.type, _("not one of the allowed values"))


def _text_limit(t: Target) -> int:
    if t.kind in ("builtin", "name", "email"):
        return TEXT_LIMITS.get(t.key or t.kind, CUSTOM_TEXT_LIMIT)
    return CUSTOM_TEXT_LIMIT


# Exactly the strings that tabular.parse_number / parse_date read the same way as a
# PostgreSQL cast: digits with an optional grouping and decimal part; ISO dates whose
# day exists in every month (29 to 31 go through Python, which knows the calendar).
_NUM_DOT = r"^[+-]?([0-9]{1,15}|[0-9]{1,3}(,[0-9]{3}){1,4})([.][0-9]{1,20})?$"
_NUM_COMMA = r"^[+-]?([0-9]{1,15}|[0-9]{1,3}([.][0-9]{3}){1,4})(,[0-9]{1,20})?$"
_ISO_DAY = r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
_ISO_TIME = r"[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?"
# PostgreSQL refuses offsets beyond ±15:59; real ones end at ±14:00.
_ISO_ZONE = r"(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])"
_ISO_NAIVE = f"^{_ISO_DAY}({_ISO_TIME})?$"
_ISO_AWARE = f"^{_ISO_DAY}{_ISO_TIME}{_ISO_ZONE}$"


class _Sql:
    """The SQL of one import run, built from column numbers, catalog keys (checked
    against KEY_RE) and constants only; user values stay in tables."""

    def __init__(self, plan: Plan, width: int) -> None:
        self.plan = plan
        self.width = width
        self.pg = connection.vendor == "postgresql"
        for t in plan.targets:
            if t.kind == "custom" and not KEY_RE.match(t.key):
                raise ValidationError(_("Column “%(c)s”: invalid field key.") % {"c": t.header})

    # -- pieces
    def trimmed(self, expr: str) -> str:
        ws = "chr" if self.pg else "char"
        chars = " || ".join(f"{ws}({n})" for n in (32, 9, 10, 13, 11, 12, 160))
        return f"nullif({'btrim' if self.pg else 'trim'}({expr}, {chars}), '')"

    def cell(self, t: Target) -> str:
        """The cell in the row query: raw for typed columns (their lookup is keyed by
        the raw text and trims once per distinct value), trimmed for the others."""
        return f"r.c{t.index}" if _needs_lookup(t) else f"r.x{t.index}"

    def missing(self, t: Target) -> str:
        """The cell is empty or one of the null tokens (typed columns: says the lookup)."""
        x = self.cell(t)
        if _needs_lookup(t):
            return f"({x} IS NULL OR l{t.index}.missing)"
        return f"({x} IS NULL OR lower({x}) IN (SELECT token FROM import_nulls))"  # noqa: S608

    def fast(self, t: Target, x: str) -> str | None:
        """A condition on the text `x` under which `cast(t, x)` is exact, or None."""
        if not self.pg:
            return None
        if t.type == "number" and t.kind in ("builtin", "custom"):
            pattern = _NUM_COMMA if self.plan.options["decimal"] == "comma" else _NUM_DOT
            return f"{x} ~ '{pattern}'"
        if t.kind == "at" or t.type == "date":
            return f"({x} ~ '{_ISO_NAIVE}' OR {x} ~ '{_ISO_AWARE}')"
        return None

    def cast(self, t: Target, x: str) -> str:
        if t.type == "number" and t.kind in ("builtin", "custom"):
            if self.plan.options["decimal"] == "comma":
                return f"replace(replace({x}, '.', ''), ',', '.')::double precision"
            return f"replace({x}, ',', '')::double precision"
        if t.kind == "custom":  # a custom date keeps the calendar day as written
            return f"left({x}, 10)"
        return (
            f"CASE WHEN {x} ~ '{_ISO_ZONE}$' THEN {x}::timestamptz"
            f" ELSE {x}::timestamp AT TIME ZONE 'UTC' END"
        )

    def lookup_column(self, t: Target) -> str:
        if t.kind == "at" or (t.type == "date" and t.kind == "builtin"):
            return "ts"
        if t.type == "number":
            return "num"
        if t.type == "boolean":
            return "flag"
        return "txt"

    def error(self, t: Target) -> str:
        x = self.cell(t)
        whens = [f"WHEN length({x}) > {tabular.MAX_CELL} THEN {E_CELL}"]
        if t.kind in ("external_id", "kind", "at"):
            code = E_REQUIRED if t.kind != "at" else E_INVALID
            whens.append(f"WHEN {self.missing(t)} THEN {code}")
        else:
            whens.append(f"WHEN {self.missing(t)} THEN NULL")
        if t.kind in ("external_id", "kind"):
            whens.append(f"WHEN length({x}) > {ID_LIMIT} THEN {E_ID_LONG}")
            if t.kind == "kind":
                whens.append(f"WHEN {x} NOT IN (SELECT kind FROM import_kinds) THEN {E_KIND}")  # noqa: S608
        elif _needs_lookup(t):
            whens.append(f"WHEN l{t.index}.ok THEN NULL ELSE {E_INVALID}")
        else:
            whens.append(f"WHEN length({x}) > {_text_limit(t)} THEN {E_TEXT_LONG}")
        return f"CASE {' '.join(whens)} END"

    def value(self, t: Target) -> str:
        x = self.cell(t)
        if t.kind in ("external_id", "kind"):
            return x
        if not _needs_lookup(t):
            return f"CASE WHEN {self.missing(t)} THEN NULL ELSE {x} END"
        return f"l{t.index}.{self.lookup_column(t)}"

    def column_type(self, slot: str) -> str:
        """The staging column type of a built-in field (or name, e-mail: text)."""
        kind = BUILTIN_TYPES.get(slot, "text")
        if kind == "date":
            return "timestamptz" if self.pg else "text"
        return {"number": "double precision", "boolean": "boolean"}.get(kind, "text")

    def null(self, slot: str) -> str:
        """An unmapped column: a NULL of the column's type (PostgreSQL types a bare
        NULL in a subquery as text)."""
        if not self.pg:
            return f"NULL AS v_{slot}"
        return f"NULL::{self.column_type(slot)} AS v_{slot}"

    def custom_json(self, customs: list[Target]) -> str:
        if not customs:
            return "'{}'::jsonb" if self.pg else "'{}'"
        if self.pg:
            pairs = ", ".join(f"'{t.key}', {self.value(t)}" for t in customs)
            return f"jsonb_build_object({pairs})"
        parts = []
        for t in customs:
            value = self.value(t)
            if t.type == "boolean":
                value = f"CASE {value} WHEN 1 THEN json('true') WHEN 0 THEN json('false') END"
            parts.append(f"'{t.key}', {value}")
        return f"json_object({', '.join(parts)})"

    # -- statements
    def raw_table(self) -> str:
        cells = ", ".join(f"c{i} text" for i in range(self.width))
        row_no = (
            "row_no bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 2)"
            if self.pg
            else "row_no integer PRIMARY KEY"
        )
        return f"CREATE TEMP TABLE import_raw ({row_no}, {cells})"

    def raw_rows(self) -> str:
        # OFFSET 0 keeps the planner from inlining the subquery, which would trim each
        # cell once per reference instead of once.
        cols = sorted(
            {f"c{t.index}" for t in self.plan.targets if _needs_lookup(t)}
            | {
                f"{self.trimmed(f'c{t.index}')} AS x{t.index}"
                for t in self.plan.targets
                if not _needs_lookup(t)
            }
        )
        xs = ", ".join(cols) or "1 AS nothing"
        fence = "OFFSET 0" if self.pg else "LIMIT -1 OFFSET 0"
        return f"(SELECT row_no, {xs} FROM import_raw {fence})"  # noqa: S608

    def distinct_values(self) -> str | None:
        """One statement listing every distinct (column, raw value) of the typed columns
        with how it converts: 'null' (empty or a null token), 'fast' (an exact SQL
        cast) or 'py' (tabular's rules). PostgreSQL reads the table once for all
        columns; the regular expressions run once per distinct value, not per row."""
        typed = [t for t in self.plan.targets if _needs_lookup(t)]
        if not typed:
            return None
        limit = tabular.MAX_CELL
        if self.pg:
            pairs = ", ".join(f"({t.index}, r.c{t.index})" for t in typed)
            source = (
                "SELECT DISTINCT v.col, v.raw FROM import_raw r"  # noqa: S608
                f" CROSS JOIN LATERAL (VALUES {pairs}) v(col, raw)"
                f" WHERE v.raw IS NOT NULL AND length(v.raw) <= {limit}"
            )
        else:
            source = " UNION ALL ".join(
                f"SELECT DISTINCT {t.index} AS col, c{t.index} AS raw FROM import_raw"  # noqa: S608
                f" WHERE c{t.index} IS NOT NULL AND length(c{t.index}) <= {limit}"
                for t in typed
            )
        value = self.trimmed("d.raw")
        fast = " ".join(
            f"WHEN d.col = {t.index} AND {check} THEN 'fast'"
            for t in typed
            if (check := self.fast(t, value))
        )
        return (
            "INSERT INTO import_distinct (col, raw, how) SELECT d.col, d.raw, CASE"  # noqa: S608
            f" WHEN {value} IS NULL OR lower({value}) IN (SELECT token FROM import_nulls)"
            f" THEN 'null' {fast} ELSE 'py' END FROM ({source}) d"
        )

    def lookup_fast(self) -> list[str]:
        statements = []
        value = self.trimmed("raw")
        for t in self.plan.targets:
            if _needs_lookup(t) and self.fast(t, value):
                statements.append(
                    f"INSERT INTO import_lookup (col, raw, missing, ok, {self.lookup_column(t)})"  # noqa: S608
                    f" SELECT col, raw, false, true, {self.cast(t, value)} FROM import_distinct"
                    f" WHERE col = {t.index} AND how = 'fast'"
                )
        return statements

    def stage_insert(self) -> str:
        plan = self.plan
        joins = " ".join(
            f"LEFT JOIN (SELECT raw, ok, missing, {self.lookup_column(t)} FROM import_lookup"  # noqa: S608
            f" WHERE col = {t.index}) l{t.index} ON l{t.index}.raw = r.c{t.index}"
            for t in plan.targets
            if _needs_lookup(t)
        )
        errors = [f"{self.error(t)} AS e{t.index}" for t in plan.targets]
        bad = " OR ".join(f"e{t.index} IS NOT NULL" for t in plan.targets) or "false"
        if plan.kind == ImportKind.ACTIVITIES:
            by_kind = {t.kind: t for t in plan.targets}
            values = [f"{self.value(by_kind[k])} AS v_{k}" for k in ("external_id", "kind", "at")]
            names = "external_id, kind, at"
            outer = "v_external_id, v_kind, v_at"
        else:
            by_slot = {t.key or t.kind: t for t in plan.targets if t.kind != "custom"}
            values = [
                f"{self.value(by_slot[s])} AS v_{s}" if s in by_slot else self.null(s)
                for s in ("external_id", "name", "email", *BUILTIN)
            ]
            values.append(
                f"{self.custom_json([t for t in plan.targets if t.kind == 'custom'])} AS v_custom"
            )
            names = ", ".join(["external_id", "name", "email", *BUILTIN, "custom"])
            outer = ", ".join(
                f"v_{s}" for s in ("external_id", "name", "email", *BUILTIN, "custom")
            )
        error_cols = ", ".join(f"e{t.index}" for t in plan.targets)
        return (
            f"INSERT INTO import_stage (row_no, bad, {error_cols}, {names})"  # noqa: S608
            f" SELECT row_no, {bad}, {error_cols}, {outer} FROM ("
            f"SELECT r.row_no, {', '.join(errors + values)} FROM {self.raw_rows()} r {joins}) q"
        )

    def stage_table(self) -> str:
        ts = "timestamptz" if self.pg else "text"
        errors = ", ".join(f"e{t.index} smallint" for t in self.plan.targets)
        if self.plan.kind == ImportKind.ACTIVITIES:
            cols = f"external_id text, kind text, at {ts}"
        else:
            builtin = ", ".join(f"{key} {self.column_type(key)}" for key in BUILTIN)
            json_type = "jsonb" if self.pg else "text"
            cols = f"external_id text, name text, email text, {builtin}, custom {json_type}"
        return f"CREATE TEMP TABLE import_stage (row_no bigint, bad boolean, {errors}, {cols})"


TEMP_TABLES = (
    "import_raw",
    "import_stage",
    "import_lookup",
    "import_distinct",
    "import_nulls",
    "import_kinds",
)


def _drop_temp(cursor: Any) -> None:
    for table in TEMP_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def _create_temp(cursor: Any, sql: _Sql, plan: Plan, known_kinds: set[str]) -> None:
    _drop_temp(cursor)
    ts = "timestamptz" if sql.pg else "text"
    cursor.execute(sql.raw_table())
    cursor.execute(sql.stage_table())
    cursor.execute(
        "CREATE TEMP TABLE import_lookup (col integer, raw text, missing boolean, ok boolean,"
        f" num double precision, ts {ts}, txt text, flag boolean)"
    )
    serial = "bigserial PRIMARY KEY" if sql.pg else "integer PRIMARY KEY AUTOINCREMENT"
    cursor.execute(
        f"CREATE TEMP TABLE import_distinct (id {serial}, col integer, raw text, how text)"
    )
    cursor.execute("CREATE TEMP TABLE import_nulls (token text PRIMARY KEY)")
    cursor.execute("CREATE TEMP TABLE import_kinds (kind text PRIMARY KEY)")
    tokens = {str(t).strip().lower() for t in plan.options["null_tokens"]} - {""}
    cursor.executemany("INSERT INTO import_nulls (token) VALUES (%s)", [(t,) for t in tokens])
    cursor.executemany("INSERT INTO import_kinds (kind) VALUES (%s)", [(k,) for k in known_kinds])


# ------------------------------------------------------------------ loading


class _CountingReader(io.RawIOBase):
    """Counts bytes as the CSV reader pulls them: progress without counting rows."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def _rows(job: ImportJob, counter: list[int]) -> Iterator[list[str]]:
    """The file's rows within the upload limits (tabular.Limits): the worker reads
    the file again, and it is the worker that reads all of it."""
    path = Path(job.file.path)
    if tabular.is_xlsx(path):
        size = max(job.size, 1)
        for i, row in enumerate(tabular.open_rows(path, job.encoding, job.delimiter)):
            counter[0] = min(size, int(size * i / max(job.rows_estimated, 1)))
            yield row
        return
    with path.open("rb") as raw:
        counting = _CountingReader(raw)
        for row in tabular.csv_rows(io.BufferedReader(counting), job.encoding, job.delimiter):
            counter[0] = counting.count
            yield row


PG_ENCODINGS = {"utf-8": "UTF8", "utf-8-sig": "UTF8", "cp1252": "WIN1252", "latin-1": "LATIN1"}
PG_DELIMITERS = {",": "','", ";": "';'", "\t": "E'\\t'", "|": "'|'"}
COPY_CHUNK = 4 * 1024 * 1024
_END_MARKER = re.compile(rb"(^|\n)\\\.\r?(\n|$)")


def _record_end(buffer: bytes) -> int:
    """Index just past the last line break in `buffer` that ends a CSV record (an even
    number of quote characters before it), or 0. The buffer starts at a record."""
    end = len(buffer)
    while (nl := buffer.rfind(b"\n", 0, end)) >= 0:
        if buffer.count(b'"', 0, nl) % 2 == 0:
            return nl + 1
        end = nl
    return 0


class _DirectCopyRefused(Exception):
    """PostgreSQL will not read this file as it stands (ragged or blank rows, bytes
    invalid in its encoding): it is read row by row in Python instead."""


def _load_direct(cursor: Any, job: ImportJob, width: int, beat: Callable[[int, int], None]) -> int:
    """Stream the file's bytes into import_raw with COPY … (FORMAT csv), in chunks cut
    at record ends so progress is written between them. Rows loaded."""
    encoding = PG_ENCODINGS.get(job.encoding.lower())
    delimiter = PG_DELIMITERS.get(job.delimiter)
    if encoding is None or delimiter is None:
        raise _DirectCopyRefused
    names = ", ".join(f"c{i}" for i in range(width))
    statement = (
        f"COPY import_raw ({names}) FROM STDIN"
        f" (FORMAT csv, DELIMITER {delimiter}, ENCODING '{encoding}')"
    )
    import psycopg

    limits = tabular.current_limits()
    rows = 0
    done = 0
    with open(job.file.path, "rb") as handle:
        buffer = b""
        header_skipped = False
        while True:
            data = handle.read(COPY_CHUNK)
            buffer += data
            cut = _record_end(buffer) if data else len(buffer)
            if not header_skipped:
                first = _record_end(buffer[: buffer.find(b"\n") + 1]) if b"\n" in buffer else 0
                if not first and data:
                    continue  # the header is not complete yet
                done += first or len(buffer)
                buffer = buffer[first:] if first else b""
                header_skipped = True
                cut = _record_end(buffer) if data else len(buffer)
            if cut == 0 and data:
                if len(buffer) > limits.row_chars * 4:  # UTF-8: 4 bytes a character at most
                    raise _DirectCopyRefused  # the row-by-row reader names the limit
                continue  # one record longer than a chunk: read on
            chunk, buffer = buffer[:cut], buffer[cut:]
            if chunk.strip(b"\r\n"):
                if _END_MARKER.search(chunk) or b"\x00" in chunk:
                    raise _DirectCopyRefused
                if max(map(len, chunk.split(b"\n"))) > limits.cell_chars:
                    # Perhaps a cell over the limit: the row-by-row reader decides.
                    raise _DirectCopyRefused
                try:
                    with transaction.atomic(), cursor.cursor.copy(statement) as copy:
                        copy.write(chunk)
                except psycopg.DataError:
                    raise _DirectCopyRefused from None
                rows += cursor.cursor.rowcount
                if rows > limits.rows:
                    raise tabular.too_many_rows(limits)
            done += len(chunk)
            beat(rows, done)
            if not data:
                return rows


def _load_rows(cursor: Any, job: ImportJob, width: int, beat: Callable[[int, int], None]) -> int:
    """Read the file with Python's csv module (or openpyxl) and load its cells:
    tolerant of ragged rows and blank lines, and used for XLSX and SQLite."""
    counter = [0]
    names = ", ".join(["row_no", *(f"c{i}" for i in range(width))])
    pg = connection.vendor == "postgresql"
    batch: list[tuple[Any, ...]] = []
    rows = 0

    def flush() -> None:
        if not batch:
            return
        if pg:
            with cursor.cursor.copy(f"COPY import_raw ({names}) FROM STDIN") as copy:
                for values in batch:
                    copy.write_row(values)
        else:
            marks = ", ".join(["%s"] * (width + 1))
            cursor.executemany(f"INSERT INTO import_raw ({names}) VALUES ({marks})", batch)  # noqa: S608
        batch.clear()

    source = _rows(job, counter)
    next(source, None)  # the header
    for row_no, row in enumerate(source, start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not rows
        # PostgreSQL text cannot hold NUL; no CRM means one.
        cells = [cell.replace("\x00", "") for cell in row[:width]]
        cells += [""] * (width - len(cells))
        batch.append((row_no, *cells))
        rows += 1
        if len(batch) >= STAGE_BATCH:
            flush()
            beat(rows, counter[0])
    flush()
    beat(rows, counter[0])
    return rows


# ------------------------------------------------------------------ running


def import_run(
    job_id: int, on_progress: Callable[[int, int, int], None] | None = None
) -> ImportJob:
    """The worker's whole job. Safe to call again for a job that did not finish:
    nothing is merged until the end, so a rerun starts from a clean slate.

    1. load the file's cells, untouched, into a temporary table (PostgreSQL: COPY of
       the file's own bytes; otherwise row by row);
    2. convert each distinct value of each typed column once, in Python;
    3. check and convert every row in one INSERT … SELECT, keeping the reason per cell;
    4. merge the good rows into the lead table in one transaction.
    """
    job = ImportJob.objects.select_related("workshop").get(pk=job_id)
    if job.state not in (ImportState.QUEUED, ImportState.RUNNING):
        return job
    if not _claim(job.pk):
        return job  # a redelivered copy of the task: another process is running this job
    try:
        return _run_claimed(job, on_progress)
    finally:
        _release(job.pk)


def _run_claimed(job: ImportJob, on_progress: Callable[[int, int, int], None] | None) -> ImportJob:
    plan = compile_plan(job, job.mapping)
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.RUNNING,
        started_at=timezone.now(),
        rows_done=0,
        bytes_done=0,
        errors=0,
        imported=0,
        updated=0,
        message="",
        heartbeat_at=timezone.now(),
    )
    catalog = catalog_for(job.workshop, translated=False)
    sql = _Sql(plan, len(job.headers))
    last_beat = [time.monotonic()]

    def beat(rows: int, bytes_done: int) -> None:
        if time.monotonic() - last_beat[0] < PROGRESS_EVERY_SECONDS:
            return
        last_beat[0] = time.monotonic()
        _progress(job, rows, bytes_done, 0)
        if on_progress is not None:
            on_progress(rows, bytes_done, 0)

    phase = _Phases(job.pk)
    with connection.cursor() as cursor:
        try:
            _create_temp(cursor, sql, plan, set(catalog.activity_kinds))
            if sql.pg:
                # Sorts and hashes over a million rows; the default 4 MB spills to disk.
                cursor.execute("SET work_mem = '64MB'")
            rows_done = 0
            if sql.pg and not tabular.is_xlsx(Path(job.file.path)):
                try:
                    rows_done = _load_direct(cursor, job, sql.width, beat)
                except _DirectCopyRefused:
                    cursor.execute("TRUNCATE import_raw")
            if not rows_done:
                rows_done = _load_rows(cursor, job, sql.width, beat)
            phase("load")
            _progress(job, rows_done, job.size, 0)
            if on_progress is not None:
                on_progress(rows_done, job.size, 0)
            if sql.pg:  # temporary tables get no statistics unless asked
                cursor.execute("ANALYZE import_raw")
            _fill_lookup(cursor, sql, plan)
            if sql.pg:
                cursor.execute("ANALYZE import_lookup")
            phase("lookup")
            cursor.execute(sql.stage_insert())
            phase("convert")
            error_count, report = _error_report(cursor, plan)
            if error_count and plan.options.get("all_or_nothing"):
                return _finish(
                    job,
                    ImportState.FAILED,
                    _(
                        "%(n)s rows have errors and “all or nothing” was chosen: "
                        "nothing was imported."
                    )
                    % {"n": error_count},
                    rows_done,
                    error_count,
                    report,
                )
            if _cancel_requested(job):
                raise ImportCancelled
            new_choices = _new_choices(cursor, sql, plan)
            with transaction.atomic():
                imported, updated, unknown = _merge(cursor, job, plan, new_choices)
            if sql.pg and imported > ANALYZE_AFTER:
                # Fresh statistics at once, not whenever autovacuum comes by: without
                # them the lead list plans a million new rows as if they were none.
                cursor.execute("ANALYZE feedback_lead")
            phase("merge")
        except tabular.TabularError as exc:
            return _finish(job, ImportState.FAILED, str(exc), 0, 0, [])
        except ValidationError as exc:
            return _finish(job, ImportState.FAILED, " ".join(exc.messages), 0, 0, [])
        except ImportCancelled:
            return _finish(
                job, ImportState.CANCELLED, _("Cancelled: nothing was imported."), 0, 0, []
            )
        finally:
            _drop_temp(cursor)
            if sql.pg:
                cursor.execute("RESET work_mem")
    for row_no, external_id in unknown:
        error_count += 1
        if len(report) < MAX_REPORTED_ERRORS:
            report.append(
                RowError(row_no, _("lead"), external_id, _("no lead with this external id"))
            )
    report.sort(key=lambda e: e.row)
    job.imported, job.updated = imported, updated
    ImportJob.objects.filter(pk=job.pk).update(imported=imported, updated=updated)
    return _finish(job, ImportState.DONE, "", rows_done, error_count, report)


LOOKUP_BATCH = 20_000
ANALYZE_AFTER = 10_000


class _Phases:
    """Logs how long each step of a run took: where an operator looks first when an
    import is slow."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        logger.info("import %s: %s took %.2f s", self.job_id, name, now - self.last)
        self.last = now


def _fill_lookup(cursor: Any, sql: _Sql, plan: Plan) -> None:
    """Convert each distinct value of each typed column once: null tokens and canonical
    values in SQL, the rest in Python a batch at a time, so a column of a million
    distinct dates never sits in memory."""
    distinct = sql.distinct_values()
    if distinct is None:
        return
    cursor.execute(distinct)
    cursor.execute(
        "INSERT INTO import_lookup (col, raw, missing, ok)"
        " SELECT col, raw, true, false FROM import_distinct WHERE how = 'null'"
    )
    for statement in sql.lookup_fast():
        cursor.execute(statement)
    by_index = {t.index: t for t in plan.targets}
    last = 0
    while True:
        cursor.execute(
            "SELECT id, col, raw FROM import_distinct WHERE how = 'py' AND id > %s"
            " ORDER BY id LIMIT %s",
            [last, LOOKUP_BATCH],
        )
        batch = cursor.fetchall()
        if not batch:
            break
        last = batch[-1][0]
        rows = []
        for _id, col, raw in batch:
            t = by_index[col]
            value = convert_value(t, raw.strip(), plan.options)
            slot = sql.lookup_column(t)
            if slot == "ts" and value is not None:
                # In UTC: PostgreSQL refuses the odd offsets Python accepts (+23:59).
                value = value.astimezone(UTC)
                if not sql.pg:
                    value = connection.ops.adapt_datetimefield_value(value)
            rows.append(
                (
                    col,
                    raw,
                    False,
                    value is not None,
                    value if slot == "num" else None,
                    value if slot == "ts" else None,
                    value if slot == "txt" else None,
                    value if slot == "flag" else None,
                )
            )
        names = "col, raw, missing, ok, num, ts, txt, flag"
        if sql.pg:
            with cursor.cursor.copy(f"COPY import_lookup ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO import_lookup ({names}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                rows,
            )
    cursor.execute("CREATE INDEX import_lookup_key ON import_lookup (col, raw)")


def _error_report(cursor: Any, plan: Plan) -> tuple[int, list[RowError]]:
    """How many rows have errors, and the first MAX_REPORTED_ERRORS cells why."""
    cursor.execute("SELECT count(*) FROM import_stage WHERE bad")
    count = int(cursor.fetchone()[0])
    if not count:
        return 0, []
    report: list[RowError] = []
    cursor.execute(
        f"SELECT s.row_no, {', '.join(f's.e{t.index}' for t in plan.targets)},"  # noqa: S608
        f" {', '.join(f'r.c{t.index}' for t in plan.targets)}"
        " FROM import_stage s JOIN import_raw r ON r.row_no = s.row_no"
        f" WHERE s.bad ORDER BY s.row_no LIMIT {MAX_REPORTED_ERRORS}"
    )
    n = len(plan.targets)
    for row in cursor.fetchall():
        for k, t in enumerate(plan.targets):
            code = row[1 + k]
            if code is not None and len(report) < MAX_REPORTED_ERRORS:
                raw = (row[1 + n + k] or "").strip()
                report.append(RowError(int(row[0]), t.header, raw[:200], _reason(t, int(code))))
    return count, report


def _new_choices(cursor: Any, sql: _Sql, plan: Plan) -> dict[str, list[str]]:
    """A new choice field allows the values its column holds, in order of appearance."""
    found: dict[str, list[str]] = {}
    for t in plan.targets:
        if t.kind != "custom" or t.spec is not None or t.type != "choice":
            continue
        cursor.execute(
            f"SELECT r.x{t.index} FROM {sql.raw_rows()} r"  # noqa: S608
            f" JOIN import_stage s ON s.row_no = r.row_no AND NOT s.bad"
            f" WHERE NOT {sql.missing(t)}"
            f" GROUP BY r.x{t.index} ORDER BY min(r.row_no) LIMIT {MAX_NEW_CHOICES + 1}"
        )
        found[t.key] = [str(v) for (v,) in cursor.fetchall()]
        if len(found[t.key]) > MAX_NEW_CHOICES:
            raise ValidationError(
                _(
                    "Column “%(c)s” has more than %(n)s different values: import it as "
                    "a text field instead of a choice."
                )
                % {"c": t.header, "n": MAX_NEW_CHOICES}
            )
    return found


def _cancel_requested(job: ImportJob) -> bool:
    return ImportJob.objects.filter(pk=job.pk, state=ImportState.CANCELLING).exists()


def _progress(job: ImportJob, rows: int, bytes_done: int, errors: int) -> None:
    if _cancel_requested(job):
        raise ImportCancelled
    ImportJob.objects.filter(pk=job.pk).update(
        rows_done=rows, bytes_done=bytes_done, errors=errors, heartbeat_at=timezone.now()
    )


def _finish(
    job: ImportJob, state: str, message: str, rows: int, errors: int, report: list[RowError]
) -> ImportJob:
    csv_text = (
        tabular.write_csv(
            iter(
                [
                    [_("row"), _("column"), _("value"), _("reason")],
                    *([e.row, e.column, e.value, e.reason] for e in report),
                ]
            )
        )
        if report
        else ""
    )
    ImportJob.objects.filter(pk=job.pk).update(
        state=state,
        message=message,
        rows_done=rows,
        bytes_done=job.size,
        errors=errors,
        error_report=csv_text,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    if state == ImportState.DONE and (job.imported or job.updated):
        leads_changed(workshop_id=job.workshop_id)
    log_action(
        f"feedback.import.{state}",
        actor=job.created_by,
        workshop=job.workshop,
        job=job.pk,
        file=job.original_name,
        imported=job.imported,
        updated=job.updated,
        errors=errors,
    )
    return job


def _merge(
    cursor: Any, job: ImportJob, plan: Plan, new_choices: dict[str, list[str]]
) -> tuple[int, int, list[tuple[int, str]]]:
    """The good staged rows → leads in one statement: (inserted, updated, unknown).
    The last row of an external id that appears twice wins."""
    pg = connection.vendor == "postgresql"
    now = timezone.now()
    if plan.kind == ImportKind.ACTIVITIES:
        cursor.execute(
            "SELECT s.row_no, s.external_id FROM import_stage s WHERE NOT s.bad AND NOT EXISTS ("
            " SELECT 1 FROM feedback_lead l"
            " WHERE l.workshop_id = %s AND l.external_id = s.external_id)"
            " ORDER BY s.row_no",
            [job.workshop_id],
        )
        unknown = [(int(r), str(e)) for r, e in cursor.fetchall()]
        cursor.execute(
            "INSERT INTO feedback_leadactivity (lead_id, kind, at)"
            " SELECT DISTINCT l.id, s.kind, s.at FROM import_stage s"
            " JOIN feedback_lead l ON l.workshop_id = %s AND l.external_id = s.external_id"
            " WHERE NOT s.bad ON CONFLICT (lead_id, kind, at) DO NOTHING",
            [job.workshop_id],
        )
        return cursor.rowcount, 0, unknown
    for new in plan.new_fields:
        custom_field_add(
            actor=job.created_by,  # type: ignore[arg-type]
            workshop=job.workshop,
            key=new["key"],
            label=new["label"],
            type=new["type"],
            category=new["category"],
            choices=new_choices.get(new["key"], []),
        )
    latest = (
        "(SELECT DISTINCT ON (external_id) * FROM import_stage WHERE NOT bad"
        " ORDER BY external_id, row_no DESC)"
        if pg
        else "(SELECT * FROM import_stage WHERE row_no IN"
        " (SELECT max(row_no) FROM import_stage WHERE NOT bad GROUP BY external_id))"
    )
    mapped = plan.mapped_builtins
    has = {t.kind for t in plan.targets}
    custom_keys = [t.key for t in plan.targets if t.kind == "custom"]

    def pick(col: str) -> str:
        return f"excluded.{col}" if col in mapped or col in has else f"feedback_lead.{col}"

    lower = "lower" if pg else "py_lower"
    search = (
        f"{lower}(trim(coalesce({pick('name')}, '') || ' ' || coalesce({pick('email')}, '')"
        f" || ' ' || coalesce({pick('company')}, '')))"
    )
    sets = [f"{col} = excluded.{col}" for col in mapped]
    sets += [f"{col} = excluded.{col}" for col in ("name", "email") if col in has]
    # A mapped custom field whose cell is empty is unset, like a built-in column.
    if pg:
        drop = "".join(f" - '{key}'" for key in custom_keys)
        merged = f"(feedback_lead.custom{drop}) || excluded.custom"
        fresh = "jsonb_strip_nulls(custom)"
    else:
        paths = "".join(f", '$.{key}'" for key in custom_keys)
        merged = (
            f"json_patch(json_remove(feedback_lead.custom{paths}), excluded.custom)"
            if custom_keys
            else "feedback_lead.custom"
        )
        fresh = "json_patch('{}', custom)"
    sets += [f"custom = {merged}", f"search_text = {search}", "updated_at = %s"]
    cols = ", ".join(BUILTIN)
    insert = (
        "INSERT INTO feedback_lead (workshop_id, external_id, name, email, search_text,"  # noqa: S608
        f" {cols}, custom, imported_at, updated_at)"
        " SELECT %s, external_id, coalesce(name, ''), coalesce(email, ''),"
        f" {lower}(trim(coalesce(name, '') || ' ' || coalesce(email, '')"
        " || ' ' || coalesce(company, ''))),"
        f" {cols}, {fresh}, %s, %s FROM {latest} s WHERE true"
        f" ON CONFLICT (workshop_id, external_id) DO UPDATE SET {', '.join(sets)}"
    )
    params = [job.workshop_id, now, now, now]
    if pg:
        # xmax is 0 only on a freshly inserted row: inserted and updated in one pass.
        cursor.execute(
            f"WITH merged AS ({insert} RETURNING xmax = 0 AS inserted)"  # noqa: S608
            " SELECT count(*) FILTER (WHERE inserted), count(*) FROM merged",
            params,
        )
        inserted, total = cursor.fetchone()
        return int(inserted), int(total) - int(inserted), []
    cursor.execute(
        f"SELECT count(*) FROM {latest} s JOIN feedback_lead l"  # noqa: S608
        " ON l.workshop_id = %s AND l.external_id = s.external_id",
        [job.workshop_id],
    )
    updated = int(cursor.fetchone()[0])
    connection.connection.create_function("py_lower", 1, lambda s: s.lower() if s else s)
    cursor.execute(insert, params)
    return cursor.rowcount - updated, updated, []


# ------------------------------------------------------------------ one runner, dead runners

# PostgreSQL advisory locks (IMPORT_LOCK, job id): a running import holds its job's lock
# for as long as its database connection lives, so a worker that was killed lets go of
# it at once, and a second copy of the task cannot run the same job.
IMPORT_LOCK = 0x1E4D


def _claim(job_id: int) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: the embedded setup has one worker
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [IMPORT_LOCK, job_id])
        return bool(cursor.fetchone()[0])


def _release(job_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [IMPORT_LOCK, job_id])


def imports_recover() -> int:
    """Settle the imports whose worker died (killed, restarted, machine lost). The merge
    is one transaction, so nothing of theirs was imported; they fail and can be run
    again. On PostgreSQL a job shown running whose lock nobody holds has no worker;
    elsewhere, one without progress for IMPORT_TIMEOUT_SECONDS. Returns how many."""
    active = ImportJob.objects.filter(
        state__in=[ImportState.RUNNING, ImportState.CANCELLING], started_at__isnull=False
    )
    if connection.vendor != "postgresql":
        limit = timezone.now() - timedelta(seconds=settings.IMPORT_TIMEOUT_SECONDS)
        active = active.filter(heartbeat_at__lt=limit)
    settled = 0
    for job_id in active.values_list("pk", flat=True):
        if not _claim(job_id):
            continue  # its worker is alive and holds it
        try:
            settled += ImportJob.objects.filter(pk=job_id, state=ImportState.RUNNING).update(
                state=ImportState.FAILED,
                finished_at=timezone.now(),
                message=_(
                    "The worker stopped during this import (it was restarted or killed). "
                    "Nothing was imported; run it again."
                ),
            )
            settled += ImportJob.objects.filter(pk=job_id, state=ImportState.CANCELLING).update(
                state=ImportState.CANCELLED,
                finished_at=timezone.now(),
                message=_("Cancelled: nothing was imported."),
            )
        finally:
            _release(job_id)
    return settled


# ------------------------------------------------------------------ start / cancel


@transaction.atomic
def import_start(
    *, actor: User, job: ImportJob, mapping: dict[str, Any], enqueue: bool = True
) -> ImportJob:
    """Queue the import for the worker (or, with enqueue=False, leave it to the
    caller to run import_run in-process, as the command line does)."""
    if job.state != ImportState.UPLOADED:
        raise ValidationError(_("This import has already started."))
    compile_plan(job, mapping)  # refuse a broken mapping before queueing
    ImportMapping.objects.update_or_create(
        workshop=job.workshop,
        signature=header_signature(job.headers),
        defaults={"mapping": mapping},
    )
    job.mapping = mapping
    job.state = ImportState.QUEUED
    job.save(update_fields=["mapping", "state"])
    log_action(
        "feedback.import.started",
        actor=actor,
        workshop=job.workshop,
        job=job.pk,
        file=job.original_name,
    )
    if enqueue:
        from feedback.tasks import run_import

        transaction.on_commit(lambda: _enqueue(run_import, job.pk))
    return job


def _enqueue(task: Any, job_id: int) -> None:
    try:
        task.delay(job_id)
    except Exception as exc:  # the broker is down: say so on the job, not with a 500
        ImportJob.objects.filter(pk=job_id, state=ImportState.QUEUED).update(
            state=ImportState.FAILED,
            message=_("The background worker cannot be reached (%(error)s). Try again in a moment.")
            % {"error": type(exc).__name__},
        )


@transaction.atomic
def import_cancel(*, actor: User, job: ImportJob) -> ImportJob:
    updated = ImportJob.objects.filter(
        pk=job.pk, state__in=[ImportState.QUEUED, ImportState.RUNNING]
    ).update(state=ImportState.CANCELLING)
    if not updated:
        raise ValidationError(_("Only a waiting or running import can be cancelled."))
    # A queued job no worker has picked up yet is cancelled at once.
    ImportJob.objects.filter(pk=job.pk, started_at__isnull=True).update(
        state=ImportState.CANCELLED,
        finished_at=timezone.now(),
        message=_("Cancelled: nothing was imported."),
    )
    log_action("feedback.import.cancel_requested", actor=actor, workshop=job.workshop, job=job.pk)
    job.refresh_from_db()
    return job


def import_retry(*, actor: User, job: ImportJob) -> ImportJob:
    if job.state not in (ImportState.FAILED, ImportState.CANCELLED):
        raise ValidationError(_("Only a failed or cancelled import can be run again."))
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportState.UPLOADED, started_at=None, finished_at=None
    )
    job.refresh_from_db()
    return import_start(actor=actor, job=job, mapping=job.mapping)
