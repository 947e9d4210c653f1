"""Accuracy statistics from counts: table-driven, including empty and tiny samples."""

from __future__ import annotations

import math

import pytest

from feedback.accuracy.metrics import (
    MIN_SAMPLE,
    Confusion,
    Rate,
    best_f1,
    f1,
    ratio,
    score_bands,
    sweep,
    wilson,
)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(1, 2, 0.5), (0, 5, 0.0), (3, 0, None), (0, 0, None)],
)
def test_a_ratio_without_a_denominator_is_none_not_an_error(
    numerator: int, denominator: int, expected: float | None
) -> None:
    assert ratio(numerator, denominator) == expected


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Reference values of the Wilson score interval at 95 %.
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (5, 10, 0.2366, 0.7634),
        (81, 263, 0.2553, 0.3662),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_the_wilson_interval_matches_reference_values(
    successes: int, n: int, low: float, high: float
) -> None:
    interval = wilson(successes, n)
    assert interval is not None
    assert math.isclose(interval.low, low, abs_tol=5e-4)
    assert math.isclose(interval.high, high, abs_tol=5e-4)


def test_no_cases_have_no_interval_and_impossible_counts_are_refused() -> None:
    assert wilson(0, 0) is None
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson(3, 2)


@pytest.mark.parametrize(
    ("confusion", "precision", "recall", "f1_score", "lift"),
    [
        (Confusion(tp=8, fp=2, fn=2, tn=8), 0.8, 0.8, 0.8, 4.0),
        (Confusion(tp=0, fp=0, fn=0, tn=0), None, None, None, None),
        (Confusion(tp=0, fp=5, fn=0, tn=5), 0.0, None, None, None),
        (Confusion(tp=3, fp=0, fn=0, tn=4), 1.0, 1.0, 1.0, None),  # no good rejected lead
        (Confusion(tp=0, fp=3, fn=3, tn=0), 0.0, 0.0, None, 0.0),
        (Confusion(tp=1, fp=0, fn=0, tn=0), 1.0, 1.0, 1.0, None),
    ],
)
def test_confusion_rates_including_empty_and_one_sided_samples(
    confusion: Confusion,
    precision: float | None,
    recall: float | None,
    f1_score: float | None,
    lift: float | None,
) -> None:
    def same(a: float | None, b: float | None) -> bool:
        return a is None if b is None else a is not None and math.isclose(a, b)

    assert same(confusion.precision.value, precision)
    assert same(confusion.recall.value, recall)
    assert same(confusion.f1, f1_score)
    assert same(confusion.lift, lift)


def test_a_confusion_reports_its_counts_and_rounded_rates() -> None:
    assert Confusion(tp=2, fp=1, fn=1, tn=6).as_dict() == {
        "tp": 2,
        "fp": 1,
        "fn": 1,
        "tn": 6,
        "precision": 0.6667,
        "recall": 0.6667,
        "f1": 0.6667,
        "n": 10,
    }


def test_a_rate_says_whether_its_sample_is_big_enough() -> None:
    assert not Rate(3, MIN_SAMPLE - 1).enough
    assert Rate(3, MIN_SAMPLE).enough
    assert Rate(0, 0).value is None and Rate(0, 0).interval is None


@pytest.mark.parametrize(
    ("precision", "recall", "expected"),
    [(None, 0.5, None), (0.5, None, None), (0.0, 0.0, None), (0.5, 1.0, 2 / 3)],
)
def test_f1_is_the_harmonic_mean_or_none(
    precision: float | None, recall: float | None, expected: float | None
) -> None:
    got = f1(precision, recall)
    assert got is None if expected is None else math.isclose(got or 0, expected)


def test_score_bands_put_every_score_in_exactly_one_band() -> None:
    rows = [(-5, 2, 0), (0, 10, 1), (39, 5, 1), (40, 4, 2), (69, 1, 1), (70, 3, 3), (500, 1, 0)]
    bands = score_bands(rows, [0, 40, 70])
    assert [(b.low, b.high, b.conversion.successes, b.conversion.n) for b in bands] == [
        (0, 39, 2, 17),
        (40, 69, 3, 5),
        (70, None, 3, 4),
    ]
    assert [b.conversion.n for b in score_bands([], [0, 10])] == [0, 0]
    with pytest.raises(ValueError, match="edge"):
        score_bands(rows, [])


def test_a_threshold_sweep_trades_recall_for_precision_and_marks_the_best_f1() -> None:
    # (score, good, bad) of qualified leads; 2 good and 10 bad leads were rejected.
    qualified = [(10, 1, 6), (40, 3, 4), (70, 5, 1)]
    points = sweep(qualified, rejected_good=2, rejected_bad=10, thresholds=[0, 40, 70, 100])
    table = [
        (p.threshold, p.confusion.tp, p.confusion.fp, p.confusion.fn, p.confusion.tn)
        for p in points
    ]
    assert table == [
        (0, 9, 11, 2, 10),
        (40, 8, 5, 3, 16),
        (70, 5, 1, 6, 20),
        (100, 0, 0, 11, 21),
    ]
    best = best_f1(points)
    assert best is not None and best.threshold == 40
    assert best_f1(sweep([], 0, 0, [0, 10])) is None
