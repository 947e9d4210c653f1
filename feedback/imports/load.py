"""Stage 3 of an import: the file's cells, untouched, into a temporary table. On
PostgreSQL by COPY of the file's own bytes in chunks cut at record ends; ragged files,
XLSX and SQLite row by row through the bounded readers."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from django.db import connection, transaction

from feedback.imports import limits as upload_limits
from feedback.imports import read as tabular
from feedback.models import ImportJob

if TYPE_CHECKING:
    pass
from feedback.imports.convert import ConversionSql
from feedback.imports.mapping import Plan

STAGE_BATCH = 20_000

TEMP_TABLES = (
    "import_raw",
    "import_stage",
    "import_lookup",
    "import_distinct",
    "import_nulls",
    "import_kinds",
)


def drop_temp(cursor: Any) -> None:
    for table in TEMP_TABLES:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


def create_temp(cursor: Any, sql: ConversionSql, plan: Plan, known_kinds: set[str]) -> None:
    drop_temp(cursor)
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
    """The file's rows within the upload limits (upload_limits.Limits): the worker reads
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


class DirectCopyRefused(Exception):
    """PostgreSQL will not read this file as it stands (ragged or blank rows, bytes
    invalid in its encoding): it is read row by row in Python instead."""


def load_direct(cursor: Any, job: ImportJob, width: int, beat: Callable[[int, int], None]) -> int:
    """Stream the file's bytes into import_raw with COPY … (FORMAT csv), in chunks cut
    at record ends so progress is written between them. Rows loaded."""
    encoding = PG_ENCODINGS.get(job.encoding.lower())
    delimiter = PG_DELIMITERS.get(job.delimiter)
    if encoding is None or delimiter is None:
        raise DirectCopyRefused
    names = ", ".join(f"c{i}" for i in range(width))
    statement = (
        f"COPY import_raw ({names}) FROM STDIN"
        f" (FORMAT csv, DELIMITER {delimiter}, ENCODING '{encoding}')"
    )
    import psycopg

    limits = upload_limits.current_limits()
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
                    raise DirectCopyRefused  # the row-by-row reader names the limit
                continue  # one record longer than a chunk: read on
            chunk, buffer = buffer[:cut], buffer[cut:]
            if chunk.strip(b"\r\n"):
                if _END_MARKER.search(chunk) or b"\x00" in chunk:
                    raise DirectCopyRefused
                if max(map(len, chunk.split(b"\n"))) > limits.cell_chars:
                    # Perhaps a cell over the limit: the row-by-row reader decides.
                    raise DirectCopyRefused
                try:
                    with transaction.atomic(), cursor.cursor.copy(statement) as copy:
                        copy.write(chunk)
                except psycopg.DataError:
                    raise DirectCopyRefused from None
                rows += cursor.cursor.rowcount
                if rows > limits.rows:
                    raise upload_limits.too_many_rows(limits)
            done += len(chunk)
            beat(rows, done)
            if not data:
                return rows


def load_rows(cursor: Any, job: ImportJob, width: int, beat: Callable[[int, int], None]) -> int:
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
