"""Accuracy statistics, as pure functions of counts (no Django, no database).

The database counts (feedback.accuracy.selectors); these functions turn counts into
rates. Every rate is None when its denominator is zero, so "not enough data" is a
value the pages show, never a ZeroDivisionError; every proportion comes with its
sample size and a Wilson score interval, so nobody over-reads twelve verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# z for a two-sided 95 % interval.
Z95 = 1.959963984540054
# Below this many cases a rate is shown with the words "not enough data".
MIN_SAMPLE = 10


def ratio(numerator: int | float, denominator: int | float) -> float | None:
    return None if not denominator else numerator / denominator


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def wilson(successes: int, n: int, z: float = Z95) -> Interval | None:
    """The Wilson score interval of a proportion; None without cases."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError("successes must lie between 0 and n")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Rate:
    """A proportion with what it rests on."""

    successes: int
    n: int

    @property
    def value(self) -> float | None:
        return ratio(self.successes, self.n)

    @property
    def interval(self) -> Interval | None:
        return wilson(self.successes, self.n)

    @property
    def enough(self) -> bool:
        return self.n >= MIN_SAMPLE


@dataclass(frozen=True)
class Confusion:
    """Predicted = the definition qualified the lead; actual = the truth said good."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> Rate:
        return Rate(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> Rate:
        return Rate(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        return f1(self.precision.value, self.recall.value)

    @property
    def qualified_share(self) -> Rate:
        return Rate(self.tp + self.fp, self.n)

    @property
    def good_among_qualified(self) -> Rate:
        return self.precision

    @property
    def good_among_rejected(self) -> Rate:
        return Rate(self.fn, self.fn + self.tn)

    @property
    def lift(self) -> float | None:
        """How many times likelier a qualified lead is good than a rejected one."""
        inside, outside = self.precision.value, self.good_among_rejected.value
        if inside is None or not outside:
            return None
        return inside / outside

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": _round(self.precision.value),
            "recall": _round(self.recall.value),
            "f1": _round(self.f1),
            "n": self.n,
        }


def f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None or precision + recall == 0:
        return None
    return 2 * precision * recall / (precision + recall)


def f1_interval(confusion: Confusion, z: float = Z95) -> Interval | None:
    """A 95 % interval for F1. F1 = 2J / (1 + J) with J = tp / (tp + fp + fn), the
    share of true positives among the leads that are good or qualified; J is a
    proportion, so its Wilson interval, mapped through that increasing function, is
    one for F1 (true negatives do not enter F1). None without such leads."""
    interval = wilson(confusion.tp, confusion.tp + confusion.fp + confusion.fn, z)
    if interval is None:
        return None
    return Interval(2 * interval.low / (1 + interval.low), 2 * interval.high / (1 + interval.high))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True)
class Band:
    low: int
    high: int | None  # None: no upper end
    conversion: Rate


def score_bands(pairs: Iterable[tuple[int, int, int]], edges: Sequence[int]) -> list[Band]:
    """Conversion per score band from (score, leads, converted) rows.

    ``edges`` are the lower ends of the bands, ascending; a score below the first edge
    falls into the first band (it is open downwards), the last band is open upwards."""
    if not edges:
        raise ValueError("at least one edge")
    totals = [[0, 0] for _ in edges]
    for score, leads, converted in pairs:
        index = 0
        for i, edge in enumerate(edges):
            if score >= edge:
                index = i
        totals[index][0] += converted
        totals[index][1] += leads
    return [
        Band(edges[i], edges[i + 1] - 1 if i + 1 < len(edges) else None, Rate(c, n))
        for i, (c, n) in enumerate(totals)
    ]


@dataclass(frozen=True)
class SweepPoint:
    threshold: int
    confusion: Confusion


def sweep(
    qualified: Iterable[tuple[int, int, int]],
    rejected_good: int,
    rejected_bad: int,
    thresholds: Sequence[int],
) -> list[SweepPoint]:
    """Precision and recall if only qualified leads scoring at least t counted.

    ``qualified`` holds (score, good, bad) for qualified leads that have a truth;
    leads the definition rejected stay rejected at every threshold."""
    rows = list(qualified)
    points = []
    for t in thresholds:
        tp = sum(good for score, good, _bad in rows if score >= t)
        fp = sum(bad for score, _good, bad in rows if score >= t)
        fn = rejected_good + sum(good for score, good, _bad in rows if score < t)
        tn = rejected_bad + sum(bad for score, _good, bad in rows if score < t)
        points.append(SweepPoint(t, Confusion(tp, fp, fn, tn)))
    return points


def best_f1(points: Sequence[SweepPoint]) -> SweepPoint | None:
    """The threshold with the highest F1 (the lowest such threshold on a tie)."""
    scored = [(p.confusion.f1, p) for p in points if p.confusion.f1 is not None]
    if not scored:
        return None
    best = max(f for f, _p in scored)
    return next(p for f, p in scored if f == best)
