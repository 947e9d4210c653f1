"""Stage 6 of an import: the error report, one line per rejected cell, as a CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from feedback.imports.convert import RowError, reason_text
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


def rejection_reasons(job: ImportJob, top: int = 5) -> list[tuple[str, str, int]]:
    """The most common (column, reason) of the rejected cells, with how many rows, read
    from the stored report (at most MAX_REPORTED_ERRORS lines)."""
    counts: Counter[tuple[str, str]] = Counter()
    rows = csv.reader(io.StringIO(job.error_report))
    next(rows, None)  # the header
    for row in rows:
        if len(row) >= 4:
            counts[(row[1], row[3])] += 1
    return [(column, reason, n) for (column, reason), n in counts.most_common(top)]
