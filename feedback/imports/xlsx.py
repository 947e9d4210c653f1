"""Reading the first worksheet of an XLSX workbook as rows of strings, within the
upload limits (feedback.imports.limits.Limits), with memory bounded whatever the file.

Why not openpyxl: even in read-only mode it loads the whole shared-strings table as
Python strings before the first row (a 0.5 MB workbook whose table inflates to 1 GB
took the web process to 4.2 GB), pads every row to the sheet's declared dimension, and
builds each <row> element whole before handing it over (a million-column header). So:

1. the zip's central directory is checked from its end record before zipfile reads it
   (entry count, directory size), then each part we read by its declared sizes
   (inflate ratio, total unpacked size);
2. parts are inflated through a counter that stops past the same limits, whatever
   the directory declared;
3. the XML is parsed by expat fed 64 KB at a time, with handlers that keep only what
   a row needs: no tree is built, a DOCTYPE is refused (XLSX never has one, so no
   entity can expand), and a tag, comment or attribute over xml_token_bytes is refused
   (expat holds an unfinished token whole);
4. shared strings are stored packed as UTF-8 in one bytearray (count and size capped);
   cell, row and column limits are checked as the characters arrive.

Cell values come out as openpyxl gave them before (numbers, booleans as True/False,
date-formatted numbers as ISO dates via openpyxl's own format rules).
"""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

from django.utils.translation import gettext as _
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel, from_ISO8601

from feedback.imports.limits import (
    Limits,
    TabularError,
    cell_text,
    cell_too_long,
    row_too_long,
    too_many_columns,
    too_many_rows,
)

CHUNK = 64 * 1024
MB = 1024 * 1024
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,9})")
_CELL_REF = re.compile(r"([A-Z]+)([0-9]+)")


def unreadable() -> TabularError:
    return TabularError(_("This is not a readable XLSX workbook."))


def xlsx_rows(path: Path, limits: Limits) -> Iterator[list[str]]:
    with path.open("rb") as handle:
        _check_end_record(handle, limits)
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise unreadable() from None
        with archive:
            try:
                yield from _Workbook(archive, limits).rows()
            except TabularError:
                raise
            except (
                zipfile.BadZipFile,
                expat.ExpatError,
                OSError,
                EOFError,
                ValueError,
                KeyError,
                IndexError,
                NotImplementedError,  # a compression method zipfile lacks
                RuntimeError,  # an encrypted part
                zlib.error,
            ):
                raise unreadable() from None


# ------------------------------------------------------------------ the zip container


def _check_end_record(handle: IO[bytes], limits: Limits) -> None:
    """Entry count and directory size from the end-of-central-directory record, found
    the way zipfile finds it: zipfile then reads exactly that many directory bytes, so
    this bounds the ZipInfo objects it builds (a 200 MB upload could list millions)."""
    handle.seek(0, 2)
    size = handle.tell()
    if size < _EOCD.size:
        raise unreadable()
    tail_length = min(size, _EOCD.size + 65_535)
    handle.seek(size - tail_length)
    tail = handle.read(tail_length)
    at = tail_length - _EOCD.size
    if tail[at : at + 4] != b"PK\x05\x06" or tail[-2:] != b"\x00\x00":
        at = tail.rfind(b"PK\x05\x06", 0, tail_length - _EOCD.size + 1)
        if at < 0:
            raise unreadable()
    _sig, _disk, _cd_disk, _here, entries, directory, offset, _comment = _EOCD.unpack_from(tail, at)
    if entries == 0xFFFF or 0xFFFFFFFF in (directory, offset):
        locator_at = size - tail_length + at - _ZIP64_LOCATOR.size
        if locator_at < 0:
            raise unreadable()
        handle.seek(locator_at)
        sig, _disk, record_at, _disks = _ZIP64_LOCATOR.unpack(handle.read(_ZIP64_LOCATOR.size))
        if sig != b"PK\x06\x07":
            raise unreadable()
        handle.seek(record_at)
        record = handle.read(_ZIP64_EOCD.size)
        if len(record) < _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
            raise unreadable()
        fields = _ZIP64_EOCD.unpack(record)
        entries, directory = fields[7], fields[8]
    if entries > limits.zip_entries:
        raise TabularError(
            _("The workbook has %(n)s parts; at most %(max)s are supported.")
            % {"n": f"{entries:,}", "max": f"{limits.zip_entries:,}"}
        )
    if directory > limits.zip_directory_bytes:
        raise TabularError(
            _("The workbook's zip directory is %(n)s MB; at most %(max)s MB is supported.")
            % {"n": round(directory / MB, 1), "max": round(limits.zip_directory_bytes / MB, 1)}
        )
    handle.seek(0)


def _too_unpacked(limits: Limits) -> TabularError:
    return TabularError(
        _("The workbook unpacks to more than %(max)s MB, the limit for unpacked data.")
        % {"max": f"{limits.unpacked_bytes // MB:,}"}
    )


def _too_inflated(part: str, ratio: float, limits: Limits) -> TabularError:
    return TabularError(
        _(
            "The workbook part %(part)s expands %(ratio)s times when unpacked; "
            "the limit is %(max)s times."
        )
        % {"part": part, "ratio": f"{ratio:,.0f}", "max": limits.inflate_ratio}
    )


class _Budget:
    """The inflated bytes all parts of one workbook may still produce."""

    def __init__(self, archive: zipfile.ZipFile, limits: Limits) -> None:
        infos = archive.infolist()
        if len(infos) > limits.zip_entries:  # the end record said otherwise: a lie
            raise unreadable()
        if sum(info.file_size for info in infos) > limits.unpacked_bytes:
            raise _too_unpacked(limits)
        self.left = limits.unpacked_bytes
        self.limits = limits


class _Part:
    """One zip member, inflated through a counter that refuses past the ratio or the
    workbook's unpacked budget, whatever the directory declared."""

    def __init__(self, archive: zipfile.ZipFile, name: str, budget: _Budget) -> None:
        info = archive.getinfo(name)
        limits = budget.limits
        self.name = name
        self.budget = budget
        self.compressed = max(info.compress_size, 1)
        self.ratio_cap = max(limits.ratio_grace_bytes, self.compressed * limits.inflate_ratio)
        if info.file_size > self.ratio_cap:
            raise _too_inflated(name, info.file_size / self.compressed, limits)
        self.stream = archive.open(info)
        self.count = 0

    def read(self) -> bytes:
        data = self.stream.read(CHUNK)
        self.count += len(data)
        self.budget.left -= len(data)
        if self.count > self.ratio_cap:
            raise _too_inflated(self.name, self.count / self.compressed, self.budget.limits)
        if self.budget.left < 0:
            raise _too_unpacked(self.budget.limits)
        return data

    def close(self) -> None:
        self.stream.close()


# ------------------------------------------------------------------ XML


class _Handler:
    """What a part's parse keeps. `events` counts handler calls, so the feeder can
    tell when expat has been swallowing bytes without finishing any token."""

    events = 0
    done = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        pass

    def end(self, name: str) -> None:
        pass

    def text(self, data: str) -> None:
        pass


def _refuse_doctype(*_args: Any) -> None:
    raise TabularError(
        _(
            "The workbook contains a document type declaration (DOCTYPE); XLSX files "
            "never need one, so it is refused."
        )
    )


def _parse(part: _Part, handler: _Handler, limits: Limits) -> Iterator[None]:
    """Feed the part to expat a chunk at a time; yield after each chunk so the caller
    can take the rows it produced. Stops early once the handler is done."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.buffer_text = True
    parser.buffer_size = CHUNK

    def start(name: str, attrs: dict[str, str]) -> None:
        handler.events += 1
        handler.start(name.rpartition("}")[2], attrs)

    def end(name: str) -> None:
        handler.events += 1
        handler.end(name.rpartition("}")[2])

    def text(data: str) -> None:
        handler.events += 1
        handler.text(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    stalled = 0
    try:
        while not handler.done:
            data = part.read()
            seen = handler.events
            parser.Parse(data, not data)
            stalled = stalled + len(data) if handler.events == seen else 0
            if stalled > limits.xml_token_bytes:
                raise TabularError(
                    _(
                        "The workbook contains an XML tag or comment longer than %(max)s KB, "
                        "the limit for one."
                    )
                    % {"max": limits.xml_token_bytes // 1024}
                )
            yield
            if not data:
                break
    finally:
        part.close()


def _attr(attrs: dict[str, str], local: str) -> str | None:
    """An attribute by its local name, whatever its namespace (r:id in transitional
    and strict OOXML alike)."""
    for key, value in attrs.items():
        if key.rpartition("}")[2] == local:
            return value
    return None


class _Relationships(_Handler):
    def __init__(self, base: str) -> None:
        self.base = base
        self.targets: dict[str, str] = {}
        self.by_type: dict[str, str] = {}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name != "Relationship" or attrs.get("TargetMode") == "External":
            return
        target = attrs.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else self.base + target
        path = posixpath.normpath(path)
        kind = attrs.get("Type", "").rpartition("/")[2]
        if len(self.targets) < 10_000:  # bounded by the part's size anyway
            self.targets[attrs.get("Id", "")] = path
        self.by_type.setdefault(kind, path)


class _WorkbookPart(_Handler):
    def __init__(self) -> None:
        self.sheet_ids: list[str] = []
        self.epoch = WINDOWS_EPOCH

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "workbookPr" and attrs.get("date1904") in ("1", "true"):
            self.epoch = CALENDAR_MAC_1904
        elif name == "sheet" and len(self.sheet_ids) < 1000:
            self.sheet_ids.append(_attr(attrs, "id") or "")

    def end(self, name: str) -> None:
        if name == "sheets":
            self.done = True


class _Styles(_Handler):
    """Which cell formats (xf indexes) show numbers as dates, by openpyxl's rules."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.custom: dict[int, str] = {}
        self.formats: list[int] = []
        self.in_xfs = False

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "numFmt":
            self.count_one(len(self.custom))
            self.custom[int(attrs.get("numFmtId", "0"))] = attrs.get("formatCode", "")
        elif name == "cellXfs":
            self.in_xfs = True
        elif name == "xf" and self.in_xfs:
            self.count_one(len(self.formats))
            self.formats.append(int(attrs.get("numFmtId", "0")))

    def end(self, name: str) -> None:
        if name == "cellXfs":
            self.in_xfs = False
            self.done = True  # numFmts come before cellXfs

    def count_one(self, n: int) -> None:
        if n >= self.limits.styles:
            raise TabularError(
                _("The workbook has more than %(max)s cell styles, the limit.")
                % {"max": f"{self.limits.styles:,}"}
            )

    def date_styles(self) -> tuple[set[int], set[int]]:
        dates, durations = set(), set()
        for index, fmt_id in enumerate(self.formats):
            code = self.custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id)
            if is_date_format(code):
                dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
        return dates, durations


class _SharedStrings(_Handler):
    """The shared-strings table, packed: UTF-8 bytes in one bytearray and the end
    offset of each string in an array, so the cost is the text's size plus 8 bytes
    a string instead of a Python object each."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.data = bytearray()
        self.ends = array("Q")
        self.parts: list[str] = []
        self.length = 0
        self.collect = False
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "t" and not self.phonetic:
            self.collect = True
        elif name == "rPh":  # phonetic guide text: not part of the value (openpyxl)
            self.phonetic += 1
        elif name == "si":
            self.parts, self.length = [], 0
        elif name == "sst":
            declared = attrs.get("uniqueCount", "")
            if declared.isdigit() and int(declared) > self.limits.shared_strings:
                raise self.too_many()

    def text(self, data: str) -> None:
        if self.collect:
            self.length += len(data)
            if self.length > self.limits.cell_chars:
                raise TabularError(
                    _(
                        "A shared string of the workbook is longer than %(max)s characters, "
                        "the limit for one cell."
                    )
                    % {"max": f"{self.limits.cell_chars:,}"}
                )
            self.parts.append(data)

    def end(self, name: str) -> None:
        if name == "t":
            self.collect = False
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "si":
            if len(self.ends) >= self.limits.shared_strings:
                raise self.too_many()
            self.data += "".join(self.parts).replace("x005F_", "").encode()
            if len(self.data) > self.limits.shared_string_bytes:
                raise TabularError(
                    _("The workbook's shared strings exceed %(max)s MB, the limit.")
                    % {"max": self.limits.shared_string_bytes // MB}
                )
            self.ends.append(len(self.data))
            self.parts = []

    def too_many(self) -> TabularError:
        return TabularError(
            _("The workbook has more than %(max)s shared strings, the limit.")
            % {"max": f"{self.limits.shared_strings:,}"}
        )

    def get(self, index: int) -> str:
        start = self.ends[index - 1] if index else 0
        return self.data[start : self.ends[index]].decode()


def _column_index(letters: str, limits: Limits) -> int:
    if len(letters) > 3:
        raise unreadable()
    n = 0
    for letter in letters:
        n = n * 26 + ord(letter) - 64
    if n > limits.columns:
        raise too_many_columns(f"{n:,}", limits)
    return n


class _Sheet(_Handler):
    """Rows of a worksheet as they stream past: finished rows collect in `ready` as
    (row number, cells); the caller drains it after each chunk (at most a chunk's
    worth of rows, each bounded by the column and row limits)."""

    def __init__(
        self,
        limits: Limits,
        strings: _SharedStrings | None,
        dates: set[int],
        durations: set[int],
        epoch: Any,
    ) -> None:
        self.limits = limits
        self.strings = strings
        self.dates, self.durations, self.epoch = dates, durations, epoch
        self.ready: list[tuple[int, list[str]]] = []
        self.width = 0  # from <dimension>: rows are padded to it, as openpyxl did
        self.row = 0
        self.cells: list[str] = []
        self.row_chars = 0
        self.column = 0
        self.kind = "n"
        self.style = 0
        self.parts: list[str] = []
        self.length = 0
        self.collect = False
        self.in_cell = False
        self.in_inline = False
        self.phonetic = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "c":
            ref = attrs.get("r")
            if ref:
                match = _CELL_REF.fullmatch(ref)
                if match is None:
                    raise unreadable()
                column = _column_index(match.group(1), self.limits)
                if column <= self.column:
                    raise unreadable()  # cells out of order
            else:
                column = self.column + 1
                if column > self.limits.columns:
                    raise too_many_columns(f"{column:,}", self.limits)
            self.column = column
            self.kind = attrs.get("t", "n")
            style = attrs.get("s", "0")
            self.style = int(style) if style.isdigit() else 0
            self.parts, self.length = [], 0
            self.in_cell = True
        elif (name == "v" and self.in_cell) or (
            name == "t" and self.in_inline and not self.phonetic
        ):
            self.collect = True
        elif name == "is":
            self.in_inline = True
        elif name == "rPh":
            self.phonetic += 1
        elif name == "row":
            ref = attrs.get("r")
            row = int(ref) if ref and ref.isdigit() else self.row + 1
            if row <= self.row:
                raise unreadable()  # rows out of order
            if row > self.limits.rows + 1:
                raise too_many_rows(self.limits)
            self.row, self.cells, self.row_chars, self.column = row, [], 0, 0
        elif name == "dimension":
            self.check_dimension(attrs.get("ref", ""))

    def check_dimension(self, ref: str) -> None:
        corners = ref.split(":")
        last = _REF.fullmatch(corners[-1])
        if last is None:
            return  # some writers leave it out or wrong; the cells are checked anyway
        columns = _column_letters_to_number(last.group(1))
        rows = int(last.group(2))
        if columns > self.limits.columns or rows > self.limits.rows + 1:
            raise TabularError(
                _(
                    "The sheet declares %(rows)s rows and %(columns)s columns (%(ref)s); "
                    "the limits are %(max_rows)s data rows and %(max_columns)s columns."
                )
                % {
                    "rows": f"{rows:,}",
                    "columns": f"{columns:,}",
                    "ref": ref[:40],
                    "max_rows": f"{self.limits.rows:,}",
                    "max_columns": f"{self.limits.columns:,}",
                }
            )
        self.width = columns

    def text(self, data: str) -> None:
        if self.collect:
            self.length += len(data)
            if self.length > self.limits.cell_chars:
                raise cell_too_long(self.row, self.limits)
            self.parts.append(data)

    def end(self, name: str) -> None:
        if name in ("v", "t"):
            self.collect = False
        elif name == "c":
            self.in_cell = self.in_inline = False
            value = self.value("".join(self.parts))
            self.row_chars += len(value)
            if self.row_chars > self.limits.row_chars:
                raise row_too_long(self.row, self.limits)
            if len(self.cells) < self.column - 1:
                self.cells.extend([""] * (self.column - 1 - len(self.cells)))
            self.cells.append(value)
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "row":
            self.ready.append((self.row, self.cells))
            self.cells = []
        elif name == "sheetData":
            self.done = True

    def value(self, raw: str) -> str:
        kind = self.kind
        if kind == "s":
            if self.strings is None or not raw.strip().isdigit():
                raise unreadable()
            return self.strings.get(int(raw))
        if kind in ("inlineStr", "str", "e"):
            return raw
        if not raw:
            return ""
        if kind == "b":
            return str(raw.strip() not in ("0", "false"))
        if kind == "d":
            try:
                return cell_text(from_ISO8601(raw))
            except ValueError:
                return raw
        try:
            number: float = float(raw) if any(c in raw for c in ".eE") else int(raw)
        except ValueError:
            return raw
        if self.style in self.dates:
            try:
                moment = from_excel(number, self.epoch, timedelta=self.style in self.durations)
            except (OverflowError, ValueError):
                return "#VALUE!"
            return cell_text(moment)
        return cell_text(number)


def _column_letters_to_number(letters: str) -> int:
    n = 0
    for letter in letters:
        n = n * 26 + ord(letter) - 64
    return n


# ------------------------------------------------------------------ the workbook


class _Workbook:
    def __init__(self, archive: zipfile.ZipFile, limits: Limits) -> None:
        self.archive = archive
        self.limits = limits
        self.budget = _Budget(archive, limits)
        self.names = set(archive.namelist())

    def read_whole(self, name: str, handler: _Handler) -> None:
        for _chunk in _parse(_Part(self.archive, name, self.budget), handler, self.limits):
            pass

    def rels(self, part: str) -> _Relationships:
        folder, _slash, file = part.rpartition("/")
        rels_name = f"{folder}/_rels/{file}.rels" if folder else f"_rels/{file}.rels"
        handler = _Relationships(f"{folder}/" if folder else "")
        if rels_name in self.names:
            self.read_whole(rels_name, handler)
        return handler

    def rows(self) -> Iterator[list[str]]:
        workbook_name = self.rels("").by_type.get("officeDocument", "xl/workbook.xml")
        if workbook_name not in self.names:
            raise unreadable()
        book = _WorkbookPart()
        self.read_whole(workbook_name, book)
        rels = self.rels(workbook_name)
        sheet_name = next(
            (
                rels.targets[i]
                for i in book.sheet_ids
                if i in rels.targets and rels.targets[i] in self.names
            ),
            None,
        )
        if sheet_name is None:
            raise TabularError(_("The workbook has no worksheet."))
        strings = None
        if (name := rels.by_type.get("sharedStrings")) and name in self.names:
            strings = _SharedStrings(self.limits)
            self.read_whole(name, strings)
        dates: set[int] = set()
        durations: set[int] = set()
        if (name := rels.by_type.get("styles")) and name in self.names:
            styles = _Styles(self.limits)
            self.read_whole(name, styles)
            dates, durations = styles.date_styles()
        sheet = _Sheet(self.limits, strings, dates, durations, book.epoch)
        yield from _drain(
            _parse(_Part(self.archive, sheet_name, self.budget), sheet, self.limits),
            sheet,
        )


def _drain(chunks: Iterator[None], sheet: _Sheet) -> Iterator[list[str]]:
    """Rows in order, with the rows the sheet skips given as blank rows (numbering
    matters: the error report cites row numbers), each padded to the declared width or
    else the header's, as openpyxl padded them."""
    emitted = 0
    for _chunk in chunks:
        ready, sheet.ready = sheet.ready, []
        for number, cells in ready:
            while emitted < number - 1:
                emitted += 1
                yield [""] * sheet.width
            if emitted == 0:
                sheet.width = max(sheet.width, len(cells))
            emitted += 1
            yield cells + [""] * (sheet.width - len(cells))
