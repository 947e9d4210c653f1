"""Stage 5 of an import, the worker's run: load, convert, then ONE transaction merges the
good rows into the lead table keyed by external id and creates new custom fields. A
cancelled or failed run merges nothing; re-importing a file changes nothing. Also the
lock that keeps one runner per import, and the recovery of imports whose worker died."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from definitions.catalog.selectors import catalog_for
from definitions.catalog.services import (
    custom_field_add,
    custom_field_choices_add,
    custom_fields_mark_after_outcome,
)
from definitions.core import events
from definitions.core.audit import log_action
from feedback.imports import limits, verdict_stage
from feedback.imports import read as tabular
from feedback.leads.services import leads_changed
from feedback.leads.signals import leads_arrived
from feedback.models import ImportJob, ImportKind, ImportState, Lead

if TYPE_CHECKING:
    pass
from feedback.imports.convert import (
    ANALYZE_AFTER,
    JSON_PAIRS,
    ConversionSql,
    RowError,
    choices_to_add,
    fill_lookup,
)
from feedback.imports.load import DirectCopyRefused, create_temp, drop_temp, load_direct, load_rows
from feedback.imports.mapping import BUILTIN, Plan, compile_plan
from feedback.imports.report import MAX_REPORTED_ERRORS, error_report, warning_report

logger = logging.getLogger(__name__)

PROGRESS_EVERY_ROWS = 5000

PROGRESS_EVERY_SECONDS = 1.0


class ImportCancelled(Exception):
    pass


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
    if not claim(job.pk):
        return job  # a redelivered copy of the task: another process is running this job
    try:
        return _run_claimed(job, on_progress)
    finally:
        release(job.pk)


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
        unchanged=0,
        verdicts=0,
        warnings=0,
        message="",
        heartbeat_at=timezone.now(),
    )
    catalog = catalog_for(job.workshop, translated=False)
    sql = ConversionSql(plan, len(job.headers))
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
            create_temp(cursor, sql, plan, set(catalog.activity_kinds))
            if sql.pg:
                # Sorts and hashes over a million rows; the default 4 MB spills to disk.
                cursor.execute("SET work_mem = '64MB'")
                # Compiling the wide conversion and merge statements costs seconds
                # (measured: 5.7 s of a million-row stage insert) and saves less.
                cursor.execute("SET jit = off")
            rows_done = 0
            if sql.pg and not tabular.is_xlsx(Path(job.file.path)):
                try:
                    rows_done = load_direct(cursor, job, sql.width, beat)
                except DirectCopyRefused:
                    cursor.execute("TRUNCATE import_raw")
            if not rows_done:
                rows_done = load_rows(cursor, job, sql.width, beat)
            phase("load")
            _progress(job, rows_done, job.size, 0)
            if on_progress is not None:
                on_progress(rows_done, job.size, 0)
            if sql.pg:  # temporary tables get no statistics unless asked
                cursor.execute("ANALYZE import_raw")
            fill_lookup(cursor, sql, plan)
            if sql.pg:
                cursor.execute("ANALYZE import_lookup")
            phase("lookup")
            cursor.execute(sql.stage_insert())
            phase("convert")
            error_count, report = error_report(cursor, plan)
            warning_count, notes = warning_report(cursor, plan, MAX_REPORTED_ERRORS - len(report))
            report += notes
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
            new_choices = choices_to_add(cursor, sql, plan)
            with transaction.atomic():
                imported, updated, unchanged, unknown = _merge(cursor, job, plan, new_choices)
                # The file's leads, named by the staged rows (a subquery), while the
                # temporary table still exists.
                leads_arrived.send(
                    sender=Lead,
                    workshop_id=job.workshop_id,
                    leads=Lead.objects.filter(
                        workshop_id=job.workshop_id,
                        external_id__in=RawSQL(
                            "SELECT external_id FROM import_stage WHERE NOT bad", ()
                        ),
                    ),
                )
                for key, values in plan.added_choices.items():
                    custom_field_choices_add(
                        actor=job.created_by,  # type: ignore[arg-type]
                        workshop=job.workshop,
                        key=key,
                        values=values,
                    )
                verdicts_changed = verdict_stage.stage_verdicts(cursor, job, plan)
            if sql.pg and imported > ANALYZE_AFTER:
                # Fresh statistics at once, not whenever autovacuum comes by: without
                # them the lead list plans a million new rows as if they were none.
                cursor.execute("ANALYZE feedback_lead")
            phase("merge")
        except limits.TabularError as exc:
            return _finish(job, ImportState.FAILED, str(exc), 0, 0, [])
        except ValidationError as exc:
            return _finish(job, ImportState.FAILED, " ".join(exc.messages), 0, 0, [])
        except ImportCancelled:
            return _finish(
                job, ImportState.CANCELLED, _("Cancelled: nothing was imported."), 0, 0, []
            )
        finally:
            drop_temp(cursor)
            verdict_stage.drop_temp(cursor)
            if sql.pg:
                cursor.execute("RESET work_mem")
                cursor.execute("RESET jit")
    for row_no, external_id in unknown:
        error_count += 1
        if len(report) < MAX_REPORTED_ERRORS:
            report.append(
                RowError(row_no, _("lead"), external_id, _("no lead with this external id"))
            )
    report.sort(key=lambda e: e.row)
    job.imported, job.updated, job.unchanged = imported, updated, unchanged
    job.verdicts, job.warnings = verdicts_changed, warning_count
    ImportJob.objects.filter(pk=job.pk).update(
        imported=imported,
        updated=updated,
        unchanged=unchanged,
        verdicts=verdicts_changed,
        warnings=warning_count,
    )
    return _finish(job, ImportState.DONE, "", rows_done, error_count, report)


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
                    [_("row"), _("column"), _("value"), _("reason"), _("cell left empty")],
                    *([e.row, e.column, e.value, e.reason, e.note] for e in report),
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
        unchanged=job.unchanged,
        verdicts=job.verdicts,
        errors=errors,
    )
    events.emit(
        events.IMPORT_FINISHED,
        workshop_id=job.workshop_id,
        data={
            "workshop": job.workshop.slug,
            "import": job.pk,
            "kind": str(job.kind),
            "state": str(state),
            "file": job.original_name,
            "imported": job.imported,
            "updated": job.updated,
            "unchanged": job.unchanged,
            "errors": errors,
            "message": message,
            "url": events.absolute_url(
                reverse("feedback:import_detail", args=[job.workshop.slug, job.pk])
            ),
        },
    )
    return job


def _merge(
    cursor: Any, job: ImportJob, plan: Plan, new_choices: dict[str, list[str]]
) -> tuple[int, int, int, list[tuple[int, str]]]:
    """The good staged rows → leads in one statement: (inserted, updated, unchanged,
    unknown). The last row of an external id that appears twice wins. A known lead
    whose values would not change is not written at all: re-importing a file changes
    nothing, and marks no backtest stale."""
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
        inserted = cursor.rowcount
        cursor.execute("SELECT count(*) FROM import_stage WHERE NOT bad")
        known = int(cursor.fetchone()[0]) - len(unknown)
        # Activities already there (the same lead, kind and time) are unchanged.
        return inserted, 0, max(known - inserted, 0), unknown
    for new in plan.new_fields:
        custom_field_add(
            actor=job.created_by,  # type: ignore[arg-type]
            workshop=job.workshop,
            key=new["key"],
            label=new["label"],
            type=new["type"],
            category=new["category"],
            choices=new_choices.get(new["key"], []),
            after_outcome=bool(new.get("after_outcome")),
        )
    if plan.after_outcome:
        custom_fields_mark_after_outcome(
            actor=job.created_by,  # type: ignore[arg-type]
            workshop=job.workshop,
            keys=plan.after_outcome,
        )
    if pg:
        # One merge into a workshop at a time: the first one may then insert without
        # looking for conflicts (nobody else adds this workshop's leads meanwhile).
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [MERGE_LOCK, job.workshop_id])
        _gin_batched(cursor)
    latest, rows = _latest(cursor, pg)
    mapped = plan.mapped_builtins
    has = {t.kind for t in plan.targets}
    custom_keys = [t.key for t in plan.targets if t.kind == "custom"]

    def pick(col: str) -> str:
        return f"excluded.{col}" if col in mapped or col in has else f"feedback_lead.{col}"

    lower = "lower" if pg else "py_lower"

    def custom_text(expr: str) -> str:
        # Every non-empty custom value, in key order: what leads.services.search_text
        # appends. `expr` is one of our own column expressions above, never a user's text.
        if pg:
            return (
                "coalesce((SELECT string_agg(value, ' ' ORDER BY key)"  # noqa: S608
                f" FROM jsonb_each_text({expr}) WHERE value <> ''), '')"
            )
        return (
            "coalesce((SELECT group_concat(value, ' ') FROM"  # noqa: S608
            " (SELECT CASE type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'"
            f" ELSE value END AS value FROM json_each({expr}) WHERE value <> '' ORDER BY key)),"
            " '')"
        )

    def staged_custom_text() -> str:
        # A new lead's custom values are exactly the mapped keys of the staged object:
        # read them by name, in key order, instead of expanding the object row by row
        # (PostgreSQL; measured on a million leads: 12 s of the merge's 23).
        keys = sorted(set(custom_keys))  # Python's order: leads.services.search_text
        return joined([f"custom->>'{key}'" for key in keys])

    def joined(parts: list[str]) -> str:
        # The non-empty parts separated by one space, as search_text joins them.
        if not parts:
            return "''"
        if len(parts) > JSON_PAIRS:  # PostgreSQL: at most 100 arguments per function
            chunks = [parts[n : n + JSON_PAIRS] for n in range(0, len(parts), JSON_PAIRS)]
            return joined([joined(chunk) for chunk in chunks])
        if pg:
            kept = ", ".join(f"nullif({part}, '')" for part in parts)
            return f"concat_ws(' ', {kept})"
        spaced = " || ".join(f"coalesce(' ' || nullif({p}, ''), '')" for p in parts)
        return f"substr({spaced}, 2)"

    def searchable(
        name: str, email: str, company: str, external_id: str, custom: str | None
    ) -> str:
        text = custom_text(custom) if custom is not None else staged_custom_text()
        return f"{lower}({joined([name, email, company, external_id, text])})"

    sets = [f"{col} = excluded.{col}" for col in mapped]
    sets += [f"{col} = excluded.{col}" for col in ("name", "email") if col in has]
    # A mapped custom field whose cell is empty is unset, like a built-in column.
    if pg:
        drop = "".join(f" - '{key}'" for key in custom_keys)
        merged = f"(feedback_lead.custom{drop}) || excluded.custom"
        fresh = "jsonb_strip_nulls(custom)"
    else:
        kept = "feedback_lead.custom"
        for n in range(0, len(custom_keys), JSON_PAIRS):  # SQLite: at most 127 arguments
            paths = "".join(f", '$.{key}'" for key in custom_keys[n : n + JSON_PAIRS])
            kept = f"json_remove({kept}{paths})"
        merged = f"json_patch({kept}, excluded.custom)" if custom_keys else kept
        fresh = "json_patch('{}', custom)"
    search = searchable(
        pick("name"), pick("email"), pick("company"), "feedback_lead.external_id", merged
    )
    # The columns the update would write, against what the lead holds now.
    written = [entry.split(" = ", 1) for entry in sets] + [["custom", merged]]
    if pg:
        changed = (
            f"({', '.join(f'feedback_lead.{col}' for col, _new in written)})"
            f" IS DISTINCT FROM ({', '.join(new for _col, new in written)})"
        )
    else:
        # SQLite's JSON is text: the same object with its keys in another order (the
        # patch appends the keys it sets) is not equal, so the mapped custom keys are
        # compared one by one; the others are kept as they are.
        changed = (
            " OR ".join(
                [f"feedback_lead.{col} IS NOT {new}" for col, new in written[:-1]]
                + [
                    f"json_extract(feedback_lead.custom, '$.{key}')"
                    f" IS NOT json_extract(excluded.custom, '$.{key}')"
                    for key in custom_keys
                ]
            )
            or "false"
        )
    sets += [f"custom = {merged}", f"search_text = {search}", "updated_at = %s"]
    cols = ", ".join(BUILTIN)
    insert = (
        "INSERT INTO feedback_lead (workshop_id, external_id, name, email, search_text,"  # noqa: S608
        f" {cols}, custom, imported_at, updated_at)"
        " SELECT %s, external_id, coalesce(name, ''), coalesce(email, ''),"
        f" {searchable('name', 'email', 'company', 'external_id', None if pg else fresh)},"
        f" {cols}, {fresh}, %s, %s FROM {latest} s WHERE true"
        f" ON CONFLICT (workshop_id, external_id) DO UPDATE SET {', '.join(sets)}"
        f" WHERE {changed}"
    )
    params = [job.workshop_id, now, now, now]
    if pg and not _has_leads(cursor, job.workshop_id):
        # The workshop's first leads: nothing to conflict with, nothing unchanged.
        inserted = _first_load(cursor, insert.split(" ON CONFLICT ", 1)[0], params[:3], rows)
        return inserted, 0, rows - inserted, []
    if pg:
        # xmax is 0 only on a freshly inserted row: inserted and updated in one pass;
        # rows the WHERE skipped (unchanged) are not returned at all.
        cursor.execute(
            f"WITH merged AS ({insert} RETURNING xmax = 0 AS inserted)"  # noqa: S608
            " SELECT count(*) FILTER (WHERE inserted), count(*) FROM merged",
            params,
        )
        inserted, total = (int(n) for n in cursor.fetchone())
        _gin_flush(cursor)
        return inserted, total - inserted, rows - total, []
    cursor.execute(
        f"SELECT count(*) FROM {latest} s JOIN feedback_lead l"  # noqa: S608
        " ON l.workshop_id = %s AND l.external_id = s.external_id",
        [job.workshop_id],
    )
    known = int(cursor.fetchone()[0])
    connection.connection.create_function("py_lower", 1, lambda s: s.lower() if s else s)
    cursor.execute(insert, params)
    # SQLite counts inserted rows and the updates its WHERE let through.
    updated = cursor.rowcount - (rows - known)
    return rows - known, updated, known - updated, []


def _latest(cursor: Any, pg: bool) -> tuple[str, int]:
    """The good staged rows, the last of each external id: (a subquery, how many)."""
    cursor.execute(
        "SELECT count(*), coalesce(sum(n), 0) FROM"
        " (SELECT count(*) AS n FROM import_stage WHERE NOT bad GROUP BY external_id) g"
    )
    ids, good = (int(n) for n in cursor.fetchone())
    if ids == good:
        # No external id twice (the usual file): no sort of a million wide rows.
        return "(SELECT * FROM import_stage WHERE NOT bad)", ids
    if pg:
        return (
            "(SELECT DISTINCT ON (external_id) * FROM import_stage WHERE NOT bad"
            " ORDER BY external_id, row_no DESC)"
        ), ids
    return (
        "(SELECT * FROM import_stage WHERE row_no IN"
        " (SELECT max(row_no) FROM import_stage WHERE NOT bad GROUP BY external_id))"
    ), ids


# How long the merge waits for the table lock the rebuild needs; then it updates the
# indexes row by row after all.
REBUILD_LOCK_WAIT = "2s"


def _first_load(cursor: Any, statement: str, params: list[Any], rows: int) -> int:
    """Insert a workshop's first leads (PostgreSQL); how many. Building an index
    costs a fraction of maintaining it row by row, but DROP INDEX locks the whole table
    (other workshops' lead lists wait for the build): only for a large first import
    into a young installation, and only when the lock comes at once."""
    rebuilt: list[tuple[str, str]] = []
    # settings.IMPORT_REBUILD_MIN_ROWS: a first import at least this large into a lead
    # table holding fewer leads than it brings builds the secondary indexes anew after
    # loading (their definitions read from the catalog and run again unchanged).
    threshold = settings.IMPORT_REBUILD_MIN_ROWS
    if threshold and rows >= threshold:
        cursor.execute("SELECT count(*) FROM (SELECT 1 FROM feedback_lead LIMIT %s) t", [rows])
        if int(cursor.fetchone()[0]) < rows:
            rebuilt = _drop_secondary_indexes(cursor)
    cursor.execute(statement, params)
    inserted = int(cursor.rowcount)
    if rebuilt:
        # The new leads' deferred foreign-key checks now (commit would run them
        # anyway): PostgreSQL builds no index over rows with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for name, definition in rebuilt:
            began = time.perf_counter()
            cursor.execute(definition)
            logger.info("index %s rebuilt in %.2f s", name, time.perf_counter() - began)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys, as before
    _gin_flush(cursor)
    return inserted


def _drop_secondary_indexes(cursor: Any) -> list[tuple[str, str]]:
    """Drop the lead table's indexes other than its primary key and unique ones, in
    this transaction; (name, definition) of each, or none if the lock is not granted."""
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = 'feedback_lead'::regclass AND NOT i.indisunique ORDER BY 1"
    )
    indexes = [(str(name), str(definition)) for name, definition in cursor.fetchall()]
    cursor.execute("SELECT current_setting('lock_timeout')")
    waited = cursor.fetchone()[0]
    try:
        with transaction.atomic():  # a savepoint: a lock not granted undoes only this
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [REBUILD_LOCK_WAIT])
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
    except OperationalError:
        logger.info("lead table busy: its indexes are updated row by row")
        indexes = []
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [waited])
    return indexes


def _has_leads(cursor: Any, workshop_id: int) -> bool:
    cursor.execute(
        "SELECT EXISTS (SELECT 1 FROM feedback_lead WHERE workshop_id = %s)", [workshop_id]
    )
    return bool(cursor.fetchone()[0])


# What one merge may keep in a GIN index's pending list before it is folded in: a
# million leads' tokens and trigrams. Folded in once at the end (sorted by key, like
# an index build) instead of every 4 MB, the default.
GIN_PENDING = "1GB"


def _gin_batched(cursor: Any) -> None:
    """For this transaction: GIN insertions go to the pending lists, which are folded
    in by _gin_flush with ample memory."""
    cursor.execute("SELECT set_config('gin_pending_list_limit', %s, true)", [GIN_PENDING])
    cursor.execute("SELECT set_config('maintenance_work_mem', '512MB', true)")


def _gin_flush(cursor: Any) -> None:
    """Fold the pending lists of the lead table's GIN indexes (search trigrams, filter
    tokens, custom fields) into the indexes now: searches would otherwise scan them."""
    cursor.execute(
        "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
        " WHERE i.indrelid = 'feedback_lead'::regclass AND a.amname = 'gin'"
    )
    cursor.fetchall()


# A transaction-level advisory lock (MERGE_LOCK, workshop id) while a merge writes.
MERGE_LOCK = 0x1E4E

# PostgreSQL advisory locks (IMPORT_LOCK, job id): a running import holds its job's lock
# for as long as its database connection lives, so a worker that was killed lets go of
# it at once, and a second copy of the task cannot run the same job.
IMPORT_LOCK = 0x1E4D


def claim(job_id: int) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: the embedded setup has one worker
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [IMPORT_LOCK, job_id])
        return bool(cursor.fetchone()[0])


def release(job_id: int) -> None:
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
        if not claim(job_id):
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
            release(job_id)
    return settled
