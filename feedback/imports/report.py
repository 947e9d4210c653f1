"""Stage 6 of an import: the error report, one line per rejected cell, as a CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from django.utils.translation import gettext as _

from feedback.imports.convert import E_INVALID, RowError, lenient, reason_text
from feedback.imports.mapping import Plan
from feedback.models import ImportJob

MAX_REPORTED_ERRORS = 10_000


def error_report(cursor: Any, plan: Plan) -> tuple[int, list[RowError]]:
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
                report.append(RowError(int(row[0]), t.header, raw[:200], reason_text(t, int(code))))
    return count, report


def warning_report(cursor: Any, plan: Plan, room: int) -> tuple[int, list[RowError]]:
    """The cells of imported rows that could not be converted and were left empty:
    how many, and the first `room` of them (marked as left empty)."""
    soft = [t for t in plan.targets if lenient(t, plan.options)]
    if not soft:
        return 0, []
    any_soft = " OR ".join(f"s.e{t.index} = {E_INVALID}" for t in soft)
    counts = " + ".join(f"count(CASE WHEN s.e{t.index} = {E_INVALID} THEN 1 END)" for t in soft)
    cursor.execute(f"SELECT {counts} FROM import_stage s WHERE NOT s.bad")  # noqa: S608
    count = int(cursor.fetchone()[0] or 0)
    if not count or room <= 0:
        return count, []
    cursor.execute(
        f"SELECT s.row_no, {', '.join(f's.e{t.index}' for t in soft)},"  # noqa: S608
        f" {', '.join(f'r.c{t.index}' for t in soft)}"
        " FROM import_stage s JOIN import_raw r ON r.row_no = s.row_no"
        f" WHERE NOT s.bad AND ({any_soft}) ORDER BY s.row_no LIMIT {int(room)}"
    )
    notes: list[RowError] = []
    n = len(soft)
    for row in cursor.fetchall():
        for k, t in enumerate(soft):
            if row[1 + k] is not None and len(notes) < room:
                raw = (row[1 + n + k] or "").strip()
                notes.append(
                    RowError(
                        int(row[0]),
                        t.header,
                        raw[:200],
                        reason_text(t, E_INVALID),
                        _("left empty; the row was imported"),
                    )
                )
    return count, notes


def rejection_reasons(job: ImportJob, top: int = 5) -> list[tuple[str, str, int]]:
    """The most common (column, reason) of the rejected cells, with how many rows, read
    from the stored report (at most MAX_REPORTED_ERRORS lines)."""
    counts: Counter[tuple[str, str]] = Counter()
    rows = csv.reader(io.StringIO(job.error_report))
    next(rows, None)  # the header
    for row in rows:
        if len(row) >= 4 and not (len(row) >= 5 and row[4]):  # not a cell left empty
            counts[(row[1], row[3])] += 1
    return [(column, reason, n) for (column, reason), n in counts.most_common(top)]
