"""The builder's live evidence: as a draft changes, how many leads would qualify and
reach each stage against the current version, and the change in precision, recall and
F1 against known outcomes at the workshop's handoff stage.

Computed on a fixed random sample of the workshop's leads (SAMPLE_LEADS of them, all
when there are fewer), chosen by a multiplicative hash of the lead id as discovery
chooses its split (feedback/suggestions/matrix.py): the same leads every time, so two
previews differ only by the draft. Both definitions go through the backtest's SQL
compiler restricted to the sample (``only=``) and meet in one grouped statement, so
nothing loops over leads in Python. Estimates for the whole workshop come with a 95 %
interval: Wilson's for a share, a paired normal one for a change (the same leads
judged twice). Once the draft as it stands has a finished, fresh backtest, the exact
figures replace the estimates.

The builder (definitions) asks for this through the page_context extension point
("draft_builder"); the receiver is connected in feedback/apps.py."""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import ExpressionWrapper, F, IntegerField, Max, Min, Q
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy

from definitions import rules
from definitions.catalog.selectors import catalog_for
from definitions.models import HandoffStage, Proposal, Workshop
from definitions.versions.selectors import current_version
from feedback.accuracy import metrics
from feedback.backtests import comparison
from feedback.backtests import selectors as backtest_selectors
from feedback.backtests import services as backtest_services
from feedback.backtests.sql import compile_range, fold_prepare, text_sources
from feedback.models import Lead, LeadActivity, RunState

SAMPLE_LEADS = 50_000
HASH_MULTIPLIER = 2654435761  # Knuth's, as discovery's split uses
HASH_SPAN = 2**32
Z95 = metrics.Z95
# From this many leads the sample is evaluated in two halves on two connections.
PARALLEL_LEADS = 200_000
SAMPLE_LOCK = 22_001  # the advisory lock class of building a workshop's sample tables

ROW_LABELS = {
    "qualified": gettext_lazy("Qualified"),
    "mql": gettext_lazy("MQL or better"),
    "sql": gettext_lazy("SQL"),
    "junk": gettext_lazy("Junk"),
}


def hash_below(limit: int) -> Any:
    """A condition on a lead id column: its hash lies below ``limit`` (of 2^32)."""

    def condition(column: str) -> Q:
        hashed = ExpressionWrapper(
            (F(column) * HASH_MULTIPLIER) % HASH_SPAN, output_field=IntegerField()
        )
        return Q(LessThan(hashed, limit))

    return condition


@dataclass(frozen=True)
class Estimate:
    key: str
    label: str
    current: int  # for the whole workshop (scaled from the sample unless exact)
    draft: int
    change: int
    margin: int  # ± of the change (95 %); 0 when exact
    entered: int  # in the sample (or exactly)
    left: int

    @property
    def changed(self) -> bool:
        return bool(self.entered or self.left)


@dataclass(frozen=True)
class MetricRow:
    label: str
    current: float | None
    draft: float | None
    current_rate: metrics.Rate | None
    draft_rate: metrics.Rate | None

    @property
    def change(self) -> float | None:
        if self.current is None or self.draft is None:
            return None
        return self.draft - self.current


@dataclass(frozen=True)
class Preview:
    exact: bool
    sample: int  # leads evaluated
    total: int  # leads in the workshop
    known: int  # of them with a known outcome
    cut: str
    rows: list[Estimate]
    metric_rows: list[MetricRow]
    milliseconds: int
    version_number: int

    @property
    def cut_label(self) -> str:
        return str(HandoffStage(self.cut).label)

    @property
    def share(self) -> float:
        return self.sample / self.total if self.total else 1.0


def _limit(total: int) -> int:
    if total <= SAMPLE_LEADS:
        return HASH_SPAN
    return math.ceil(SAMPLE_LEADS / total * HASH_SPAN)


def _sample_tables(workshop: Workshop, limit: int) -> tuple[str, str] | None:
    """On PostgreSQL, the sample's leads and activities copied into two small unlogged
    tables, made once per state of the leads (a random 5 % of a million rows sits on
    nearly every page of the big tables, so reading it there costs a full scan each
    time; the copy costs it once). They are a cache, not schema: rebuilt when the
    leads change, the old ones dropped. None on other databases."""
    if connection.vendor != "postgresql":
        return None
    stamp = hashlib.sha1(
        f"{workshop.leads_changed_at}:{limit}:{workshop.decision_days}".encode(),
        usedforsecurity=False,
    ).hexdigest()[:10]
    prefix = f"lw_sample_{int(workshop.pk)}_"
    lead_table, act_table = f"{prefix}{stamp}_lead", f"{prefix}{stamp}_act"
    leads, acts = Lead._meta.db_table, LeadActivity._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [act_table])
        if cursor.fetchone()[0]:
            return lead_table, act_table
        with transaction.atomic():
            # One builder per workshop at a time; the others wait and find it made.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SAMPLE_LOCK, workshop.pk])
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [act_table])
            if cursor.fetchone()[0]:
                return lead_table, act_table
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE %s", [prefix + "%"]
            )
            for (old,) in cursor.fetchall():
                cursor.execute(f'DROP TABLE IF EXISTS "{old}"')
            cursor.execute(
                f'CREATE UNLOGGED TABLE "{lead_table}" AS SELECT * FROM {leads} '  # noqa: S608
                "WHERE workshop_id = %s AND (id * %s) %% %s < %s",
                [workshop.pk, HASH_MULTIPLIER, HASH_SPAN, limit],
            )
            cursor.execute(f'ALTER TABLE "{lead_table}" ADD PRIMARY KEY (id)')
            # Activities after a lead's decision moment never count (the compiled
            # statement still applies the exact moment); most of them are after it.
            after = (
                ""
                if workshop.decision_days is None
                else " WHERE s.created_at IS NULL"
                " OR a.at <= s.created_at + make_interval(hours => %s)"
            )
            cursor.execute(
                f'CREATE UNLOGGED TABLE "{act_table}" AS SELECT a.* FROM {acts} a '  # noqa: S608
                f'JOIN "{lead_table}" s ON s.id = a.lead_id{after}',
                [] if workshop.decision_days is None else [24 * int(workshop.decision_days)],
            )
            cursor.execute(f'CREATE INDEX ON "{act_table}" (lead_id, kind)')
            cursor.execute(f'ANALYZE "{lead_table}"')
            cursor.execute(f'ANALYZE "{act_table}"')
    return lead_table, act_table


def _on_sample(sql: str, tables: tuple[str, str]) -> str:
    """A compiled statement read from the sample's tables (the same columns) instead
    of the big ones."""
    sql = sql.replace(f'"{LeadActivity._meta.db_table}"', f'"{tables[1]}"')
    return sql.replace(f'"{Lead._meta.db_table}"', f'"{tables[0]}"')


def _fold_once(workshop: Workshop, definition: rules.Definition, catalog: rules.Catalog) -> None:
    """Fold the texts the definition compares, once per state of the leads and set of
    text fields (a pass over every lead: not on every keystroke)."""
    keys = ",".join(sorted(spec.key for spec in text_sources(definition, catalog)))
    key = f"preview-folded:{workshop.pk}:{workshop.leads_changed_at}:{keys}"
    if keys and cache.get(key) is None:
        fold_prepare(definition, catalog, workshop_id=workshop.pk)
        cache.set(key, True, timeout=24 * 3600)


def lead_count(workshop: Workshop) -> int:
    key = f"preview-leads:{workshop.pk}:{workshop.leads_changed_at}"
    count: int = (
        cache.get_or_set(key, lambda: Lead.objects.filter(workshop=workshop).count(), timeout=3600)
        or Lead.objects.filter(workshop=workshop).count()
    )
    return count


def _transitions(
    workshop: Workshop,
    draft: rules.Definition,
    current: rules.Definition,
    catalog: rules.Catalog,
    limit: int,
    current_number: int = 0,
) -> comparison.Transitions:
    bounds = Lead.objects.filter(workshop=workshop).aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return Counter()
    as_of = timezone.now()
    sampled = limit < HASH_SPAN
    tables = _sample_tables(workshop, limit) if sampled else None
    common = {
        "workshop_id": workshop.pk,
        "as_of": as_of,
        "low": bounds["low"],
        "high": bounds["high"] + 1,
        "decision_days": workshop.decision_days,
        # In the sample's own tables every row is in the sample already.
        "only": hash_below(limit) if sampled and tables is None else None,
    }
    _fold_once(workshop, draft, catalog)
    mine = compile_range(draft, catalog, **common)
    theirs = compile_range(current, catalog, **common)
    leads = Lead._meta.db_table
    outcome = (
        "CASE WHEN l.converted = %s OR l.reached_stage IN (%s, %s) THEN 1 "
        "WHEN l.converted IS NOT NULL OR l.reached_stage IS NOT NULL THEN 0 ELSE -1 END"
    )
    theirs_sql, theirs_params = theirs.sql, list(theirs.params)
    out: comparison.Transitions = Counter()
    halves: list[tuple[int, int]] = []
    kept = ""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A statement this wide costs PostgreSQL's JIT seconds to compile, many
            # times what 50,000 leads take to evaluate.
            cursor.execute("SET LOCAL jit = off")
            # The per-lead activity counts fit in memory instead of spilling to disk.
            cursor.execute("SET LOCAL work_mem = '32MB'")
        outcome_params: list[Any] = [True, *comparison.GOOD_STAGES]
        if tables is not None:
            # The current version's stages on the sample, with each lead's outcome,
            # are the same on every keystroke: kept next to the sample.
            kept = f"{tables[0][: -len('_lead')]}_v{current_number}"
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [kept])
            if not cursor.fetchone()[0]:
                cursor.execute(
                    f'CREATE UNLOGGED TABLE IF NOT EXISTS "{kept}" AS '  # noqa: S608
                    f"SELECT t.lead_id, t.stage, {outcome} AS o "
                    f"FROM ({_on_sample(theirs.sql, tables)}) t "
                    f'JOIN "{tables[0]}" l ON l.id = t.lead_id',
                    [*outcome_params, *theirs_params],
                )
                cursor.execute(f'ANALYZE "{kept}"')
            sql = _on_sample(
                f"SELECT d.stage, c.stage, c.o, COUNT(*) FROM ({mine.sql}) d "  # noqa: S608
                f'JOIN "{kept}" c ON c.lead_id = d.lead_id GROUP BY d.stage, c.stage, c.o',
                tables,
            )
            params = list(mine.params)
            if lead_count(workshop) >= PARALLEL_LEADS:
                split = (common["low"] + common["high"]) // 2
                halves = [(common["low"], split), (split, common["high"])]
        else:
            sql = (
                f"SELECT d.stage, c.stage, {outcome} AS o, COUNT(*) "  # noqa: S608
                f"FROM ({mine.sql}) d JOIN ({theirs_sql}) c ON c.lead_id = d.lead_id "
                f'JOIN "{leads}" l ON l.id = d.lead_id GROUP BY d.stage, c.stage, o'
            )
            params = [*outcome_params, *mine.params, *theirs_params]
        if not halves:
            cursor.execute(sql, params)
            for now, was, o, n in cursor.fetchall():
                out[(str(now), str(was), int(o))] += int(n)
    if halves and tables is not None:
        # Two halves of the sample at once, each on its own connection: two cores.
        def half(bounds: tuple[int, int]) -> list[tuple[Any, ...]]:
            try:
                part = compile_range(
                    draft, catalog, **{**common, "low": bounds[0], "high": bounds[1]}
                )
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SET LOCAL jit = off")
                    cursor.execute("SET LOCAL work_mem = '32MB'")
                    cursor.execute(
                        _on_sample(
                            f"SELECT d.stage, c.stage, c.o, COUNT(*) FROM ({part.sql}) d "  # noqa: S608
                            f'JOIN "{kept}" c ON c.lead_id = d.lead_id '
                            "GROUP BY d.stage, c.stage, c.o",
                            tables,
                        ),
                        list(part.params),
                    )
                    return list(cursor.fetchall())
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=2) as pool:
            for rows in pool.map(half, halves):
                for now, was, o, n in rows:
                    out[(str(now), str(was), int(o))] += int(n)
    return out


def _rows(transitions: comparison.Transitions, n: int, total: int, exact: bool) -> list[Estimate]:
    scale = total / n if n else 0.0
    rows = []
    for m in comparison.movements(transitions, comparison.CUTS, comparison.in_cut):
        if exact:
            margin = 0
        else:
            # The same leads judged twice: the change's variance from the leads that
            # moved in and out (a paired difference of proportions).
            d = (m.entered - m.left) / n
            var = max(((m.entered + m.left) / n - d * d) / n, 0.0)
            margin = round(Z95 * math.sqrt(var) * total)
        rows.append(
            Estimate(
                key=m.key,
                label=str(ROW_LABELS[m.key]),
                current=round(m.before * scale),
                draft=round(m.after * scale),
                change=round((m.after - m.before) * scale),
                margin=margin,
                entered=m.entered,
                left=m.left,
            )
        )
    return rows


def _metric_rows(transitions: comparison.Transitions, cut: str) -> list[MetricRow]:
    before = comparison.accuracy(transitions, cut, after=False)
    after = comparison.accuracy(transitions, cut, after=True)
    return [
        MetricRow(
            str(gettext_lazy("Precision")),
            before.precision,
            after.precision,
            metrics.Rate(before.tp, before.tp + before.fp),
            metrics.Rate(after.tp, after.tp + after.fp),
        ),
        MetricRow(
            str(gettext_lazy("Recall")),
            before.recall,
            after.recall,
            metrics.Rate(before.tp, before.tp + before.fn),
            metrics.Rate(after.tp, after.tp + after.fn),
        ),
        MetricRow(str(gettext_lazy("F1")), before.f1, after.f1, None, None),
    ]


def _exact_run(workshop: Workshop, proposal: Proposal, document: Any) -> Any:
    """The draft's finished, fresh backtest of exactly this document, and the current
    version's to compare with, or None."""
    run = backtest_selectors.latest_run(workshop, proposal=proposal)
    if run is None or run.state != RunState.DONE or run.document != document:
        return None
    run.workshop = workshop
    if backtest_services.is_stale(run, workshop):
        return None
    version = current_version(workshop)
    base = backtest_selectors.latest_done_run(workshop, version=version) if version else None
    if base is None or backtest_services.is_stale(base, workshop):
        return None
    base.workshop = workshop
    return run, base


def preview(
    workshop: Workshop,
    proposal: Proposal,
    definition: rules.Definition,
    catalog: rules.Catalog,
) -> Preview | None:
    """The draft against the current version, or None without a current version (or
    when the current version no longer fits the catalog)."""
    started = time.monotonic()
    version = current_version(workshop)
    if version is None:
        return None
    current = rules.parse(version.document, catalog).definition
    if current is None:
        return None
    cut = workshop.handoff_stage
    total = lead_count(workshop)
    exact = _exact_run(workshop, proposal, rules.to_json(definition))
    if exact is not None:
        run, base = exact
        transitions: comparison.Transitions = Counter()
        for now, was, o, n in comparison.run_transitions(run, base):
            transitions[(now, was, o)] += n
        n, is_exact = max(sum(transitions.values()), 1), True
    else:
        transitions = _transitions(
            workshop, definition, current, catalog, _limit(total), version.number
        )
        n, is_exact = sum(transitions.values()), _limit(total) >= HASH_SPAN
    return Preview(
        exact=is_exact,
        sample=n,
        total=total,
        known=sum(v for (_a, _b, o), v in transitions.items() if o >= 0),
        cut=cut,
        rows=_rows(transitions, max(n, 1), total, is_exact) if n else [],
        metric_rows=_metric_rows(transitions, cut),
        milliseconds=round(1000 * (time.monotonic() - started)),
        version_number=version.number,
    )


NUMERIC = (rules.FieldType.NUMBER, rules.FieldType.DATE)


def value_ranges(
    workshop: Workshop, definition: rules.Definition, catalog: rules.Catalog
) -> dict[str, tuple[float | str, float | str]]:
    """The lowest and highest value the leads have of each built-in number or date
    field the definition compares (one aggregate, kept until the leads change)."""
    keys = sorted(
        {
            c.field
            for c in rules.criteria(definition)
            if isinstance(c, rules.FieldCriterion)
            and c.field in catalog.fields
            and catalog.fields[c.field].builtin
            and catalog.fields[c.field].type in NUMERIC
            and c.op not in (rules.Op.IS_SET, rules.Op.IS_NOT_SET, rules.Op.WITHIN_LAST_DAYS)
        }
    )
    if not keys:
        return {}
    cache_key = f"lead-ranges:{workshop.pk}:{workshop.leads_changed_at}:{','.join(keys)}"

    def count() -> dict[str, tuple[float | str, float | str]]:
        row = Lead.objects.filter(workshop=workshop).aggregate(
            **{f"lo_{k}": Min(k) for k in keys}, **{f"hi_{k}": Max(k) for k in keys}
        )
        out: dict[str, tuple[float | str, float | str]] = {}
        for k in keys:
            lo, hi = row[f"lo_{k}"], row[f"hi_{k}"]
            if lo is None or hi is None:
                continue
            if catalog.fields[k].type == rules.FieldType.DATE:
                out[k] = (_day(lo), _day(hi))
            else:
                out[k] = (float(lo), float(hi))
        return out

    ranges: dict[str, tuple[float | str, float | str]] = (
        cache.get_or_set(cache_key, count, timeout=3600) or count()
    )
    return ranges


def _day(value: Any) -> str:
    return str(value.date().isoformat() if hasattr(value, "date") else value.isoformat())


def on_draft_builder(
    sender: str,
    *,
    workshop: Workshop,
    proposal: Proposal,
    definition: rules.Definition | None,
    catalog: rules.Catalog,
    **_: Any,
) -> dict[str, Any]:
    if definition is None:
        return {"preview_available": True}
    return {
        "preview_available": True,
        "preview": preview(workshop, proposal, definition, catalog),
        "value_ranges": value_ranges(workshop, definition, catalog),
    }


def samples_prepare() -> int:
    """Make the sample tables, and the current version's stages on them, of every
    workshop that needs them, so the first preview after an import does not wait for
    them (the housekeeping sweep calls this every minute; it does nothing where they
    exist). Returns how many workshops it prepared."""
    if connection.vendor != "postgresql":
        return 0
    prepared = 0
    for workshop in Workshop.objects.order_by("id"):
        total = lead_count(workshop)
        version = current_version(workshop)
        if total <= SAMPLE_LEADS or version is None:
            continue
        catalog = catalog_for(workshop)
        definition = rules.parse(version.document, catalog).definition
        if definition is None:
            continue
        tables = _sample_tables(workshop, _limit(total))
        kept = f"{tables[0][: -len('_lead')]}_v{version.number}" if tables else ""
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [kept])
            if cursor.fetchone()[0]:
                continue
        _transitions(workshop, definition, definition, catalog, _limit(total), version.number)
        prepared += 1
    return prepared
