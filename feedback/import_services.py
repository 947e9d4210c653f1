"""Importing CRM exports into a workshop's leads.

SQL here is assembled from constant column names (the built-in catalog keys and
our own table names), never from user input; values always travel as parameters.

Flow: upload (stored, previewed) → mapping (which column feeds which field) → the
worker streams the file once: every row is converted and checked; good rows go to a
temporary staging table (PostgreSQL: COPY; SQLite: batched inserts) and bad ones to
the error report; then ONE transaction merges staging into the lead table (insert new
external ids, update known ones) and creates any new custom fields. A cancelled or
failed run merges nothing. Re-importing a file changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from definitions import rules
from definitions.audit import log_action
from definitions.catalog import catalog_for
from definitions.models import Workshop
from definitions.services import custom_field_add
from feedback import tabular
from feedback.models import ImportJob, ImportKind, ImportMapping, ImportState, Lead

if TYPE_CHECKING:
    from django.contrib.auth.models import User

BUILTIN = [spec.key for spec in rules.BUILTIN_FIELDS]
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
        return saved.mapping
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
            slot = key
            new_fields.append(
                {
                    "key": key,
                    "label": str(spec_raw.get("label") or header)[:120],
                    "type": ftype,
                    "category": str(spec_raw.get("category") or "demographic"),
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


# ------------------------------------------------------------------ conversion


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


def convert(plan: Plan, row: list[str], row_no: int) -> tuple[dict[str, Any], list[RowError]]:
    """One CSV row as typed values (keys: external_id, name, email, builtin keys,
    custom.<key>, kind, at), or the reasons it cannot be imported."""
    nulls = {t.casefold() for t in plan.options["null_tokens"]}
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for t in plan.targets:
        raw = row[t.index].strip() if t.index < len(row) else ""
        if len(raw) > tabular.MAX_CELL:
            errors.append(RowError(row_no, t.header, raw[:50], _("longer than 10,000 characters")))
            continue
        missing = raw.casefold() in nulls
        name = f"custom.{t.key}" if t.kind == "custom" else (t.key or t.kind)
        if t.kind in ("external_id", "kind"):
            if missing:
                errors.append(RowError(row_no, t.header, raw, _("required")))
            elif len(raw) > 200:
                errors.append(RowError(row_no, t.header, raw[:50], _("longer than 200 characters")))
            else:
                values[t.kind] = raw
            continue
        if t.kind == "at":
            moment = None if missing else tabular.parse_date(raw, plan.options["date_order"])
            if moment is None:
                errors.append(RowError(row_no, t.header, raw, _("not a date and time")))
            else:
                values["at"] = moment
            continue
        if missing:
            values[name] = None
            continue
        value: Any
        if t.type == "number":
            value = tabular.parse_number(raw, plan.options["decimal"])
            reason = _("not a number")
        elif t.type == "boolean":
            value = tabular.parse_bool(raw)
            reason = _("not yes/no")
        elif t.type == "date":
            moment = tabular.parse_date(raw, plan.options["date_order"])
            value = moment if t.kind == "builtin" or moment is None else moment.date().isoformat()
            reason = _("not a date")
        elif t.type == "choice" and t.spec is not None:
            value = _choice(t.spec, raw)
            reason = _("not one of the allowed values")
        else:
            value = raw
            reason = ""
            limit = TEXT_LIMITS.get(t.key) if t.kind in ("builtin", "name", "email") else 500
            if limit and len(raw) > limit:
                value = None
                reason = _("longer than %(n)s characters") % {"n": limit}
        if value is None:
            errors.append(RowError(row_no, t.header, raw[:200], reason))
        else:
            values[name] = value
            if t.type == "choice" and t.spec is None:
                choices = plan.new_choices.setdefault(t.key, [])
                if value not in choices:
                    choices.append(value)
    return values, errors


# ------------------------------------------------------------------ running


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
    path = Path(job.file.path)
    if tabular.is_xlsx(path):
        size = max(job.size, 1)
        for i, row in enumerate(tabular.open_rows(path, job.encoding, job.delimiter)):
            counter[0] = min(size, int(size * i / max(job.rows_estimated, 1)))
            yield row
        return
    import csv

    with path.open("rb") as raw:
        counting = _CountingReader(raw)
        text = io.TextIOWrapper(io.BufferedReader(counting), encoding=job.encoding, newline="")
        reader = csv.reader(text, delimiter=job.delimiter)
        try:
            for row in reader:
                counter[0] = counting.count
                yield row
        except csv.Error as exc:
            raise tabular.TabularError(
                _("Line %(line)s cannot be read: %(error)s")
                % {"line": reader.line_num, "error": exc}
            ) from None
        except UnicodeDecodeError:
            raise tabular.TabularError(
                _("The file is not valid %(encoding)s text near line %(line)s.")
                % {"encoding": job.encoding, "line": reader.line_num}
            ) from None


STAGE_COLUMNS = ["row_no", "external_id", "name", "email", *BUILTIN, "custom"]


def _create_stage(cursor: Any, kind: str) -> None:
    vendor = connection.vendor
    json_type = "jsonb" if vendor == "postgresql" else "text"
    ts = "timestamptz" if vendor == "postgresql" else "text"
    if kind == ImportKind.ACTIVITIES:
        cursor.execute("DROP TABLE IF EXISTS import_stage")
        cursor.execute(
            f"CREATE TEMP TABLE import_stage (row_no integer, external_id text, kind text, at {ts})"
        )
        return
    types = {spec.key: spec.type for spec in rules.BUILTIN_FIELDS}
    sql_type = {
        "text": "text",
        "choice": "text",
        "number": "double precision",
        "boolean": "boolean",
        "date": ts,
    }
    cols = ", ".join(f"{key} {sql_type[types[key]]}" for key in BUILTIN)
    cursor.execute("DROP TABLE IF EXISTS import_stage")
    cursor.execute(
        "CREATE TEMP TABLE import_stage (row_no integer, external_id text, name text, "
        f"email text, {cols}, custom {json_type})"
    )


class _StageWriter:
    """Streams clean rows into the staging table in chunks: COPY on PostgreSQL,
    executemany on SQLite. Chunks, not one long COPY, because nothing else may run on
    the connection while a COPY is open, and progress is written between chunks."""

    def __init__(self, cursor: Any, kind: str) -> None:
        self.cursor = cursor
        self.columns = (
            ["row_no", "external_id", "kind", "at"]
            if kind == ImportKind.ACTIVITIES
            else STAGE_COLUMNS
        )
        self.batch: list[tuple[Any, ...]] = []
        self.pg = connection.vendor == "postgresql"

    def write(self, values: tuple[Any, ...]) -> None:
        self.batch.append(values)
        if len(self.batch) >= STAGE_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        names = ", ".join(self.columns)
        if self.pg:
            with self.cursor.cursor.copy(f"COPY import_stage ({names}) FROM STDIN") as copy:
                for values in self.batch:
                    copy.write_row(values)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            rows = [
                tuple(adapt(v) if isinstance(v, datetime) else v for v in values)
                for values in self.batch
            ]
            marks = ", ".join(["%s"] * len(self.columns))
            self.cursor.executemany(
                f"INSERT INTO import_stage ({names}) VALUES ({marks})",  # noqa: S608
                rows,
            )
        self.batch.clear()


def _stage_values(plan: Plan, values: dict[str, Any], row_no: int) -> tuple[Any, ...]:
    if plan.kind == ImportKind.ACTIVITIES:
        return (row_no, values["external_id"], values["kind"], values["at"])
    custom = {k[7:]: v for k, v in values.items() if k.startswith("custom.") and v is not None}
    return (
        row_no,
        values["external_id"],
        values.get("name") or "",
        values.get("email") or "",
        *(values.get(key) for key in BUILTIN),
        json.dumps(custom, default=str),
    )


def import_run(
    job_id: int, on_progress: Callable[[int, int, int], None] | None = None
) -> ImportJob:
    """The worker's whole job. Safe to call again for a job that did not finish:
    nothing is merged until the end, so a rerun starts from a clean slate."""
    job = ImportJob.objects.select_related("workshop").get(pk=job_id)
    if job.state not in (ImportState.QUEUED, ImportState.RUNNING):
        return job
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
    known_kinds = set(catalog.activity_kinds)
    report: list[RowError] = []
    error_count = 0
    rows_done = 0
    counter = [0]
    last_beat = time.monotonic()
    ok = False
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            connection.connection.create_function("py_lower", 1, lambda s: s.lower() if s else s)
        _create_stage(cursor, plan.kind)
        writer = _StageWriter(cursor, plan.kind)
        try:
            rows = _rows(job, counter)
            next(rows, None)  # the header
            for row_no, row in enumerate(rows, start=2):
                if not any(cell.strip() for cell in row):
                    continue  # blank lines are not rows
                values, errors = convert(plan, row, row_no)
                if (
                    not errors
                    and plan.kind == ImportKind.ACTIVITIES
                    and values["kind"] not in known_kinds
                ):
                    errors = [
                        RowError(row_no, _("kind"), values["kind"], _("unknown activity kind"))
                    ]
                rows_done += 1
                if errors:
                    error_count += 1
                    if len(report) < MAX_REPORTED_ERRORS:
                        report.extend(errors)
                else:
                    writer.write(_stage_values(plan, values, row_no))
                if (
                    rows_done % PROGRESS_EVERY_ROWS == 0
                    or time.monotonic() - last_beat > PROGRESS_EVERY_SECONDS
                ):
                    last_beat = time.monotonic()
                    _progress(job, rows_done, counter[0], error_count)
                    if on_progress is not None:
                        on_progress(rows_done, counter[0], error_count)
            writer.flush()
            ok = True
        except tabular.TabularError as exc:
            return _finish(job, ImportState.FAILED, str(exc), rows_done, error_count, report)
        except ImportCancelled:
            return _finish(
                job,
                ImportState.CANCELLED,
                _("Cancelled: nothing was imported."),
                rows_done,
                error_count,
                report,
            )
        finally:
            if not ok:
                cursor.execute("DROP TABLE IF EXISTS import_stage")
        if error_count and plan.options.get("all_or_nothing"):
            cursor.execute("DROP TABLE IF EXISTS import_stage")
            return _finish(
                job,
                ImportState.FAILED,
                _("%(n)s rows have errors and “all or nothing” was chosen: nothing was imported.")
                % {"n": error_count},
                rows_done,
                error_count,
                report,
            )
        if _cancel_requested(job):
            cursor.execute("DROP TABLE IF EXISTS import_stage")
            return _finish(
                job,
                ImportState.CANCELLED,
                _("Cancelled: nothing was imported."),
                rows_done,
                error_count,
                report,
            )
        with transaction.atomic():
            imported, updated, unknown = _merge(cursor, job, plan)
        cursor.execute("DROP TABLE IF EXISTS import_stage")
    for row_no, external_id in unknown:
        error_count += 1
        if len(report) < MAX_REPORTED_ERRORS:
            report.append(
                RowError(row_no, _("lead"), external_id, _("no lead with this external id"))
            )
    job.imported, job.updated = imported, updated
    ImportJob.objects.filter(pk=job.pk).update(imported=imported, updated=updated)
    return _finish(job, ImportState.DONE, "", rows_done, error_count, report)


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


def _merge(cursor: Any, job: ImportJob, plan: Plan) -> tuple[int, int, list[tuple[int, str]]]:
    """Staging → leads in one statement (plus a count): (inserted, updated, unknown)."""
    pg = connection.vendor == "postgresql"
    now = timezone.now()
    if plan.kind == ImportKind.ACTIVITIES:
        cursor.execute(
            "SELECT s.row_no, s.external_id FROM import_stage s WHERE NOT EXISTS ("
            " SELECT 1 FROM feedback_lead l"
            " WHERE l.workshop_id = %s AND l.external_id = s.external_id)"
            " ORDER BY s.row_no",
            [job.workshop_id],
        )
        unknown = [(int(r), str(e)) for r, e in cursor.fetchall()]
        cursor.execute(
            "INSERT INTO feedback_leadactivity (lead_id, kind, at)"
            " SELECT l.id, s.kind, s.at FROM import_stage s"
            " JOIN feedback_lead l ON l.workshop_id = %s AND l.external_id = s.external_id"
            " WHERE true ON CONFLICT (lead_id, kind, at) DO NOTHING",
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
            choices=plan.new_choices.get(new["key"], []),
        )
    latest = (
        "(SELECT DISTINCT ON (external_id) * FROM import_stage ORDER BY external_id, row_no DESC)"
        if pg
        else "(SELECT * FROM import_stage WHERE row_no IN"
        " (SELECT max(row_no) FROM import_stage GROUP BY external_id))"
    )
    cursor.execute(
        f"SELECT count(*) FROM {latest} s JOIN feedback_lead l"  # noqa: S608
        " ON l.workshop_id = %s AND l.external_id = s.external_id",
        [job.workshop_id],
    )
    updated = int(cursor.fetchone()[0])
    lower = "lower" if pg else "py_lower"
    mapped = plan.mapped_builtins
    has = {t.kind for t in plan.targets}

    def pick(col: str) -> str:
        mapped_here = col in mapped or col in has
        return f"excluded.{col}" if mapped_here else f"feedback_lead.{col}"

    search = (
        f"{lower}(trim(coalesce({pick('name')}, '') || ' ' || coalesce({pick('email')}, '')"
        f" || ' ' || coalesce({pick('company')}, '')))"
    )
    sets = [f"{col} = excluded.{col}" for col in mapped]
    if "name" in has:
        sets.append("name = excluded.name")
    if "email" in has:
        sets.append("email = excluded.email")
    merge_json = (
        "feedback_lead.custom || excluded.custom"
        if pg
        else "json_patch(feedback_lead.custom, excluded.custom)"
    )
    sets += [f"custom = {merge_json}", f"search_text = {search}", "updated_at = %s"]
    cols = ", ".join(BUILTIN)
    cursor.execute(
        "INSERT INTO feedback_lead (workshop_id, external_id, name, email, search_text,"  # noqa: S608
        f" {cols}, custom, imported_at, updated_at)"
        f" SELECT %s, external_id, name, email,"
        f" {lower}(trim(coalesce(name, '') || ' ' || coalesce(email, '')"
        " || ' ' || coalesce(company, ''))),"
        f" {cols}, custom, %s, %s FROM {latest} s WHERE true"
        f" ON CONFLICT (workshop_id, external_id) DO UPDATE SET {', '.join(sets)}",
        [job.workshop_id, now, now, now],
    )
    total = cursor.rowcount
    return total - updated, updated, []


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
