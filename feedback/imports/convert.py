"""Stage 4 of an import: converting cells to the fields' types. Each distinct value of
a typed column is converted once (canonical numbers and ISO dates by an SQL cast, the
rest by the Python rules of read.py), then every row is checked and converted in one
INSERT … SELECT that keeps the reason for each bad cell."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from definitions import rules
from feedback.imports import read as tabular
from feedback.models import ImportKind, Lead

if TYPE_CHECKING:
    pass
from feedback.imports import presets
from feedback.imports.mapping import (
    BUILTIN,
    BUILTIN_TYPES,
    KEY_RE,
    Plan,
    Target,
    date_separator,
    native_value,
)

TEXT_LIMITS: dict[str, int] = {
    f.name: f.max_length for f in Lead._meta.concrete_fields if isinstance(f.max_length, int)
}

# Why a cell could not be imported. Codes travel through SQL; the words are added
# in Python, in the worker's language.
E_CELL, E_REQUIRED, E_ID_LONG, E_INVALID, E_TEXT_LONG, E_KIND = 1, 2, 3, 4, 5, 6

ID_LIMIT = 200

CUSTOM_TEXT_LIMIT = 500

MAX_NEW_CHOICES = 200

JSON_PAIRS = 50


@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str
    # Empty for a rejected row; for a cell left empty in an imported row, says so.
    note: str = ""


def _choice(spec: rules.FieldSpec | None, raw: str) -> str | None:
    if spec is None:
        return raw
    folded = raw.casefold()
    for code in spec.choices:
        if code.casefold() == folded or spec.choice_label(code).casefold() == folded:
            return code
    return None


# convert_value's answer for a value the mapping says to leave empty: not an error.
LEAVE_EMPTY = object()


def convert_value(t: Target, raw: str, options: dict[str, Any]) -> Any:
    """One non-empty cell of a typed column as its value, None if it is not one, or
    LEAVE_EMPTY when the column's value map says so."""
    if t.recodes and t.spec is not None:
        key = presets.value_key(raw)
        if t.values and key in t.values:
            code = t.values[key]
            return LEAVE_EMPTY if code is None else code
        native = native_value(t.spec, raw)
        if native is not None:
            return native
        if t.add_choices:
            return raw.strip()[:200]  # a new choice (fill_lookup collects it)
        if t.unmapped == "empty":
            return LEAVE_EMPTY
        return t.default if t.unmapped == "default" else None
    order = options["date_order"]
    if t.date_orders:
        order = t.date_orders.get(date_separator(raw) or "", order)
    if t.kind == "at" or (t.type == "date" and t.kind == "builtin"):
        return tabular.parse_date(raw, order)
    if t.type == "date":
        moment = tabular.parse_date(raw, order)
        return moment.date().isoformat() if moment is not None else None
    if t.type == "number":
        return tabular.parse_number(raw, options["decimal"])
    if t.type == "boolean":
        return tabular.parse_bool(raw)
    return _choice(t.spec, raw)


OUTCOME_FIELDS = frozenset(
    spec.key for spec in rules.BUILTIN_FIELDS if spec.category == rules.Category.OUTCOME
)


def lenient(t: Target, options: dict[str, Any]) -> bool:
    """Whether a cell of this column that cannot be converted (a date in another
    format, a number with stray text) is left empty with a warning instead of
    rejecting its row: unless the mapping is strict, in any typed column that is not
    the outcome. Choices and value maps are not converted but chosen: a value nobody
    mapped rejects its row as the mapping says."""
    return (
        not options.get("strict")
        and t.kind in ("builtin", "custom")
        and t.type in ("number", "date", "boolean")
        and not t.recodes
        and t.key not in OUTCOME_FIELDS
    )


def _needs_lookup(t: Target) -> bool:
    return t.kind == "at" or (
        t.kind in ("builtin", "custom")
        and (t.type in ("number", "boolean", "date") or (t.type == "choice" and t.spec is not None))
    )


def reason_text(t: Target, code: int) -> str:
    if code == E_CELL:
        return _("longer than 10,000 characters")
    if code == E_REQUIRED:
        return _("required")
    if code == E_ID_LONG:
        return _("longer than 200 characters")
    if code == E_KIND:
        return _("unknown activity kind")
    if code == E_TEXT_LONG:
        return _("longer than %(n)s characters") % {"n": _text_limit(t)}
    if t.kind == "at":
        return _("not a date and time")
    return {
        "number": _("not a number"),
        "boolean": _("not yes/no"),
        "date": _("not a date"),
    }.get(t.type, _("not one of the allowed values"))


def _text_limit(t: Target) -> int:
    if t.kind in ("builtin", "name", "email"):
        return TEXT_LIMITS.get(t.key or t.kind, CUSTOM_TEXT_LIMIT)
    return CUSTOM_TEXT_LIMIT


# Exactly the strings that tabular.parse_number / parse_date read the same way as a
# PostgreSQL cast: digits with an optional grouping and decimal part; ISO dates whose
# day exists in every month (29 to 31 go through Python, which knows the calendar).
_NUM_DOT = r"^[+-]?([0-9]{1,15}|[0-9]{1,3}(,[0-9]{3}){1,4})([.][0-9]{1,20})?$"

_NUM_COMMA = r"^[+-]?([0-9]{1,15}|[0-9]{1,3}([.][0-9]{3}){1,4})(,[0-9]{1,20})?$"

_ISO_DAY = r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"

_ISO_TIME = r"[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?"

# PostgreSQL refuses offsets beyond ±15:59; real ones end at ±14:00.
_ISO_ZONE = r"(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])"

_ISO_NAIVE = f"^{_ISO_DAY}({_ISO_TIME})?$"

_ISO_AWARE = f"^{_ISO_DAY}{_ISO_TIME}{_ISO_ZONE}$"


class ConversionSql:
    """The SQL of one import run, built from column numbers, catalog keys (checked
    against KEY_RE) and constants only; user values stay in tables."""

    def __init__(self, plan: Plan, width: int) -> None:
        self.plan = plan
        self.width = width
        self.pg = connection.vendor == "postgresql"
        # Typed columns whose every value is canonical (decide_inline): the row query
        # casts their cells itself instead of looking each one up.
        self.inline: set[int] = set()
        for t in plan.targets:
            if t.kind == "custom" and not KEY_RE.match(t.key):
                raise ValidationError(_("Column “%(c)s”: invalid field key.") % {"c": t.header})

    # -- pieces
    def trimmed(self, expr: str) -> str:
        ws = "chr" if self.pg else "char"
        chars = " || ".join(f"{ws}({n})" for n in (32, 9, 10, 13, 11, 12, 160))
        return f"nullif({'btrim' if self.pg else 'trim'}({expr}, {chars}), '')"

    def cell(self, t: Target) -> str:
        """The cell in the row query: raw for typed columns (their lookup is keyed by
        the raw text and trims once per distinct value), trimmed for the others."""
        return f"r.c{t.index}" if _needs_lookup(t) else f"r.x{t.index}"

    def missing(self, t: Target) -> str:
        """The cell is empty or one of the null tokens (typed columns: says the lookup)."""
        x = self.cell(t)
        if t.index in self.inline:
            return f"({x} IS NULL)"  # none of its values is a null token
        if _needs_lookup(t):
            return f"({x} IS NULL OR l{t.index}.missing)"
        return f"({x} IS NULL OR lower({x}) IN (SELECT token FROM import_nulls))"  # noqa: S608

    def fast(self, t: Target, x: str) -> str | None:
        """A condition on the text `x` under which `cast(t, x)` is exact, or None."""
        if not self.pg:
            return None
        if t.type == "number" and t.kind in ("builtin", "custom"):
            pattern = _NUM_COMMA if self.plan.options["decimal"] == "comma" else _NUM_DOT
            return f"{x} ~ '{pattern}'"
        if t.kind == "at" or t.type == "date":
            return f"({x} ~ '{_ISO_NAIVE}' OR {x} ~ '{_ISO_AWARE}')"
        return None

    def cast(self, t: Target, x: str) -> str:
        if t.type == "number" and t.kind in ("builtin", "custom"):
            if self.plan.options["decimal"] == "comma":
                return f"replace(replace({x}, '.', ''), ',', '.')::double precision"
            return f"replace({x}, ',', '')::double precision"
        if t.kind == "custom":  # a custom date keeps the calendar day as written
            return f"left({x}, 10)"
        # `x` passed the fast check: it has an offset exactly when it ends in Z or its
        # sixth-last character is a sign (+01:00), which costs less than a regular
        # expression per cell.
        aware = f"(right({x}, 1) = 'Z' OR substr({x}, length({x}) - 5, 1) IN ('+', '-'))"
        return (
            f"CASE WHEN length({x}) > 10 AND {aware} THEN {x}::timestamptz"
            f" ELSE {x}::timestamp AT TIME ZONE 'UTC' END"
        )

    def lookup_column(self, t: Target) -> str:
        if t.kind == "at" or (t.type == "date" and t.kind == "builtin"):
            return "ts"
        if t.type == "number":
            return "num"
        if t.type == "boolean":
            return "flag"
        return "txt"

    def error(self, t: Target) -> str:
        x = self.cell(t)
        whens = [f"WHEN length({x}) > {tabular.MAX_CELL} THEN {E_CELL}"]
        if t.kind in ("external_id", "kind", "at"):
            code = E_REQUIRED if t.kind != "at" else E_INVALID
            whens.append(f"WHEN {self.missing(t)} THEN {code}")
        else:
            whens.append(f"WHEN {self.missing(t)} THEN NULL")
        if t.kind in ("external_id", "kind"):
            whens.append(f"WHEN length({x}) > {ID_LIMIT} THEN {E_ID_LONG}")
            if t.kind == "kind":
                whens.append(f"WHEN {x} NOT IN (SELECT kind FROM import_kinds) THEN {E_KIND}")  # noqa: S608
        elif t.index in self.inline:
            pass  # every value it holds converts
        elif _needs_lookup(t):
            whens.append(f"WHEN l{t.index}.ok THEN NULL ELSE {E_INVALID}")
        else:
            whens.append(f"WHEN length({x}) > {_text_limit(t)} THEN {E_TEXT_LONG}")
        return f"CASE {' '.join(whens)} END"

    def value(self, t: Target) -> str:
        x = self.cell(t)
        if t.kind in ("external_id", "kind"):
            return x
        if not _needs_lookup(t):
            return f"CASE WHEN {self.missing(t)} THEN NULL ELSE {x} END"
        if t.index in self.inline:
            # A cell too long to be looked at is an error above, and never cast.
            return f"CASE WHEN length({x}) <= {tabular.MAX_CELL} THEN {self.cast(t, x)} END"
        return f"l{t.index}.{self.lookup_column(t)}"

    def column_type(self, slot: str) -> str:
        """The staging column type of a built-in field (or name, e-mail: text)."""
        kind = BUILTIN_TYPES.get(slot, "text")
        if kind == "date":
            return "timestamptz" if self.pg else "text"
        return {"number": "double precision", "boolean": "boolean"}.get(kind, "text")

    def null(self, slot: str) -> str:
        """An unmapped column: a NULL of the column's type (PostgreSQL types a bare
        NULL in a subquery as text)."""
        if not self.pg:
            return f"NULL AS v_{slot}"
        return f"NULL::{self.column_type(slot)} AS v_{slot}"

    def custom_json(self, customs: list[Target]) -> str:
        if not customs:
            return "'{}'::jsonb" if self.pg else "'{}'"
        # A function takes at most 100 arguments (PostgreSQL; SQLite 127): a wide CRM
        # export's custom fields are built in groups and merged.
        groups = [customs[n : n + JSON_PAIRS] for n in range(0, len(customs), JSON_PAIRS)]
        if self.pg:
            return " || ".join(
                f"jsonb_build_object({', '.join(f"'{t.key}', {self.value(t)}" for t in group)})"
                for group in groups
            )
        objects = []
        for group in groups:
            parts = []
            for t in group:
                value = self.value(t)
                if t.type == "boolean":
                    value = f"CASE {value} WHEN 1 THEN json('true') WHEN 0 THEN json('false') END"
                parts.append(f"'{t.key}', {value}")
            objects.append(f"json_object({', '.join(parts)})")
        # json_patch drops the keys whose value is null: the merge treats a missing
        # key of a mapped field as empty, as it does a null one.
        merged = objects[0]
        for more in objects[1:]:
            merged = f"json_patch({merged}, {more})"
        return merged

    # -- statements
    def raw_table(self) -> str:
        cells = ", ".join(f"c{i} text" for i in range(self.width))
        row_no = (
            "row_no bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 2)"
            if self.pg
            else "row_no integer PRIMARY KEY"
        )
        return f"CREATE TEMP TABLE import_raw ({row_no}, {cells})"

    def raw_rows(self) -> str:
        # OFFSET 0 keeps the planner from inlining the subquery, which would trim each
        # cell once per reference instead of once.
        cols = sorted(
            {f"c{t.index}" for t in self.plan.targets if _needs_lookup(t)}
            | {
                f"{self.trimmed(f'c{t.index}')} AS x{t.index}"
                for t in self.plan.targets
                if not _needs_lookup(t)
            }
        )
        xs = ", ".join(cols) or "1 AS nothing"
        fence = "OFFSET 0" if self.pg else "LIMIT -1 OFFSET 0"
        return f"(SELECT row_no, {xs} FROM import_raw {fence})"  # noqa: S608

    def distinct_values(self) -> str | None:
        """One statement listing every distinct (column, raw value) of the typed columns
        with how it converts: 'null' (empty or a null token), 'fast' (an exact SQL
        cast) or 'py' (tabular's rules). PostgreSQL reads the table once for all
        columns; the regular expressions run once per distinct value, not per row."""
        typed = [t for t in self.plan.targets if _needs_lookup(t)]
        if not typed:
            return None
        limit = tabular.MAX_CELL
        if self.pg:
            pairs = ", ".join(f"({t.index}, r.c{t.index})" for t in typed)
            source = (
                "SELECT DISTINCT v.col, v.raw FROM import_raw r"  # noqa: S608
                f" CROSS JOIN LATERAL (VALUES {pairs}) v(col, raw)"
                f" WHERE v.raw IS NOT NULL AND length(v.raw) <= {limit}"
            )
        else:
            source = " UNION ALL ".join(
                f"SELECT DISTINCT {t.index} AS col, c{t.index} AS raw FROM import_raw"  # noqa: S608
                f" WHERE c{t.index} IS NOT NULL AND length(c{t.index}) <= {limit}"
                for t in typed
            )
        # 'fast' values that are already trimmed can be cast as they stand in the
        # row query (decide_inline); 'padded' ones through the lookup.
        fast = " ".join(
            f"WHEN d.col = {t.index} AND {check}"
            " THEN CASE WHEN d.v = d.raw THEN 'fast' ELSE 'padded' END"
            for t in typed
            if (check := self.fast(t, "d.v"))
        )
        # The trimmed value once per distinct value, not once per WHEN (OFFSET 0 keeps
        # the planner from folding the subquery back in).
        fence = "OFFSET 0" if self.pg else "LIMIT -1 OFFSET 0"
        trimmed = self.trimmed("s.raw")
        return (
            "INSERT INTO import_distinct (col, raw, how) SELECT d.col, d.raw, CASE"  # noqa: S608
            " WHEN d.v IS NULL OR lower(d.v) IN (SELECT token FROM import_nulls)"
            f" THEN 'null' {fast} ELSE 'py' END"
            f" FROM (SELECT s.col, s.raw, {trimmed} AS v FROM ({source}) s {fence}) d"
        )

    def decide_inline(self, cursor: Any) -> None:
        """The typed columns all of whose values are canonical and trimmed: their
        cells are cast in the row query, with no lookup to fill or join (PostgreSQL;
        a column of a million distinct dates or amounts is the usual case)."""
        if not self.pg:
            return
        cursor.execute("SELECT col FROM import_distinct GROUP BY col HAVING bool_and(how = 'fast')")
        self.inline = {int(col) for (col,) in cursor.fetchall()}

    def lookup_fast(self) -> list[str]:
        statements = []
        value = self.trimmed("raw")
        for t in self.plan.targets:
            if _needs_lookup(t) and self.fast(t, value) and t.index not in self.inline:
                statements.append(
                    f"INSERT INTO import_lookup (col, raw, missing, ok, {self.lookup_column(t)})"  # noqa: S608
                    f" SELECT col, raw, false, true, {self.cast(t, value)} FROM import_distinct"
                    f" WHERE col = {t.index} AND how IN ('fast', 'padded')"
                )
        return statements

    def stage_insert(self) -> str:
        plan = self.plan
        joins = " ".join(
            f"LEFT JOIN (SELECT raw, ok, missing, {self.lookup_column(t)} FROM import_lookup"  # noqa: S608
            f" WHERE col = {t.index}) l{t.index} ON l{t.index}.raw = r.c{t.index}"
            for t in plan.targets
            if _needs_lookup(t) and t.index not in self.inline
        )
        errors = [f"{self.error(t)} AS e{t.index}" for t in plan.targets]
        bad = (
            " OR ".join(
                f"(e{t.index} IS NOT NULL AND e{t.index} <> {E_INVALID})"
                if lenient(t, plan.options)
                else f"e{t.index} IS NOT NULL"
                for t in plan.targets
            )
            or "false"
        )
        if plan.kind == ImportKind.ACTIVITIES:
            by_kind = {t.kind: t for t in plan.targets}
            values = [f"{self.value(by_kind[k])} AS v_{k}" for k in ("external_id", "kind", "at")]
            names = "external_id, kind, at"
            outer = "v_external_id, v_kind, v_at"
        else:
            by_slot = {t.key or t.kind: t for t in plan.targets if t.kind != "custom"}
            values = [
                f"{self.value(by_slot[s])} AS v_{s}" if s in by_slot else self.null(s)
                for s in ("external_id", "name", "email", *BUILTIN)
            ]
            parts = [t for t in plan.targets if t.kind == "name"]
            if len(parts) > 1:
                joined = " || ' ' || ".join(f"coalesce({self.value(t)}, '')" for t in parts)
                limit = TEXT_LIMITS["name"]
                values[1] = f"substr(nullif(trim({joined}), ''), 1, {limit}) AS v_name"
            values.append(
                f"{self.custom_json([t for t in plan.targets if t.kind == 'custom'])} AS v_custom"
            )
            names = ", ".join(["external_id", "name", "email", *BUILTIN, "custom"])
            outer = ", ".join(
                f"v_{s}" for s in ("external_id", "name", "email", *BUILTIN, "custom")
            )
        error_cols = ", ".join(f"e{t.index}" for t in plan.targets)
        return (
            f"INSERT INTO import_stage (row_no, bad, {error_cols}, {names})"  # noqa: S608
            f" SELECT row_no, {bad}, {error_cols}, {outer} FROM ("
            f"SELECT r.row_no, {', '.join(errors + values)} FROM {self.raw_rows()} r {joins}) q"
        )

    def stage_table(self) -> str:
        ts = "timestamptz" if self.pg else "text"
        errors = ", ".join(f"e{t.index} smallint" for t in self.plan.targets)
        if self.plan.kind == ImportKind.ACTIVITIES:
            cols = f"external_id text, kind text, at {ts}"
        else:
            builtin = ", ".join(f"{key} {self.column_type(key)}" for key in BUILTIN)
            json_type = "jsonb" if self.pg else "text"
            cols = f"external_id text, name text, email text, {builtin}, custom {json_type}"
        return f"CREATE TEMP TABLE import_stage (row_no bigint, bad boolean, {errors}, {cols})"


LOOKUP_BATCH = 20_000

ANALYZE_AFTER = 10_000


def fill_lookup(cursor: Any, sql: ConversionSql, plan: Plan) -> None:
    """Convert each distinct value of each typed column once: null tokens and canonical
    values in SQL, the rest in Python a batch at a time, so a column of a million
    distinct dates never sits in memory."""
    distinct = sql.distinct_values()
    if distinct is None:
        return
    cursor.execute(distinct)
    sql.decide_inline(cursor)
    cursor.execute(
        "INSERT INTO import_lookup (col, raw, missing, ok)"
        " SELECT col, raw, true, false FROM import_distinct WHERE how = 'null'"
    )
    for statement in sql.lookup_fast():
        cursor.execute(statement)
    by_index = {t.index: t for t in plan.targets}
    last = 0
    while True:
        cursor.execute(
            "SELECT id, col, raw FROM import_distinct WHERE how = 'py' AND id > %s"
            " ORDER BY id LIMIT %s",
            [last, LOOKUP_BATCH],
        )
        batch = cursor.fetchall()
        if not batch:
            break
        last = batch[-1][0]
        rows = []
        for _id, col, raw in batch:
            t = by_index[col]
            value = convert_value(t, raw.strip(), plan.options)
            slot = sql.lookup_column(t)
            new_choice = t.add_choices and t.spec is not None and isinstance(value, str)
            if new_choice and t.spec is not None and value not in t.spec.choices:
                added = plan.added_choices.setdefault(t.key, [])
                if value not in added:
                    added.append(value)
            if value is LEAVE_EMPTY:
                rows.append((col, raw, True, False, None, None, None, None))
                continue
            if slot == "ts" and value is not None:
                # In UTC: PostgreSQL refuses the odd offsets Python accepts (+23:59).
                value = value.astimezone(UTC)
                if not sql.pg:
                    value = connection.ops.adapt_datetimefield_value(value)
            rows.append(
                (
                    col,
                    raw,
                    False,
                    value is not None,
                    value if slot == "num" else None,
                    value if slot == "ts" else None,
                    value if slot == "txt" else None,
                    value if slot == "flag" else None,
                )
            )
        names = "col, raw, missing, ok, num, ts, txt, flag"
        if sql.pg:
            with cursor.cursor.copy(f"COPY import_lookup ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO import_lookup ({names}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                rows,
            )
    cursor.execute("CREATE INDEX import_lookup_key ON import_lookup (col, raw)")


def choices_to_add(cursor: Any, sql: ConversionSql, plan: Plan) -> dict[str, list[str]]:
    """A new choice field allows the values its column holds, in order of appearance."""
    found: dict[str, list[str]] = {}
    for t in plan.targets:
        if t.kind != "custom" or t.spec is not None or t.type != "choice":
            continue
        cursor.execute(
            f"SELECT r.x{t.index} FROM {sql.raw_rows()} r"  # noqa: S608
            f" JOIN import_stage s ON s.row_no = r.row_no AND NOT s.bad"
            f" WHERE NOT {sql.missing(t)}"
            f" GROUP BY r.x{t.index} ORDER BY min(r.row_no) LIMIT {MAX_NEW_CHOICES + 1}"
        )
        found[t.key] = [str(v) for (v,) in cursor.fetchall()]
        if len(found[t.key]) > MAX_NEW_CHOICES:
            raise ValidationError(
                _(
                    "Column “%(c)s” has more than %(n)s different values: import it as "
                    "a text field instead of a choice."
                )
                % {"c": t.header, "n": MAX_NEW_CHOICES}
            )
    return found
