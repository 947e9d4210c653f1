"""Two finished runs compared lead by lead: per stage and per cut how many leads there
were before and after, how many entered and left (with examples), and precision,
recall and F1 against known outcomes at the workshop's handoff stage.

Everything comes from one grouped join of the two runs' results (a transition count
per pair of stages and outcome), so a million leads are one statement, and the before,
after, entered and left of every stage always add up: after = before + entered - left.
A lead only one of the runs saw (imported or deleted in between) counts as absent
from the other."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext_lazy

from definitions import rules
from definitions.models import HandoffStage
from feedback.models import EvaluationRun, Lead, LeadResult, RunState

STAGES = ("subscriber", "lead", "mql", "sql", "junk")
CUTS = ("qualified", "mql", "sql", "junk")
EXAMPLES = 3  # leads shown per stage and direction
CUT_LABELS = {
    "qualified": gettext_lazy("Qualified"),
    "mql": gettext_lazy("MQL or better"),
    "sql": gettext_lazy("SQL"),
    "junk": gettext_lazy("Junk"),
}
GOOD_STAGES = ("opportunity", "customer")
ABSENT = ""  # the stage of a lead a run did not see

# (stage in the run, stage in the base, outcome: 1 good, 0 bad, -1 unknown) -> leads
Transitions = Counter[tuple[str, str, int]]


@dataclass(frozen=True)
class Movement:
    key: str  # a stage or a cut
    before: int
    after: int
    entered: int
    left: int

    @property
    def delta(self) -> int:
        return self.after - self.before

    @property
    def changed(self) -> bool:
        return bool(self.entered or self.left)


@dataclass(frozen=True)
class Accuracy:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return None if p is None or r is None or p + r == 0 else 2 * p * r / (p + r)


@dataclass(frozen=True)
class Example:
    lead_id: int
    name: str
    before: str
    after: str


@dataclass
class Comparison:
    base: EvaluationRun
    cut: str  # the workshop's handoff stage
    stages: list[Movement]
    cuts: list[Movement]
    accuracy_before: Accuracy
    accuracy_after: Accuracy
    entered_examples: dict[str, list[Example]] = field(default_factory=dict)
    left_examples: dict[str, list[Example]] = field(default_factory=dict)

    @property
    def cut_label(self) -> str:
        return str(HandoffStage(self.cut).label)

    @property
    def changed(self) -> bool:
        return any(m.changed for m in self.stages)

    @property
    def metric_rows(self) -> list[tuple[str, float | None, float | None, float | None]]:
        """(name, before, after, change) for precision, recall and F1."""
        rows = []
        for name, attr in (
            (gettext_lazy("Precision"), "precision"),
            (gettext_lazy("Recall"), "recall"),
            (gettext_lazy("F1"), "f1"),
        ):
            before = getattr(self.accuracy_before, attr)
            after = getattr(self.accuracy_after, attr)
            change = None if before is None or after is None else after - before
            rows.append((str(name), before, after, change))
        return rows


def in_cut(stage: str, qualified_cut: str) -> bool:
    """Whether a result at ``stage`` belongs to a cut (junk is a cut of its own here)."""
    if not stage:
        return False
    if qualified_cut == "junk":
        return stage == "junk"
    return rules.reaches(stage, qualified_cut)


def movements(transitions: Transitions, keys: tuple[str, ...], member: object) -> list[Movement]:
    """Before, after, entered and left for each key; ``member(stage, key)`` says whether
    a stage belongs to the key."""
    out = []
    for key in keys:
        before = after = entered = left = 0
        for (now, was, _outcome), n in transitions.items():
            is_now = member(now, key)  # type: ignore[operator]
            was_in = member(was, key)  # type: ignore[operator]
            after += n if is_now else 0
            before += n if was_in else 0
            entered += n if is_now and not was_in else 0
            left += n if was_in and not is_now else 0
        out.append(Movement(key, before, after, entered, left))
    return out


def accuracy(transitions: Transitions, cut: str, *, after: bool) -> Accuracy:
    tp = fp = fn = 0
    for (now, was, outcome), n in transitions.items():
        stage = now if after else was
        if not stage or outcome < 0:
            continue
        hit = in_cut(stage, cut)
        tp += n if hit and outcome == 1 else 0
        fp += n if hit and outcome == 0 else 0
        fn += n if not hit and outcome == 1 else 0
    return Accuracy(tp, fp, fn)


def run_transitions(run: EvaluationRun, base: EvaluationRun) -> list[tuple[str, str, int, int]]:
    results, leads = LeadResult._meta.db_table, Lead._meta.db_table
    outcome = (
        "CASE WHEN l.converted = %s OR l.reached_stage IN (%s, %s) THEN 1 "
        "WHEN l.converted IS NOT NULL OR l.reached_stage IS NOT NULL THEN 0 ELSE -1 END"
    )
    outcome_params: list[Any] = [True, *GOOD_STAGES]
    with connection.cursor() as cursor:
        # Leads in this run (with their stage in the base run, if it saw them), then
        # the leads only the base run saw.
        cursor.execute(
            f"SELECT a.stage, COALESCE(b.stage, ''), {outcome} AS o, COUNT(*) "  # noqa: S608
            f"FROM {results} a JOIN {leads} l ON l.id = a.lead_id "
            f"LEFT JOIN {results} b ON b.run_id = %s AND b.lead_id = a.lead_id "
            "WHERE a.run_id = %s GROUP BY a.stage, COALESCE(b.stage, ''), o "
            "UNION ALL "
            f"SELECT '', b.stage, {outcome} AS o, COUNT(*) "
            f"FROM {results} b JOIN {leads} l ON l.id = b.lead_id "
            f"WHERE b.run_id = %s AND NOT EXISTS (SELECT 1 FROM {results} a "
            "WHERE a.run_id = %s AND a.lead_id = b.lead_id) GROUP BY b.stage, o",
            [*outcome_params, base.pk, run.pk, *outcome_params, base.pk, run.pk],
        )
        return [(str(a), str(b), int(o), int(n)) for a, b, o, n in cursor.fetchall()]


def _examples(run: EvaluationRun, base: EvaluationRun) -> list[Example]:
    """Up to EXAMPLES leads per pair of different stages, newest first."""
    results, leads = LeadResult._meta.db_table, Lead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.lead_id, t.name, t.was, t.now FROM ("  # noqa: S608
            "SELECT a.lead_id, l.name, COALESCE(b.stage, '') AS was, a.stage AS now, "
            "ROW_NUMBER() OVER (PARTITION BY a.stage, COALESCE(b.stage, '') "
            "ORDER BY a.lead_id DESC) AS rn "
            f"FROM {results} a JOIN {leads} l ON l.id = a.lead_id "
            f"LEFT JOIN {results} b ON b.run_id = %s AND b.lead_id = a.lead_id "
            "WHERE a.run_id = %s AND (b.stage IS NULL OR b.stage <> a.stage)) t "
            "WHERE t.rn <= %s ORDER BY t.lead_id DESC",
            [base.pk, run.pk, EXAMPLES],
        )
        return [
            Example(int(i), str(name or ""), str(was), str(now)) for i, name, was, now in cursor
        ]


def compare_runs(run: EvaluationRun, base: EvaluationRun | None) -> Comparison | None:
    """The comparison of two finished runs of the same workshop, or None."""
    if base is None or run.state != RunState.DONE or base.state != RunState.DONE:
        return None
    # Finished runs never change: the counts are kept (a second over a million leads).
    rows: list[tuple[str, str, int, int]] = cache.get_or_set(
        f"run-transitions:{run.pk}:{base.pk}", lambda: run_transitions(run, base), timeout=None
    ) or run_transitions(run, base)
    transitions: Transitions = Counter()
    for now, was, outcome, n in rows:
        transitions[(now, was, outcome)] += n
    cut = run.workshop.handoff_stage
    comparison = Comparison(
        base=base,
        cut=cut,
        stages=movements(transitions, STAGES, lambda stage, key: stage == key),
        cuts=movements(transitions, CUTS, in_cut),
        accuracy_before=accuracy(transitions, cut, after=False),
        accuracy_after=accuracy(transitions, cut, after=True),
    )
    for example in _examples(run, base):
        if len(comparison.entered_examples.setdefault(example.after, [])) < EXAMPLES:
            comparison.entered_examples[example.after].append(example)
        if example.before and len(comparison.left_examples.setdefault(example.before, [])) < (
            EXAMPLES
        ):
            comparison.left_examples[example.before].append(example)
    return comparison
