"""Reading CRM exports: CSV (any common encoding and delimiter) and XLSX, streamed
row by row within the upload limits (feedback/imports/limits.py), so a file of
millions of rows never sits in memory; and the value normalisation the importer
applies per column. No database here; messages are for the user (gettext)."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext as _

from feedback.imports.limits import (
    DEFAULT_LIMITS,
    TabularError,
    cell_too_long,
    current_limits,
    row_too_long,
    too_many_columns,
    too_many_rows,
)
from feedback.imports.xlsx import xlsx_rows

# The csv module refuses a field over this; our own per-cell check (a clearer message)
# comes first because a record is never longer than row_chars.
csv.field_size_limit(DEFAULT_LIMITS.row_chars + 1)


SAMPLE_BYTES = 256 * 1024

SAMPLE_ROWS = 1000

MAX_DISTINCT = 60

# A cell longer than this is a row error in the report (the whole file still imports);
# a cell longer than Limits.cell_chars refuses the whole file.
MAX_CELL = 10_000

DEFAULT_NULLS = ("", "select", "n/a", "na", "-", "null", "none", "nan", "#n/a")

CURRENCY = re.compile(
    r"^(?:R\$|US\$|[$€£¥₹₩]|CHF|EUR|USD|GBP|JPY|BRL)|(?:[$€£¥₹₩]|CHF|EUR|USD|GBP|JPY|BRL)$"
)

TRUE = {"yes", "y", "true", "t", "1", "sì", "si", "sim", "oui", "はい", "x"}

FALSE = {"no", "n", "false", "f", "0", "não", "nao", "non", "いいえ"}

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Column:
    name: str
    samples: list[str] = field(default_factory=list)
    filled: int = 0
    seen: int = 0
    inferred: str = "text"
    # The first MAX_DISTINCT distinct values of the sampled rows with how many rows
    # carry each: what the mapping page offers to recode.
    counts: dict[str, int] = field(default_factory=dict)
    more_values: bool = False

    @property
    def empty_share(self) -> float:
        return 1 - self.filled / self.seen if self.seen else 1.0


@dataclass
class Preview:
    kind: str  # csv | xlsx
    encoding: str
    delimiter: str
    columns: list[Column]
    sample_rows: int
    estimated_rows: int
    warnings: list[str] = field(default_factory=list)


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a sample may end inside a character
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"  # every byte is a Latin-1 character


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head[:8192] and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    control = sum(1 for b in head[:8192] if b < 9 or 13 < b < 32)
    return control > len(head[:8192]) * 0.05


def detect_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in (",", ";", "\t", "|")}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def is_xlsx(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def open_rows(path: Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """Every row of the file (header included) as a list of strings, within the
    upload limits (TabularError past any of them)."""
    if is_xlsx(path):
        yield from xlsx_rows(path, current_limits())
        return
    with path.open("rb") as handle:
        yield from csv_rows(handle, encoding, delimiter)


def csv_rows(raw: BinaryIO, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """The records of a CSV byte stream. Lines reach the csv module through a counter
    of the characters read since the last complete record, so one endless record (no
    line break, or a quote that never closes) is refused at row_chars instead of being
    gathered in memory; columns, cell length and rows are checked per record."""
    limits = current_limits()
    text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
    pending = [0]
    rows = 0

    def lines() -> Iterator[str]:
        while line := text.readline(limits.row_chars + 1):
            pending[0] += len(line)
            if pending[0] > limits.row_chars:
                raise row_too_long(rows + 1, limits)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    try:
        for row in reader:
            pending[0] = 0
            rows += 1
            if rows > limits.rows + 1:  # the header is not a data row
                raise too_many_rows(limits)
            if len(row) > limits.columns:
                raise too_many_columns(f"{len(row):,}", limits)
            if any(len(cell) > limits.cell_chars for cell in row):
                raise cell_too_long(rows, limits)
            yield row
    except csv.Error as exc:
        raise TabularError(
            _("Line %(line)s cannot be read: %(error)s") % {"line": reader.line_num, "error": exc}
        ) from None
    except UnicodeDecodeError:
        raise TabularError(
            _("The file is not valid %(encoding)s text near line %(line)s.")
            % {"encoding": encoding, "line": reader.line_num}
        ) from None
    finally:
        text.detach()  # the caller owns the byte stream


def unique_headers(raw: list[str]) -> tuple[list[str], list[str]]:
    """Header names made unique and non-empty, plus a warning per fix."""
    names: list[str] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(raw):
        clean = name.strip() or f"Column {i + 1}"
        if clean in seen:
            seen[clean] += 1
            renamed = f"{clean} ({seen[clean]})"
            warnings.append(
                _("Duplicate column “%(name)s” renamed to “%(renamed)s”.")
                % {"name": clean, "renamed": renamed}
            )
            clean = renamed
        else:
            seen[clean] = 1
        names.append(clean)
    return names, warnings


def preview(path: Path) -> Preview:
    size = path.stat().st_size
    if size == 0:
        raise TabularError(_("The file is empty."))
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    kind = "xlsx" if head.startswith(b"PK\x03\x04") else "csv"
    if kind == "csv" and _looks_binary(head):
        raise TabularError(_("This does not look like a CSV or XLSX file (binary content)."))
    encoding = detect_encoding(head) if kind == "csv" else "utf-8"
    delimiter = ","
    if kind == "csv":
        text = head.decode(encoding.replace("-sig", ""), errors="ignore").lstrip("\ufeff")
        delimiter = detect_delimiter(text)
    rows = open_rows(path, encoding, delimiter)
    try:
        header = next(rows)
    except StopIteration:
        raise TabularError(_("The file is empty.")) from None
    limits = current_limits()
    if len(header) > limits.columns:  # already refused by the readers; kept for safety
        raise too_many_columns(len(header), limits)
    names, warnings = unique_headers(header)
    columns = [Column(name) for name in names]
    sampled = 0
    sample_bytes = 0
    ragged = 0
    for row in rows:
        if sampled >= SAMPLE_ROWS:
            break
        sampled += 1
        sample_bytes += sum(len(c) + 1 for c in row)
        if len(row) != len(columns):
            ragged += 1
        for column, value in zip(columns, row, strict=False):
            column.seen += 1
            value = value.strip()
            if value.casefold() in DEFAULT_NULLS:
                continue
            column.filled += 1
            if len(column.samples) < 5 and value not in column.samples:
                column.samples.append(value[:80])
            if value in column.counts:
                column.counts[value] += 1
            elif len(column.counts) < MAX_DISTINCT and len(value) <= 200:
                column.counts[value] = 1
            else:
                column.more_values = True
    if sampled == 0:
        raise TabularError(_("The file has a header row but no data rows."))
    if ragged:
        warnings.append(
            _(
                "%(ragged)s of the first %(sampled)s rows have a different number of cells "
                "than the header."
            )
            % {"ragged": ragged, "sampled": sampled}
        )
    for column in columns:
        column.inferred = infer_type(column.samples)
    estimated = (
        sampled if sampled < SAMPLE_ROWS else max(sampled, int(size / (sample_bytes / sampled)))
    )
    return Preview(kind, encoding, delimiter, columns, sampled, estimated, warnings)


def infer_type(samples: list[str]) -> str:
    values = [s for s in samples if s]
    if not values:
        return "text"
    lowered = {v.casefold() for v in values}
    if lowered <= TRUE | FALSE:
        return "boolean"
    if all(parse_number(v, "auto") is not None for v in values):
        return "number"
    if all(
        any(parse_date(v, order) is not None for order in ("ymd", "dmy", "mdy")) for v in values
    ):
        return "date"
    return "text"


def parse_number(raw: str, style: str) -> float | None:
    """'1,234.5', '1.234,5', '12%', '$300M'-free currency strings → float.

    style: "dot" (1,234.5), "comma" (1.234,5), or "auto": with both marks the later one
    is the decimal mark; a single comma followed by exactly three digits ("1,234") is
    read as a thousands separator, any other single comma as the decimal mark.
    """
    text = raw.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    text = CURRENCY.sub("", text)  # "$1,200", "1.200 €", "CHF 300"
    percent = text.endswith("%")
    text = text.rstrip("%")
    if not text or not re.fullmatch(r"[+-]?[\d.,]+", text):
        return None
    if style == "auto":
        if "," in text and "." in text:
            style = "dot" if text.rfind(".") > text.rfind(",") else "comma"
        elif text.count(",") == 1 and len(text.split(",")[1]) != 3:
            style = "comma"
        else:
            style = "dot"
    text = text.replace(".", "").replace(",", ".") if style == "comma" else text.replace(",", "")
    try:
        value = float(Decimal(text))
    except (InvalidOperation, ValueError):
        return None
    if value != value or abs(value) > 1e15:
        return None
    return value / 100 if percent else value


_DATE_PATTERNS = {
    "ymd": re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    "dmy": re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"),
    "mdy": re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"),
}


def parse_date(raw: str, order: str) -> datetime | None:
    """A date or date-time in ISO form or the chosen day/month order, as aware UTC."""
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        pass
    pattern = _DATE_PATTERNS.get(order)
    match = pattern.match(text) if pattern else None
    if match is None:
        return None
    a, b, c = (int(g) for g in match.groups())
    year, month, day = {"ymd": (a, b, c), "dmy": (c, b, a), "mdy": (c, a, b)}[order]
    rest = text[match.end() :].strip().lstrip("T")
    clock = time(0, 0)
    if rest:
        m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", rest)
        if not m:
            return None
        clock = time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    try:
        return datetime.combine(date(year, month, day), clock, tzinfo=UTC)
    except ValueError:
        return None


def parse_bool(raw: str) -> bool | None:
    value = raw.strip().casefold()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    return None


def csv_safe(value: object) -> str:
    """A cell for a CSV we export: text that a spreadsheet would run as a formula
    gets a leading apostrophe (OWASP's CSV-injection advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(rows: Iterator[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return buffer.getvalue()
