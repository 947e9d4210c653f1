"""Stage 5b of an import: a disposition column's cells → the rows of
``import_verdicts`` (one per lead of the file's good rows, the last row of an external
id winning as in the merge), then ``verdicts_staged`` for the verdicts app to write
them, inside the merge's transaction. Each distinct value and rep name is looked up
once in Python; the rows are built by one INSERT … SELECT."""

from __future__ import annotations

from typing import Any

from django.db import connection

from feedback.imports import dispositions
from feedback.imports.mapping import Plan, VerdictColumn
from feedback.models import ImportJob

TEMP_TABLES = ("import_verdict_values", "import_rep_values")


def drop_temp(cursor: Any) -> None:
    for table in TEMP_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    dispositions.drop_temp(cursor)


def _distinct(cursor: Any, index: int) -> list[str]:
    cursor.execute(
        f"SELECT DISTINCT r.c{index} FROM import_raw r"  # noqa: S608
        " JOIN import_stage s ON s.row_no = r.row_no AND NOT s.bad"
        f" WHERE r.c{index} IS NOT NULL"
    )
    return [str(raw) for (raw,) in cursor.fetchall()]


def stage_verdicts(cursor: Any, job: ImportJob, plan: Plan) -> int:
    """Stage and send the file's verdicts; how many leads' imported verdict changed."""
    column = plan.verdict
    if column is None:
        return 0
    drop_temp(cursor)
    dispositions.create_temp(cursor)
    cursor.execute("CREATE TEMP TABLE import_verdict_values (raw text, verdict text, reason text)")
    cursor.execute("CREATE TEMP TABLE import_rep_values (raw text, rep_id integer)")
    nulls = {str(t).strip().casefold() for t in plan.options["null_tokens"]}
    values = []
    for raw in _distinct(cursor, column.index):
        meant = _meaning(column, raw, nulls)
        values.append((raw, meant.verdict, meant.reason))
    cursor.executemany(
        "INSERT INTO import_verdict_values (raw, verdict, reason) VALUES (%s, %s, %s)", values
    )
    fallback = dispositions.rep_for(job.workshop, column.rep_name) if column.rep_name else None
    if fallback is None:
        fallback = dispositions.system_rep().pk
    rep_join, rep_expr = "", "%s"
    if column.rep_index is not None:
        reps = [
            (raw, rep)
            for raw in _distinct(cursor, column.rep_index)
            if (rep := dispositions.rep_for(job.workshop, raw)) is not None
        ]
        cursor.executemany("INSERT INTO import_rep_values (raw, rep_id) VALUES (%s, %s)", reps)
        rep_join = f" LEFT JOIN import_rep_values rv ON rv.raw = r.c{column.rep_index}"
        rep_expr = "coalesce(rv.rep_id, %s)"
    pg = connection.vendor == "postgresql"
    latest = (
        "(SELECT DISTINCT ON (external_id) row_no, external_id FROM import_stage"
        " WHERE NOT bad ORDER BY external_id, row_no DESC)"
        if pg
        else "(SELECT row_no, external_id FROM import_stage WHERE row_no IN"
        " (SELECT max(row_no) FROM import_stage WHERE NOT bad GROUP BY external_id))"
    )
    trim = "btrim" if pg else "trim"
    cursor.execute(
        f"INSERT INTO {dispositions.TEMP} (lead_id, rep_id, verdict, reason, value)"  # noqa: S608
        f" SELECT l.id, {rep_expr}, vv.verdict, coalesce(vv.reason, ''),"
        f" substr({trim}(r.c{column.index}), 1, 200)"
        f" FROM {latest} s JOIN import_raw r ON r.row_no = s.row_no"
        " JOIN feedback_lead l ON l.workshop_id = %s AND l.external_id = s.external_id"
        f" LEFT JOIN import_verdict_values vv ON vv.raw = r.c{column.index}{rep_join}",
        [fallback, job.workshop_id],
    )
    answers = dispositions.verdicts_staged.send(
        sender=ImportJob,
        cursor=cursor,
        workshop=job.workshop,
        file=job.original_name,
        column=column.header,
    )
    changed = 0
    for _receiver, n in answers:
        changed += n if isinstance(n, int) else 0
    return changed


def _meaning(column: VerdictColumn, raw: str, nulls: set[str]) -> dispositions.Disposition:
    """An empty cell (or a null token) says nothing: no verdict."""
    if raw.strip().casefold() in nulls:
        return dispositions.Disposition(None)
    return dispositions.dispose(column.values, column.unmapped, raw)
