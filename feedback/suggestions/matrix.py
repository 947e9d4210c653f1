"""Discovery's data, read from the database as sets: every lead's label and split, the
candidate criteria (one GROUP BY pass per field), and one bit per lead and criterion.

The bits come from the backtest's own SQL compiler (feedback.backtests.sql): the
version's criteria and every candidate are compiled into one statement whose 0/1
columns are packed into 62-bit integers in SQL, so a million leads come back as a few
integers each, and each lead is judged at its decision moment exactly as a backtest
judges it. Nothing here loops over leads in Python; numpy unpacks the bits.

The split: a lead is in the learning part when ``((id * 2654435761) mod 2^32) * 100
div 2^32 < 70`` (Knuth's multiplicative hash, its high bits), else in the validation
part. Deterministic, the same in SQL and numpy, and independent of anything about the
lead but its id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone

from definitions import rules
from definitions.models import CustomField, Workshop
from feedback.backtests.sql import (
    BUILTIN,
    CustomValue,
    compile_range,
    field_present,
    fold_prepare,
    lead_value,
)
from feedback.models import Lead, LeadActivity, LeadFeedback, Verdict

LEARN_SHARE = 70  # percent of labelled leads learned from; the rest validates
HASH_MULTIPLIER = 2654435761
WORD_BITS = 62  # bits per packed integer: clear of the sign bit on every database
MAX_CANDIDATES = 4 * WORD_BITS
CHUNK_IDS = 200_000  # lead ids per statement: bounded memory and a progress step
# Built-in fields that are the outcome itself: never a criterion to learn.
OUTCOME_FIELDS = frozenset({"converted", "deal_value", "closed_at", "reached_stage"})
DAY_SECONDS = 86_400.0
QUANTILES = 20  # numeric thresholds at every 5 % of the learning leads


def bucket_expression(column: str = "id") -> ExpressionWrapper[Any]:
    """The lead's split bucket (0-99) in SQL, from its id (or an activity's lead_id)."""
    return ExpressionWrapper(
        (F(column) * HASH_MULTIPLIER) % 4294967296 * 100 / 4294967296, output_field=IntegerField()
    )


def in_buckets(below: int, start: int, end: int) -> Callable[[str], Q]:
    """A condition on a lead id column: its bucket is below ``below`` (the learning
    sample) or in start <= bucket < end (the validation sample)."""

    def condition(column: str) -> Q:
        bucket = bucket_expression(column)
        return Q(LessThan(bucket, below)) | (
            Q(GreaterThanOrEqual(bucket, start)) & Q(LessThan(bucket, end))
        )

    return condition


def buckets(ids: np.ndarray) -> np.ndarray:
    """The same buckets in numpy."""
    hashed = (ids.astype(np.uint64) * np.uint64(HASH_MULTIPLIER)) % np.uint64(2**32)
    return (hashed * np.uint64(100) // np.uint64(2**32)).astype(np.int16)


def good_outcome(prefix: str = "") -> Q:
    """A lead that converted or reached an opportunity (the accuracy page's "good")."""
    return Q(**{f"{prefix}converted": True}) | Q(
        **{f"{prefix}reached_stage__in": ["opportunity", "customer"]}
    )


def known_outcome(prefix: str = "") -> Q:
    return Q(**{f"{prefix}converted__isnull": False}) | Q(
        **{f"{prefix}reached_stage__isnull": False}
    )


# --------------------------------------------------------------------------- labels


@dataclass
class Labels:
    """Every lead of the workshop, by id: its label for the target (1 good, 0 bad, -1
    unknown), its split, and its creation day (for leads a week)."""

    ids: np.ndarray  # int64, ascending
    y: np.ndarray  # int8
    bucket: np.ndarray  # int16: the split bucket, 0-99
    learn: np.ndarray  # bool: in the learning part (labelled or not)
    weeks: float  # the span of lead creation, in weeks (at least 1)


def _verdict_labels(workshop: Workshop) -> tuple[np.ndarray, np.ndarray]:
    """Leads with current verdicts and their majority (1 good, 0 not a lead, -1 tie)."""
    rows = (
        LeadFeedback.objects.filter(workshop=workshop, superseded_at__isnull=True)
        .values("lead_id")
        .annotate(
            good=Count("id", filter=Q(verdict__in=[Verdict.GOOD, Verdict.MISSED])),
            bad=Count("id", filter=Q(verdict=Verdict.NOT_A_LEAD)),
        )
        .order_by("lead_id")
        .values_list("lead_id", "good", "bad")
    )
    table = np.array(list(rows), dtype=np.int64).reshape(-1, 3)
    votes = np.sign(table[:, 1] - table[:, 2])
    label = np.where(votes > 0, 1, np.where(votes < 0, 0, -1)).astype(np.int8)
    return table[:, 0], label


def lead_labels(workshop: Workshop, target: str) -> Labels:
    ids: list[int] = []
    outcome_y: list[int] = []
    # Three small columns per lead; the verdict side is a GROUP BY.
    with connection.cursor() as cursor:
        sql, params = (
            Lead.objects.filter(workshop=workshop)
            .order_by("id")
            .annotate(
                label=Coalesce(
                    _case(good_outcome(), 1, known_outcome(), 0),
                    -1,
                )
            )
            .values_list("id", "label")
            .query.sql_with_params()
        )
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(50_000):
            for lead_id, label in batch:
                ids.append(lead_id)
                outcome_y.append(label)
    id_array = np.array(ids, dtype=np.int64)
    y_outcome = np.array(outcome_y, dtype=np.int8)
    if target == "outcome":
        y = y_outcome
    else:
        verdict_ids, verdict_y = _verdict_labels(workshop)
        y_verdict = np.full(len(id_array), -1, dtype=np.int8)
        where = np.searchsorted(id_array, verdict_ids)
        found = (where < len(id_array)) & (
            id_array[np.minimum(where, len(id_array) - 1)] == verdict_ids
        )
        y_verdict[where[found]] = verdict_y[found]
        if target == "verdict":
            y = y_verdict
        else:  # both: where outcome and verdicts agree
            y = np.where((y_outcome >= 0) & (y_outcome == y_verdict), y_outcome, -1).astype(np.int8)
    span = Lead.objects.filter(workshop=workshop).aggregate(
        first=Min("created_at"), last=Max("created_at")
    )
    weeks = 1.0
    if span["first"] and span["last"]:
        weeks = max(1.0, (span["last"] - span["first"]).total_seconds() / DAY_SECONDS / 7)
    bucket = buckets(id_array)
    return Labels(ids=id_array, y=y, bucket=bucket, learn=bucket < LEARN_SHARE, weeks=weeks)


def _case(first: Q, first_value: int, second: Q, second_value: int) -> Any:
    return Case(
        When(first, then=Value(first_value)),
        When(second, then=Value(second_value)),
        default=None,
        output_field=IntegerField(),
    )


def labelled(workshop: Workshop, target: str) -> Q:
    """Leads with a label for the target, as a filter on Lead (for the GROUP BY passes)."""
    verdicts = LeadFeedback.objects.filter(workshop=workshop, superseded_at__isnull=True)
    if target == "outcome":
        return known_outcome()
    if target == "verdict":
        return Q(id__in=verdicts.values("lead_id"))
    return known_outcome() & Q(id__in=verdicts.values("lead_id"))


# ----------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class Candidate:
    criterion: rules.Criterion
    source: str  # the field key, or "activity:<kind>"


def signature(criterion: rules.Criterion) -> str:
    """What a criterion tests, without its id and points: equal signatures match the
    same leads."""
    raw = rules.schema.criterion_to_json(criterion)
    raw.pop("id", None)
    raw.pop("points", None)
    raw.pop("category", None)
    return json.dumps(raw, sort_keys=True, default=str)


def short_hash(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8]


def _field_criterion(spec: rules.FieldSpec, op: rules.Op, value: Any) -> rules.FieldCriterion:
    criterion = rules.FieldCriterion(
        id="x", category=spec.category, field=spec.key, op=op, value=value
    )
    return rules.FieldCriterion(
        id="c" + short_hash(signature(criterion)),
        category=spec.category,
        field=spec.key,
        op=op,
        value=value,
    )


def _activity_criterion(
    kind: rules.ActivityKindSpec, min_count: int, window: rules.Window, days: int | None
) -> rules.ActivityCriterion:
    criterion = rules.ActivityCriterion(
        id="x",
        category=rules.Category.BEHAVIOURAL,
        kind=kind.key,
        min_count=min_count,
        window=window,
        days=days,
    )
    return rules.ActivityCriterion(
        id="c" + short_hash(signature(criterion)),
        category=rules.Category.BEHAVIOURAL,
        kind=kind.key,
        min_count=min_count,
        window=window,
        days=days,
    )


def marked_after_outcome(workshop: Workshop) -> frozenset[str]:
    marked = CustomField.objects.filter(workshop=workshop, after_outcome=True)
    return OUTCOME_FIELDS | frozenset(marked.values_list("key", flat=True))


@dataclass
class FieldFill:
    labelled: int  # labelled learning leads with the field set
    unlabelled: int  # learning leads without a label with the field set
    labelled_total: int
    unlabelled_total: int


def field_fill(
    workshop: Workshop, catalog: rules.Catalog, keys: Sequence[str], target: str, below: int
) -> dict[str, FieldFill]:
    """How often each field is filled in, for labelled and unlabelled learning leads, in
    one aggregate."""
    label_q = labelled(workshop, target)
    aggregates: dict[str, Any] = {
        "lab": Count("id", filter=label_q),
        "unl": Count("id", filter=~label_q),
    }
    for i, key in enumerate(keys):
        present = Q(field_present(catalog.fields[key]))
        aggregates[f"l{i}"] = Count("id", filter=present & label_q)
        aggregates[f"u{i}"] = Count("id", filter=present & ~label_q)
    row = _learning(workshop, below).aggregate(**aggregates)
    return {
        key: FieldFill(row[f"l{i}"], row[f"u{i}"], row["lab"], row["unl"])
        for i, key in enumerate(keys)
    }


def _learning(workshop: Workshop, below: int) -> QuerySet[Lead]:
    """The learning sample: leads whose bucket is below ``below`` (at most LEARN_SHARE)."""
    return (
        Lead.objects.filter(workshop=workshop)
        .annotate(bucket=bucket_expression())
        .filter(bucket__lt=min(below, LEARN_SHARE))
    )


def _top_values(
    workshop: Workshop, spec: rules.FieldSpec, target: str, limit: int, below: int
) -> list[tuple[Any, int]]:
    rows = (
        _learning(workshop, below)
        .filter(labelled(workshop, target))
        .annotate(v=_raw_value(spec))
        .filter(v__isnull=False)
        .values("v")
        .annotate(n=Count("id"))
        .order_by("-n", "v")[:limit]
    )
    return [(row["v"], row["n"]) for row in rows]


def _raw_value(spec: rules.FieldSpec) -> Any:
    """A text or choice field's value as stored: grouping needs no case folding (the
    criterion made from a value folds both sides when it compares)."""
    if spec.builtin and spec.key in BUILTIN:
        return NullIf(F(spec.key), Value(""))
    return NullIf(CustomValue(spec.key, "text", TextField()), Value(""))


def _quantiles(workshop: Workshop, spec: rules.FieldSpec, target: str, below: int) -> list[float]:
    """The field's values at every 1/QUANTILES of the labelled learning leads: one
    sorted pass with window functions (PostgreSQL and SQLite alike)."""
    inner = (
        _learning(workshop, below)
        .filter(labelled(workshop, target))
        .annotate(v=lead_value(spec))
        .filter(v__isnull=False)
        .values("v")
    )
    sql, params = inner.query.sql_with_params()
    q = QUANTILES
    # The ORM's own SQL and an integer: no user text.
    query = (
        "SELECT DISTINCT z.v FROM (SELECT y.v, ROW_NUMBER() OVER (ORDER BY y.v) AS rn, "  # noqa: S608
        f"COUNT(*) OVER () AS c FROM ({sql}) y) z "
        f"WHERE (z.rn * {q}) / z.c > ((z.rn - 1) * {q}) / z.c AND z.rn < z.c"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return sorted(float(v) for (v,) in cursor.fetchall())


def candidates(
    workshop: Workshop,
    catalog: rules.Catalog,
    target: str,
    *,
    excluded: frozenset[str],
    fills: dict[str, FieldFill],
    below: int,
) -> list[Candidate]:
    """Candidate criteria from every usable field and activity kind, from the
    labelled learning leads only."""
    out: list[Candidate] = []

    def add(criterion: rules.Criterion, source: str) -> None:
        out.append(Candidate(criterion, source))

    for key, spec in catalog.fields.items():
        fill = fills.get(key)
        if key in excluded or fill is None or fill.labelled == 0:
            continue
        if spec.category == rules.Category.OUTCOME:
            continue
        share = fill.labelled / max(fill.labelled_total, 1)
        if 0.01 <= share <= 0.99:
            add(_field_criterion(spec, rules.Op.IS_SET, None), key)
        if spec.type in (rules.FieldType.CHOICE, rules.FieldType.TEXT):
            values = _top_values(workshop, spec, target, 40, below)
            distinct_enough = len(values) < 40 or spec.type == rules.FieldType.CHOICE
            if not distinct_enough:
                continue  # free text: names, e-mails; only "is set" says anything
            for value, n in values[:25]:
                if n >= max(10, fill.labelled_total // 200):
                    add(_field_criterion(spec, rules.Op.EQ, str(value)), key)
        elif spec.type == rules.FieldType.NUMBER:
            for cut in _quantiles(workshop, spec, target, below):
                threshold: int | float = int(cut) if float(cut).is_integer() else cut
                add(_field_criterion(spec, rules.Op.GTE, threshold), key)
        elif spec.type == rules.FieldType.BOOLEAN:
            add(_field_criterion(spec, rules.Op.EQ, True), key)
            add(_field_criterion(spec, rules.Op.EQ, False), key)
        elif spec.type == rules.FieldType.DATE and key != "created_at":
            for days in (30, 365):
                add(_field_criterion(spec, rules.Op.WITHIN_LAST_DAYS, days), key)
    present = set(
        LeadActivity.objects.filter(
            lead__in=_learning(workshop, below).filter(labelled(workshop, target))
        )
        .values_list("kind", flat=True)
        .distinct()
    )
    for key, kind in catalog.activity_kinds.items():
        if key not in present or f"activity:{key}" in excluded:
            continue
        source = f"activity:{key}"
        for n in (1, 2, 3, 5):
            add(_activity_criterion(kind, n, rules.Window.EVER, None), source)
        for n, days in ((1, 7), (1, 30), (3, 30)):
            add(_activity_criterion(kind, n, rules.Window.LAST_DAYS, days), source)
        add(_activity_criterion(kind, 3, rules.Window.ONE_DAY, None), source)
    return out


def value_sets(
    column_stats: dict[str, tuple[int, int]], by_field: dict[str, list[rules.FieldCriterion]]
) -> list[tuple[str, tuple[str, ...]]]:
    """For each choice field, the set of its values that convert better than the
    field's average (and the rest): "is one of" candidates from the eq columns' counts."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for key, eqs in by_field.items():
        stats = [(c, *column_stats[c.id]) for c in eqs if c.id in column_stats]
        total = sum(n for _c, n, _g in stats)
        good = sum(g for _c, _n, g in stats)
        if len(stats) < 3 or total == 0:
            continue
        rate = good / total
        better = tuple(sorted(str(c.value) for c, n, g in stats if n and g / n > rate))
        worse = tuple(sorted(str(c.value) for c, n, g in stats if n and g / n <= rate))
        for chosen in (better, worse):
            if 2 <= len(chosen) <= len(stats) - 1:
                out.append((key, chosen))
    return out


# --------------------------------------------------------------------------- matrix


@dataclass
class Matrix:
    ids: np.ndarray  # int64, ascending: the leads, as in Labels
    bits: np.ndarray  # bool, one row per lead, one column per criterion
    columns: dict[str, int]  # criterion signature → column


def _packed_sql(statement_sql: str, count: int) -> str:
    words = []
    for w in range(0, count, WORD_BITS):
        parts = [
            f"(CAST(s.h{i} AS BIGINT) << {i - w})" if i > w else f"CAST(s.h{i} AS BIGINT)"
            for i in range(w, min(w + WORD_BITS, count))
        ]
        words.append("(" + " | ".join(parts) + f") AS w{w // WORD_BITS}")
    # Only the compiler's statement and our own column names: no user text.
    return f"SELECT s.lead_id, {', '.join(words)} FROM ({statement_sql}) s ORDER BY s.lead_id"  # noqa: S608


def _coded(criterion: rules.Criterion, catalog: rules.Catalog) -> bool:
    """Whether the criterion's bit comes from its field's code column: "equals" on text
    and choice fields, "at least" on numbers."""
    if not isinstance(criterion, rules.FieldCriterion):
        return False
    kind = catalog.fields[criterion.field].type
    if criterion.op == rules.Op.EQ:
        return kind in (rules.FieldType.TEXT, rules.FieldType.CHOICE)
    return criterion.op == rules.Op.GTE and kind == rules.FieldType.NUMBER


@dataclass
class _Codes:
    """Per field, one small integer per lead instead of one bit per criterion: the
    field's value is read (and case-folded) once, not once per candidate value."""

    fields: list[str]
    values: list[list[Any]]  # per field: folded texts, or ascending thresholds
    numeric: list[bool]

    def sql(
        self,
        catalog: rules.Catalog,
        low: int,
        high: int,
        workshop_id: int,
        only: Callable[[str], Q] | None,
    ) -> tuple[str, list[Any]]:
        inner = (
            Lead.objects.filter(workshop_id=workshop_id, id__gte=low, id__lt=high)
            .filter(only("id") if only is not None else Q())
            .order_by()
            .annotate(
                **{f"v{i}": lead_value(catalog.fields[key]) for i, key in enumerate(self.fields)}
            )
            .values("id", *(f"v{i}" for i in range(len(self.fields))))
        )
        inner_sql, inner_params = inner.query.sql_with_params()
        cases: list[str] = []
        params: list[Any] = []
        for i, (values, numeric) in enumerate(zip(self.values, self.numeric, strict=True)):
            if numeric:
                # The number of thresholds the value reaches (0: none, or no value).
                whens = [f"WHEN x.v{i} >= %s THEN {k}" for k in range(len(values), 0, -1)]
                params.extend(float(v) for v in reversed(values))
                cases.append(f"CASE {' '.join(whens)} ELSE 0 END AS c{i}")
            else:
                whens = [f"WHEN %s THEN {k + 1}" for k in range(len(values))]
                params.extend(values)
                cases.append(f"CASE x.v{i} {' '.join(whens)} ELSE 0 END AS c{i}")
        offset = " OFFSET 0" if connection.vendor == "postgresql" else ""
        sql = f"SELECT x.id, {', '.join(cases)} FROM ({inner_sql}{offset}) x ORDER BY x.id"  # noqa: S608 (only placeholders and our own column names)
        return sql, [*params, *inner_params]

    def column(self, codes: np.ndarray, criterion: rules.FieldCriterion) -> np.ndarray:
        f = self.fields.index(criterion.field)
        if self.numeric[f]:
            code = self.values[f].index(float(criterion.value)) + 1  # type: ignore[arg-type]
            return np.asarray(codes[:, f] >= code)
        return np.asarray(codes[:, f] == self.values[f].index(str(criterion.value).casefold()) + 1)


def _codes_for(criteria: Sequence[rules.Criterion], catalog: rules.Catalog) -> _Codes:
    by_field: dict[str, set[Any]] = {}
    for criterion in criteria:
        assert isinstance(criterion, rules.FieldCriterion)
        is_number = catalog.fields[criterion.field].type == rules.FieldType.NUMBER
        value = float(criterion.value) if is_number else str(criterion.value).casefold()  # type: ignore[arg-type]
        by_field.setdefault(criterion.field, set()).add(value)
    fields = sorted(by_field)
    numeric = [catalog.fields[key].type == rules.FieldType.NUMBER for key in fields]
    return _Codes(fields, [sorted(by_field[key]) for key in fields], numeric)


def _rows(cursor: Any, width: int) -> np.ndarray:
    blocks = [
        np.array(rows, dtype=np.int64) for rows in iter(lambda: cursor.fetchmany(100_000), [])
    ]
    return np.concatenate(blocks) if blocks else np.zeros((0, width), dtype=np.int64)


def _place(target: np.ndarray, ids: np.ndarray, block: np.ndarray) -> None:
    """Rows (lead id, values …) into the target's rows of the same lead ids; leads added
    since the labels were read are not in ``ids`` and are skipped."""
    where = np.searchsorted(ids, block[:, 0])
    inside = where < len(ids)
    inside[inside] = ids[where[inside]] == block[inside, 0]
    target[where[inside]] = block[inside, 1:]


def build_matrix(
    workshop: Workshop,
    catalog: rules.Catalog,
    criteria: Sequence[rules.Criterion],
    ids: np.ndarray,
    *,
    as_of: datetime | None = None,
    only: Callable[[str], Q] | None = None,
    progress: Callable[[float], None] | None = None,
) -> Matrix:
    """One bit per lead and criterion, each lead judged at its decision moment."""
    as_of = as_of or timezone.now()
    unique: dict[str, rules.Criterion] = {}
    for criterion in criteria:
        unique.setdefault(signature(criterion), criterion)
    order = list(unique)
    coded = [unique[sig] for sig in order if _coded(unique[sig], catalog)]
    compiled = [sig for sig in order if not _coded(unique[sig], catalog)]
    codes = _codes_for(coded, catalog)
    # The other criteria as one definition the compiler accepts: ids unique, every one
    # of them in a flat section (the combination is not read, only each h<i> column).
    renamed = [_renamed(unique[sig], f"k{i}") for i, sig in enumerate(compiled)]
    synthetic = rules.Definition(
        schema_version=rules.SCHEMA_VERSION,
        qualify=rules.Group(
            id="root", mode=rules.GroupMode.ALL, n=None, children=tuple(renamed[:1])
        ),
        disqualify=(),
        scoring=tuple(renamed[1:]),
        stages=rules.Stages(mql=0, sql=0),
    )
    fold_prepare(
        rules.Definition(
            schema_version=rules.SCHEMA_VERSION,
            qualify=synthetic.qualify,
            disqualify=(),
            scoring=(*synthetic.scoring, *coded),
            stages=synthetic.stages,
        ),
        catalog,
        workshop_id=workshop.pk,
    )
    count = len(compiled)
    n_words = (count + WORD_BITS - 1) // WORD_BITS
    packed = np.zeros((len(ids), n_words), dtype=np.int64)
    code_values = np.zeros((len(ids), len(codes.fields)), dtype=np.int64)
    low, high = (int(ids[0]), int(ids[-1]) + 1) if len(ids) else (0, 0)

    def chunk(start: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        end = min(start + CHUNK_IDS, high)
        words = values = None
        with connection.cursor() as cursor:
            if count:
                statement = compile_range(
                    synthetic,
                    catalog,
                    workshop_id=workshop.pk,
                    as_of=as_of,
                    low=start,
                    high=end,
                    decision_days=workshop.decision_days,
                    only=only,
                )
                cursor.execute(_packed_sql(statement.sql, count), statement.params)
                words = _rows(cursor, 1 + n_words)
            if codes.fields:
                sql, params = codes.sql(catalog, start, end, workshop.pk, only)
                cursor.execute(sql, params)
                values = _rows(cursor, 1 + len(codes.fields))
        return words, values

    def threaded(start: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        try:
            return chunk(start)
        finally:
            connection.close()  # this thread's own connection

    starts = list(range(low, high, CHUNK_IDS))
    # Two connections on PostgreSQL (two cores' worth of SQL) when nothing uncommitted
    # needs to be seen; one otherwise (inside a transaction, e.g. a test).
    parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
    with ThreadPoolExecutor(max_workers=2 if parallel else 1) as pool:
        results = pool.map(threaded, starts) if parallel else map(chunk, starts)
        for done, (words, values) in enumerate(results, start=1):
            if words is not None:
                _place(packed, ids, words)
            if values is not None:
                _place(code_values, ids, values)
            if progress is not None:
                progress(done / len(starts))
    as_bytes = packed.astype("<i8").view(np.uint8).reshape(len(ids), n_words * 8)
    unpacked = np.unpackbits(as_bytes, axis=1, bitorder="little").reshape(len(ids), n_words, 64)
    bits = np.empty((len(ids), len(order)), dtype=bool)
    bits[:, :count] = unpacked[:, :, :WORD_BITS].reshape(len(ids), -1)[:, :count]
    del unpacked, as_bytes, packed
    for j, criterion in enumerate(coded):
        assert isinstance(criterion, rules.FieldCriterion)
        bits[:, count + j] = codes.column(code_values, criterion)
    columns = {sig: i for i, sig in enumerate(compiled)}
    columns.update({signature(c): count + j for j, c in enumerate(coded)})
    return Matrix(ids=ids, bits=bits, columns=columns)


def _renamed(criterion: rules.Criterion, new_id: str) -> rules.Criterion:
    return replace(criterion, id=new_id, points=None)
