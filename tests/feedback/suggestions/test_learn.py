"""The numerical pieces of discovery on small hand-made arrays."""

from __future__ import annotations

import numpy as np

from feedback.suggestions import learn
from feedback.suggestions.types import Goal


def part(y: list[int]) -> learn.Part:
    n = len(y)
    return learn.Part(
        labelled=np.ones(n, dtype=bool),
        every=np.ones(n, dtype=bool),
        y=np.array(y, dtype=bool),
        per_week_factor=1.0,
    )


def test_a_threshold_below_zero_is_never_chosen_because_no_definition_can_hold_it() -> None:
    # Handing over everyone above -5 would be the best F1, but stages start at 0 points.
    score = np.array([-10, -3, -3, 0, 4, 4])
    y = [0, 1, 1, 0, 1, 1]
    threshold, value = learn.best_threshold(Goal(), np.ones(6, dtype=bool), score, part(y))
    assert threshold == 4
    assert value == 2 / 3  # two of the four good leads, and nothing else


def test_when_every_score_is_negative_the_threshold_is_zero_and_hands_over_nobody() -> None:
    score = np.array([-10, -3, -1])
    threshold, value = learn.best_threshold(Goal(), np.ones(3, dtype=bool), score, part([0, 1, 1]))
    assert threshold == 0
    assert value == float("-inf")
