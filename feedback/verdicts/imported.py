"""Verdicts that sales gave in their CRM, brought in by an import or the API: a
disposition column's values mapped to good, not a lead (with a reason) or no verdict.

Each lead has at most one current imported verdict, kept apart from the verdicts
reps give in the app (both count; the newest wins, and the accuracy pages can filter
by origin). Re-importing the same values changes nothing; a changed value supersedes
the imported verdict (kept as history) or, when it now means no verdict, takes it
back. Everything is set-based: the caller fills the temporary table
``import_verdicts`` (lead_id, rep_id, verdict, reason, value), one row per lead of
the workshop, and ``imported_verdicts_merge`` writes the differences in three
statements, then recounts the done runs' tallies once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from definitions.versions.selectors import current_version
from feedback.backtests.selectors import latest_done_run
from feedback.imports.dispositions import TEMP, create_temp, drop_temp
from feedback.models import LeadFeedback, LeadResult
from feedback.verdicts import tallies

if TYPE_CHECKING:
    from definitions.models import Workshop


def imported_verdicts_merge(cursor: Any, *, workshop: Workshop, file: str, column: str) -> int:
    """Write the differences between ``import_verdicts`` and the leads' current
    imported verdicts (run it inside the caller's transaction). Returns how many leads'
    imported verdict changed (given, changed or taken back)."""
    tallies.verdicts_lock(workshop.pk)
    feedback = LeadFeedback._meta.db_table
    cursor.execute("DROP TABLE IF EXISTS import_verdict_changes")
    # A row with no verdict and no current imported verdict is no change; a current one
    # with the same verdict, reason and rep is none either (whatever the file's wording).
    cursor.execute(
        "CREATE TEMP TABLE import_verdict_changes AS"  # noqa: S608
        " SELECT v.lead_id, v.rep_id, v.verdict, v.reason, v.value, f.id AS old_id"
        f" FROM {TEMP} v LEFT JOIN {feedback} f ON f.lead_id = v.lead_id"
        " AND f.imported = %s AND f.superseded_at IS NULL"
        " WHERE (f.id IS NULL AND v.verdict IS NOT NULL) OR (f.id IS NOT NULL AND ("
        " v.verdict IS NULL OR f.verdict <> v.verdict OR f.reason <> v.reason"
        " OR f.rep_id <> v.rep_id))",
        [True],
    )
    cursor.execute("SELECT count(*) FROM import_verdict_changes")
    changed = int(cursor.fetchone()[0])
    if not changed:
        return 0
    now = timezone.now()
    cursor.execute(
        f"UPDATE {feedback} SET superseded_at = %s WHERE id IN"  # noqa: S608
        " (SELECT old_id FROM import_verdict_changes WHERE old_id IS NOT NULL)",
        [now],
    )
    version = current_version(workshop)
    run = latest_done_run(workshop, version=version) if version is not None else None
    result = LeadResult._meta.db_table
    cursor.execute(
        f"INSERT INTO {feedback} (workshop_id, lead_id, rep_id, verdict, reason, note,"  # noqa: S608
        " version_id, qualified, stage, score, created_at, replaces_id, imported,"
        " import_file, import_column, import_value)"
        " SELECT %s, c.lead_id, c.rep_id, c.verdict, c.reason, '', %s, r.qualified,"
        " coalesce(r.stage, ''), r.score, %s, c.old_id, %s, %s, %s, coalesce(c.value, '')"
        f" FROM import_verdict_changes c LEFT JOIN {result} r"
        " ON r.run_id = %s AND r.lead_id = c.lead_id"
        " WHERE c.verdict IS NOT NULL ORDER BY c.lead_id",
        [
            workshop.pk,
            version.pk if version else None,
            now,
            True,
            file[:255],
            column[:200],
            run.pk if run else None,
        ],
    )
    # One grouped recount per done run instead of moving each lead on its own.
    tallies.tally_runs_of(workshop.pk)
    return changed


def imported_verdicts_write(
    *,
    workshop: Workshop,
    rows: list[tuple[int, int, str | None, str, str]],
    file: str,
    column: str,
) -> int:
    """The API's way in: (lead_id, rep_id, verdict, reason, value) rows of leads of
    the workshop, one per lead; the same merge as an import's."""
    with connection.cursor() as cursor:
        create_temp(cursor)
        try:
            cursor.executemany(
                f"INSERT INTO {TEMP} (lead_id, rep_id, verdict, reason, value)"  # noqa: S608
                " VALUES (%s, %s, %s, %s, %s)",
                rows,
            )
            return imported_verdicts_merge(cursor, workshop=workshop, file=file, column=column)
        finally:
            drop_temp(cursor)


def imported_label(feedback: LeadFeedback) -> str:
    """“imported from <file>, <column>”: how the lead page and the queue show it."""
    return _("imported from %(file)s, %(column)s") % {
        "file": feedback.import_file,
        "column": feedback.import_column,
    }


def on_verdicts_staged(
    sender: Any, *, cursor: Any, workshop: Workshop, file: str, column: str, **_: Any
) -> int:
    return imported_verdicts_merge(cursor, workshop=workshop, file=file, column=column)
