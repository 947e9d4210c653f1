"""The upload limits, in one place: every file is read within them, in the web process
and in the worker, and refused past any of them with a message naming the limit
(docs/trust.md lists them)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _


class TabularError(ValueError):
    """A file that cannot be read as a table; the message says why, for the user."""


@dataclass(frozen=True)
class Limits:
    # Both formats.
    columns: int = 500  # 2,000 would not fit: PostgreSQL tables hold at most 1,600
    rows: int = 5_000_000  # data rows; 200 MB of CSV at 40 bytes a row
    cell_chars: int = 100_000
    row_chars: int = 1_000_000  # bounds what the csv module holds for one record
    # XLSX: the zip container, checked from its central directory before inflating,
    # then again on the bytes actually inflated (declared sizes can lie).
    zip_entries: int = 10_000
    zip_directory_bytes: int = 4 * 1024 * 1024
    inflate_ratio: int = 100  # Apache POI's default for zip bombs
    ratio_grace_bytes: int = 1024 * 1024  # a part this small cannot be a bomb
    unpacked_bytes: int = 2 * 1024 * 1024 * 1024  # all parts together, inflated
    # XLSX: what the workbook's XML may make us keep.
    shared_strings: int = 4_000_000
    shared_string_bytes: int = 64 * 1024 * 1024  # UTF-8, stored packed
    styles: int = 65_536  # Excel itself stops at 64,000 cell formats
    xml_token_bytes: int = 1024 * 1024  # one tag, comment or attribute


DEFAULT_LIMITS = Limits()


def current_limits() -> Limits:
    return replace(DEFAULT_LIMITS, **getattr(settings, "IMPORT_LIMITS", {}))


def too_many_columns(n: int | str, limits: Limits) -> TabularError:
    return TabularError(
        _("The file has %(n)s columns; at most %(max)s are supported.")
        % {"n": n, "max": limits.columns}
    )


def too_many_rows(limits: Limits) -> TabularError:
    return TabularError(
        _("The file has more than %(max)s data rows; at most %(max)s are supported.")
        % {"max": f"{limits.rows:,}"}
    )


def cell_too_long(row: int, limits: Limits) -> TabularError:
    return TabularError(
        _("Row %(row)s has a cell longer than %(max)s characters, the limit for one cell.")
        % {"row": row, "max": f"{limits.cell_chars:,}"}
    )


def row_too_long(row: int, limits: Limits) -> TabularError:
    return TabularError(
        _("Row %(row)s is longer than %(max)s characters, the limit for one row.")
        % {"row": row, "max": f"{limits.row_chars:,}"}
    )


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
