"""Uploads built to exhaust the server (zip bombs, a million columns, a sheet that
claims every cell of Excel, endless CSV records) are refused fast, by a named limit,
in the web process and in the worker, without the process growing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from definitions.models import Workshop
from feedback.imports import limits as upload_limits
from feedback.imports import mapping as import_mapping
from feedback.imports import read as tabular
from feedback.imports import run as import_run
from feedback.imports import services as import_services
from feedback.imports import xlsx as xlsx_reader
from feedback.models import ImportJob, ImportState, Lead

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
RELS_NS = b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
DOC_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sharedStrings+xml"/>'
    b'<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.styles+xml"/></Types>'
)
STYLES = (
    b"<styleSheet " + MAIN + b'><numFmts count="1"><numFmt numFmtId="164" '
    b'formatCode="yyyy-mm-dd hh:mm"/></numFmts><cellXfs count="3"><xf numFmtId="0"/>'
    b'<xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>'
)

Chunks = bytes | Iterable[bytes]


def write_workbook(
    path: Path, sheet: Chunks, shared: Chunks | None = None, workbook_pr: bytes = b""
) -> Path:
    """An XLSX written part by part with zipfile, each part streamed from its chunks,
    so a part that inflates to a gigabyte is never in the test's memory."""
    rels = (
        b'<Relationship Id="rId1" Type="' + DOC_REL + b'/worksheet" '
        b'Target="worksheets/sheet1.xml"/>'
        b'<Relationship Id="rId3" Type="' + DOC_REL + b'/styles" Target="styles.xml"/>'
    )
    if shared is not None:
        rels += (
            b'<Relationship Id="rId2" Type="' + DOC_REL + b'/sharedStrings" '
            b'Target="sharedStrings.xml"/>'
        )
    parts: list[tuple[str, Chunks]] = [
        ("[Content_Types].xml", CONTENT_TYPES),
        (
            "_rels/.rels",
            b"<Relationships "
            + RELS_NS
            + b'><Relationship Id="rId1" Type="'
            + DOC_REL
            + b'/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        ),
        (
            "xl/workbook.xml",
            b"<workbook "
            + MAIN
            + b' xmlns:r="'
            + DOC_REL
            + b'">'
            + workbook_pr
            + b'<sheets><sheet name="Leads" sheetId="1" r:id="rId1"/></sheets></workbook>',
        ),
        (
            "xl/_rels/workbook.xml.rels",
            b"<Relationships " + RELS_NS + b">" + rels + b"</Relationships>",
        ),
        ("xl/styles.xml", STYLES),
        ("xl/worksheets/sheet1.xml", sheet),
    ]
    if shared is not None:
        parts.append(("xl/sharedStrings.xml", shared))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts:
            with archive.open(name, "w") as part:
                for chunk in [content] if isinstance(content, bytes) else content:
                    part.write(chunk)
    return path


def sheet_xml(rows: Iterable[bytes], dimension: bytes = b"") -> Iterator[bytes]:
    yield b"<worksheet " + MAIN + b">" + dimension + b"<sheetData>"
    yield from rows
    yield b"</sheetData></worksheet>"


def small_sheet() -> Iterator[bytes]:
    return sheet_xml(
        [
            b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
            b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>',
        ]
    )


def shared_strings_bomb(path: Path) -> Path:
    """~1 GB of shared strings (a million 1,000-character strings) in a small file."""
    entry = b"<si><t>" + b"lead" * 250 + b"</t></si>"
    block = entry * 1024

    def chunks() -> Iterator[bytes]:
        yield b"<sst " + MAIN + b">"
        for _ in range(1000):
            yield block
        yield b"</sst>"

    return write_workbook(path, small_sheet(), chunks())


def column_bomb(path: Path) -> Path:
    """A header row of one million cells."""
    cell = b'<c t="inlineStr"><is><t>h</t></is></c>'
    return write_workbook(
        path, sheet_xml([b'<row r="1">', *(cell * 10_000 for _ in range(100)), b"</row>"])
    )


def dimension_bomb(path: Path) -> Path:
    """A sheet claiming every cell Excel has, padded with empty rows and cells."""
    padding = b"".join(b'<c r="%s%d"/>' % (col, 0) for col in (b"A", b"B", b"C"))

    def rows() -> Iterator[bytes]:
        yield b'<row r="1"><c r="A1" t="inlineStr"><is><t>Prospect ID</t></is></c></row>'
        for start in range(2, 1_048_577, 10_000):
            yield b"".join(
                b'<row r="%d">' % n + padding.replace(b"0", b"%d" % n) + b"</row>"
                for n in range(start, min(start + 10_000, 1_048_577))
            )

    return write_workbook(path, sheet_xml(rows(), b'<dimension ref="A1:XFD1048576"/>'))


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: Any) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {
        "shared-strings": shared_strings_bomb(folder / "strings.xlsx"),
        "columns": column_bomb(folder / "columns.xlsx"),
        "dimension": dimension_bomb(folder / "dimension.xlsx"),
    }


BOMB_LIMITS = {
    # The zip directory gives the first two away before anything is inflated...
    "shared-strings": r"expands [\d,]+ times when unpacked; the limit is 100 times",
    "columns": r"expands [\d,]+ times when unpacked; the limit is 100 times",
    # ...except the padded sheet (row numbers compress less), which its dimension gives away.
    "dimension": r"declares 1,048,576 rows and 16,384 columns \(A1:XFD1048576\); the limits",
}
# ...and with the zip-level limits lifted, the XML-level limit behind it still holds.
LIFTED = {"inflate_ratio": 10**9, "unpacked_bytes": 10**12}
INNER_LIMITS = {
    "shared-strings": r"shared strings exceed 64 MB, the limit",
    "columns": r"columns; at most 500 are supported",
    "dimension": r"declares 1,048,576 rows and 16,384 columns \(A1:XFD1048576\); the limits",
}
KINDS = list(BOMB_LIMITS)


def test_the_attack_files_are_as_small_and_as_large_as_the_ones_measured(
    bombs: dict[str, Path],
) -> None:
    strings = zipfile.ZipFile(bombs["shared-strings"]).getinfo("xl/sharedStrings.xml")
    assert bombs["shared-strings"].stat().st_size < 5 * 1024 * 1024
    assert strings.file_size > 1_000_000_000
    assert bombs["columns"].stat().st_size < 1024 * 1024


@pytest.mark.parametrize("lifted", [False, True], ids=["limits", "zip-limits-lifted"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_attack_file_is_refused_by_the_preview_in_under_two_seconds(
    bombs: dict[str, Path], kind: str, lifted: bool, settings: Any
) -> None:
    if lifted:
        settings.IMPORT_LIMITS = LIFTED
    started = time.monotonic()
    with pytest.raises(
        upload_limits.TabularError, match=(INNER_LIMITS if lifted else BOMB_LIMITS)[kind]
    ):
        tabular.preview(bombs[kind])
    assert time.monotonic() - started < 2


def good_xlsx(path: Path) -> Path:
    cells = b'<c r="A%d" t="inlineStr"><is><t>%s</t></is></c>'
    return write_workbook(
        path,
        sheet_xml(
            [
                b'<row r="1">' + cells % (1, b"Prospect ID") + b"</row>",
                b'<row r="2">' + cells % (2, b"P1") + b"</row>",
            ]
        ),
    )


@pytest.mark.parametrize("kind", KINDS)
def test_each_attack_file_is_refused_by_the_worker_import_in_under_two_seconds(
    admin: Any, workshop: Workshop, bombs: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    # The file the worker finds may not be the one the preview accepted (a shared
    # volume, a later mapping): the worker's own reading is bounded too.
    good = good_xlsx(tmp_path / "good.xlsx")
    job, shape = import_services.import_upload(
        actor=admin, workshop=workshop, upload=SimpleUploadedFile("g.xlsx", good.read_bytes())
    )
    import_services.import_start(
        actor=admin, job=job, mapping=import_mapping.suggested_mapping(job, shape)
    )
    shutil.copyfile(bombs[kind], job.file.path)
    started = time.monotonic()
    job = import_run.import_run(job.pk)
    assert time.monotonic() - started < 2
    assert job.state == ImportState.FAILED
    assert any(
        re.search(pattern, job.message) for pattern in (BOMB_LIMITS[kind], INNER_LIMITS[kind])
    ), job.message
    assert Lead.objects.filter(workshop=workshop).count() == 0


CHILD = """
import json, os, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
import django
django.setup()
from pathlib import Path
from django.conf import settings
from feedback.imports import limits as upload_limits
from feedback.imports import read as tabular
settings.IMPORT_LIMITS = json.loads(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
try:
    tabular.preview(Path(sys.argv[1]))
    outcome = "accepted"
except upload_limits.TabularError as exc:
    outcome = str(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "growth_kb": after - before,
                  "seconds": time.monotonic() - started}))
"""


def parse_in_a_child(path: Path, limits: dict[str, int]) -> dict[str, Any]:
    """The parse in a process capped at 1 GiB of address space: a regression fails
    this test (MemoryError) instead of taking the machine."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadworkshop.settings"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), json.dumps(limits)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("lifted", [False, True], ids=["limits", "zip-limits-lifted"])
@pytest.mark.parametrize("kind", KINDS)
def test_parsing_an_attack_file_grows_the_process_by_less_than_200_mb(
    bombs: dict[str, Path], kind: str, lifted: bool
) -> None:
    result = parse_in_a_child(bombs[kind], LIFTED if lifted else {})
    pattern = (INNER_LIMITS if lifted else BOMB_LIMITS)[kind]
    assert re.search(pattern, result["outcome"]), result
    assert result["growth_kb"] < 200 * 1024, result


def test_a_refused_attack_upload_through_the_page_answers_400_with_the_message_at_the_file(
    admin: Any, workshop: Workshop, bombs: dict[str, Path]
) -> None:
    client = Client()
    client.force_login(admin)
    for kind in KINDS:
        response = client.post(
            reverse("feedback:import_list", args=[workshop.slug]),
            {"kind": "leads", "file": SimpleUploadedFile("x.xlsx", bombs[kind].read_bytes())},
        )
        assert response.status_code == 400
        errors = response.context["form"].errors["file"]
        assert any(re.search(BOMB_LIMITS[kind], e) for e in errors), errors
    assert not ImportJob.objects.exists()


# ------------------------------------------------------------------ XML-level defences


def refused(path: Path, pattern: str) -> None:
    started = time.monotonic()
    with pytest.raises(upload_limits.TabularError, match=pattern):
        list(tabular.open_rows(path, "utf-8", ","))
    assert time.monotonic() - started < 2


def test_a_workbook_with_a_doctype_is_refused_so_no_entity_can_expand(tmp_path: Path) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    sheet = laughs + b"<worksheet " + MAIN + b'><sheetData><row><c t="inlineStr"><is><t>'
    sheet += b"&lol2;</t></is></c></row></sheetData></worksheet>"
    refused(write_workbook(tmp_path / "laughs.xlsx", sheet), "DOCTYPE")


def test_an_endless_xml_comment_is_refused_at_the_token_limit(
    tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_LIMITS = {"inflate_ratio": 10**6}  # else the ratio refuses it first
    comment = [b"<!--", *(b"x" * 65536 for _ in range(64)), b"-->"]
    path = write_workbook(tmp_path / "comment.xlsx", sheet_xml(comment))
    refused(path, "longer than 1024 KB")


def test_a_cell_longer_than_the_cell_limit_is_refused(tmp_path: Path) -> None:
    cell = b'<row r="1"><c t="inlineStr"><is><t>' + b"y" * 100_001 + b"</t></is></c></row>"
    refused(write_workbook(tmp_path / "cell.xlsx", sheet_xml([cell])), "longer than 100,000")


def test_a_cell_reference_past_the_column_limit_is_refused(tmp_path: Path) -> None:
    row = b'<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row>'
    refused(write_workbook(tmp_path / "xfd.xlsx", sheet_xml([row])), "16,384 columns")


def test_a_row_number_past_the_row_limit_is_refused(tmp_path: Path, settings: Any) -> None:
    settings.IMPORT_LIMITS = {"rows": 1000}
    rows = [b'<row r="1"><c><v>1</v></c></row>', b'<row r="1002"><c><v>1</v></c></row>']
    refused(write_workbook(tmp_path / "far.xlsx", sheet_xml(rows)), "more than 1,000 data rows")


def test_too_many_shared_strings_are_refused_by_count(tmp_path: Path, settings: Any) -> None:
    settings.IMPORT_LIMITS = {"shared_strings": 10}
    strings = b"<sst " + MAIN + b">" + b"<si><t>a</t></si>" * 11 + b"</sst>"
    path = write_workbook(tmp_path / "sst.xlsx", small_sheet(), strings)
    refused(path, "more than 10 shared strings")


def test_a_zip_with_too_many_parts_is_refused_from_its_directory(
    tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_LIMITS = {"zip_entries": 6}
    path = good_xlsx(tmp_path / "parts.xlsx")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("docProps/extra.xml", b"<x/>")
    refused(path, "7 parts; at most 6")


def test_the_inflated_bytes_are_counted_whatever_the_directory_declares(tmp_path: Path) -> None:

    path = good_xlsx(tmp_path / "counted.xlsx")
    limits = upload_limits.Limits()
    with zipfile.ZipFile(path) as archive:
        budget = xlsx_reader._Budget(archive, limits)
        budget.left = 100  # as if the parts before had used the rest
        part = xlsx_reader._Part(archive, "xl/worksheets/sheet1.xml", budget)
        with pytest.raises(upload_limits.TabularError, match="unpacks to more than 2,048 MB"):
            part.read()


def test_a_hand_written_workbook_reads_exactly_as_openpyxl_read_it(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    rows = [
        b'<row r="1"><c r="A1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><r><t>In</t>'
        b'</r><r><t>line</t></r></is></c><c r="D1" t="b"><v>1</v></c></row>',
        b'<row r="3"><c r="A3" s="1"><v>46112</v></c><c r="B3" s="2"><v>46112.5</v></c>'
        b'<c r="C3"><v>3.0</v></c><c r="D3" t="e"><v>#N/A</v></c><c r="E3"><v>1e3</v></c>'
        b'<c r="F3"><f>1+1</f></c></row>',
    ]
    strings = (
        b"<sst " + MAIN + b"><si><t>zero</t></si><si><r><t>Chlo\xc3\xa9 </t></r><r><t>M"
        b'</t></r><rPh sb="0" eb="1"><t>phonetic</t></rPh></si></sst>'
    )
    for pr in (b"", b'<workbookPr date1904="1"/>'):
        path = write_workbook(
            tmp_path / "hand.xlsx", sheet_xml(rows, b'<dimension ref="A1:F3"/>'), strings, pr
        )
        with path.open("rb") as handle:
            book = load_workbook(handle, read_only=True, data_only=True)
            expected = [
                [upload_limits.cell_text(v) for v in row]
                for row in book.worksheets[0].iter_rows(values_only=True)
            ]
            book.close()
        assert list(tabular.open_rows(path, "utf-8", ",")) == expected
        assert expected[0][0] == "Chloé M" and expected[2][0].startswith(("2026", "2030"))


# ------------------------------------------------------------------ CSV


def test_a_csv_with_one_giant_cell_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cell.csv"
    path.write_text("a,b\n1," + "z" * 150_000 + "\n")
    refused(path, "Row 2 has a cell longer than 100,000 characters")


def test_a_csv_with_too_many_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(501)) + "\n" + "1\n")
    refused(path, "501 columns; at most 500")


def test_an_endless_csv_record_is_refused_at_the_row_limit(tmp_path: Path) -> None:
    path = tmp_path / "endless.csv"
    path.write_text("a,b\n" + "x," * 2_000_000)  # two million fields on one line
    refused(path, "Row 2 is longer than 1,000,000 characters")
    path.write_text('a,b\n"' + "never closed\n" * 100_000)
    refused(path, "Row 2 is longer than 1,000,000 characters")


def test_a_csv_with_too_many_rows_is_refused_at_upload_and_in_the_worker(
    admin: Any, workshop: Workshop, settings: Any
) -> None:
    body = "Prospect ID,Lead Name\n" + "".join(f"P{i},N{i}\n" for i in range(50))
    settings.IMPORT_LIMITS = {"rows": 20}
    with pytest.raises(Exception, match="more than 20 data rows"):
        import_services.import_upload(
            actor=admin, workshop=workshop, upload=SimpleUploadedFile("l.csv", body.encode())
        )
    settings.IMPORT_LIMITS = {}
    job, shape = import_services.import_upload(
        actor=admin, workshop=workshop, upload=SimpleUploadedFile("l.csv", body.encode())
    )
    import_services.import_start(
        actor=admin, job=job, mapping=import_mapping.suggested_mapping(job, shape)
    )
    settings.IMPORT_LIMITS = {"rows": 20}
    job = import_run.import_run(job.pk)
    assert job.state == ImportState.FAILED and "more than 20 data rows" in job.message
    assert Lead.objects.filter(workshop=workshop).count() == 0
