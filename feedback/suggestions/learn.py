"""The learning half of discovery, on arrays only (no database): a definition applied to
the bit matrix, the objectives, intervals, and the scorecard.

``apply`` is the reference evaluator (definitions.rules.evaluate) vectorised over
leads: the same qualify tree, junk rules, points and stages, reading each criterion's
bits from the matrix instead of the lead. A test holds it equal to a backtest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from definitions import rules

from .types import Figures, Goal

Column = Callable[[rules.Criterion], np.ndarray]
BOOTSTRAP = 400
SCALE = 20  # a scorecard's largest points
SCREEN = 64  # candidate criteria a scorecard is fitted over at most
SEED = 20  # intervals are reproducible: the same data gives the same figures


@dataclass
class Applied:
    qualified: np.ndarray  # bool (tree matched, not junk)
    junk: np.ndarray
    score: np.ndarray  # int32
    ready: np.ndarray  # bool: a sales-ready action matched, or none is defined


def apply(definition: rules.Definition, column: Column) -> Applied:
    def group(g: rules.Group) -> np.ndarray:
        parts = [
            group(child) if isinstance(child, rules.Group) else column(child)
            for child in g.children
        ]
        if g.mode == rules.GroupMode.ALL:
            return np.asarray(np.logical_and.reduce(parts), dtype=bool)
        if g.mode == rules.GroupMode.ANY:
            return np.asarray(np.logical_or.reduce(parts), dtype=bool)
        return np.sum(parts, axis=0, dtype=np.int32) >= int(g.n or 0)

    tree = group(definition.qualify)
    junk = np.zeros(len(tree), dtype=bool)
    for criterion in definition.disqualify:
        junk |= column(criterion)
    score = np.zeros(len(tree), dtype=np.int32)
    for criterion in (
        *_leaves(definition.qualify),
        *definition.scoring,
        *definition.stages.sales_ready,
    ):
        if criterion.points:
            score[column(criterion)] += int(criterion.points)
    if definition.stages.sales_ready:
        ready = np.zeros(len(tree), dtype=bool)
        for criterion in definition.stages.sales_ready:
            ready |= column(criterion)
    else:
        ready = np.ones(len(tree), dtype=bool)
    return Applied(qualified=tree & ~junk, junk=junk, score=score, ready=ready)


def qualify_leaves(definition: rules.Definition) -> list[rules.Criterion]:
    return _leaves(definition.qualify)


def _leaves(group: rules.Group) -> list[rules.Criterion]:
    out: list[rules.Criterion] = []
    stack: list[rules.Group | rules.Criterion] = [group]
    while stack:
        node = stack.pop()
        if isinstance(node, rules.Group):
            stack.extend(node.children)
        else:
            out.append(node)
    return out


def handed(applied: Applied, stages: rules.Stages, cut: str) -> np.ndarray:
    """The leads that reach the handoff cut."""
    if cut == "qualified":
        return applied.qualified
    if cut == "mql":
        return applied.qualified & (applied.score >= stages.mql)
    return np.asarray(applied.qualified & (applied.score >= stages.sql) & applied.ready)


# ----------------------------------------------------------------------- measuring


@dataclass
class Part:
    """One side of the split: its labelled leads and all its leads (for leads a week)."""

    labelled: np.ndarray  # bool over all leads
    every: np.ndarray  # bool over all leads
    y: np.ndarray  # bool over all leads: good (meaningful where labelled)
    per_week_factor: float  # handed leads of this part → leads a week for the workshop


def cells(pred: np.ndarray, part: Part) -> np.ndarray:
    """tp, fp, fn, tn on the part's labelled leads."""
    p = pred[part.labelled]
    y = part.y[part.labelled]
    tp = int(np.count_nonzero(p & y))
    fp = int(np.count_nonzero(p & ~y))
    fn = int(np.count_nonzero(~p & y))
    return np.array([tp, fp, fn, len(p) - tp - fp - fn], dtype=np.int64)


def ratios(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """precision, recall, F1 of one confusion (shape (4,)) or many (shape (k, 4))."""
    tp, fp, fn = c[..., 0].astype(float), c[..., 1].astype(float), c[..., 2].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    return precision, recall, f1


def objective(goal: Goal, c: np.ndarray) -> np.ndarray:
    """The goal's value of each confusion; a bound not met scores below every feasible
    value, by how far it is missed (so a search still moves towards it)."""
    precision, recall, f1 = ratios(c)
    if goal.objective == "precision":
        return np.where(recall >= goal.min_recall, precision, recall - goal.min_recall - 1)
    if goal.objective == "recall":
        return np.where(precision >= goal.min_precision, recall, precision - goal.min_precision - 1)
    if goal.objective == "capacity":
        return recall  # of the leads within capacity: capped() already chose them
    return f1


def capped(pred: np.ndarray, score: np.ndarray, part: Part, goal: Goal) -> np.ndarray:
    """For the capacity objective: only the best leads by score, at most ``capacity``
    a week; ties keep the earlier lead."""
    if goal.objective != "capacity" or goal.capacity is None:
        return pred
    limit = int(goal.capacity / part.per_week_factor)
    chosen = np.flatnonzero(pred & part.every)
    if len(chosen) <= limit:
        return pred
    order = np.argsort(-score[chosen], kind="stable")[:limit]
    out: np.ndarray = pred & ~part.every
    out[chosen[order]] = True
    return out


def figures(pred: np.ndarray, part: Part) -> Figures:
    c = cells(pred, part)
    precision, recall, f1 = ratios(c)
    samples = _bootstrap(c)
    bp, br, bf = ratios(samples)
    return Figures(
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
        per_week=float(np.count_nonzero(pred & part.every) * part.per_week_factor),
        handed=int(c[0] + c[1]),
        n=int(c.sum()),
        intervals={
            "precision": _interval(bp),
            "recall": _interval(br),
            "f1": _interval(bf),
        },
    )


def _bootstrap(c: np.ndarray) -> np.ndarray:
    """Resampling the leads with replacement is a multinomial draw of their cells."""
    total = int(c.sum())
    if total == 0:
        return np.zeros((BOOTSTRAP, len(c)), dtype=np.int64)
    return np.random.default_rng(SEED).multinomial(total, c / total, size=BOOTSTRAP)


def _interval(values: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def effect(
    goal: Goal, before: np.ndarray, after: np.ndarray, part: Part
) -> tuple[float, float, float]:
    """The change of the objective from ``before`` to ``after`` on the part, with its
    95 % interval: the same leads resampled for both (a paired bootstrap over the eight
    cells of before, after and label)."""
    lab = part.labelled
    b, a, y = before[lab], after[lab], part.y[lab]
    joint = np.array(
        [np.count_nonzero((b == bb) & (a == aa) & (y == yy)) for bb in (True, False)
         for aa in (True, False) for yy in (True, False)],
        dtype=np.int64,
    )  # fmt: skip
    total = int(joint.sum())
    if total == 0:
        return 0.0, 0.0, 0.0
    draws = np.random.default_rng(SEED).multinomial(total, joint / total, size=BOOTSTRAP)
    point = _diff(goal, joint[None, :])[0]
    spread = _diff(goal, draws)
    low, high = _interval(spread)
    return float(point), low, high


def _diff(goal: Goal, joint: np.ndarray) -> np.ndarray:
    # Cells in order (before, after, label) over (T, F) for each.
    def conf(index: int) -> np.ndarray:
        hit = [i for i in range(8) if ((i >> (2 - index)) & 1) == 0]  # predicted True
        good = [i for i in range(8) if (i & 1) == 0]
        tp = joint[:, sorted(set(hit) & set(good))].sum(axis=1)
        fp = joint[:, sorted(set(hit) - set(good))].sum(axis=1)
        fn = joint[:, sorted(set(good) - set(hit))].sum(axis=1)
        tn = joint.sum(axis=1) - tp - fp - fn
        return np.stack([tp, fp, fn, tn], axis=1)

    return np.asarray(objective(goal, conf(1)) - objective(goal, conf(0)))


# ------------------------------------------------------------------------ thresholds


def best_threshold(
    goal: Goal, eligible: np.ndarray, score: np.ndarray, part: Part
) -> tuple[int, float]:
    """The score threshold (handing over eligible leads with score >= it) with the best
    objective on the part's labelled leads: every distinct score tried at once."""
    lab = part.labelled & eligible
    s = score[lab]
    y = part.y[lab]
    positives = int(np.count_nonzero(part.y[part.labelled]))
    total = int(np.count_nonzero(part.labelled))
    if len(s) == 0:
        return 0, float("-inf")
    values, inverse = np.unique(s, return_inverse=True)
    good = np.bincount(inverse, weights=y, minlength=len(values))
    count = np.bincount(inverse, minlength=len(values))
    # Handing over scores >= values[k]: suffix sums.
    tp = np.cumsum(good[::-1])[::-1]
    handed_n = np.cumsum(count[::-1])[::-1]
    fp = handed_n - tp
    fn = positives - tp
    tn = total - tp - fp - fn
    c = np.stack([tp, fp, fn, tn], axis=1)
    value = objective(goal, c)
    if goal.objective == "capacity" and goal.capacity is not None:
        weekly = _eligible_weekly(eligible, score, part, values)
        value = np.where(weekly <= goal.capacity, value, -1.0)
    # A definition's thresholds are whole points from 0 up (rules.validate): a negative
    # threshold would be a draft that cannot be saved, so it is never chosen.
    value = np.where(values >= 0, value, -np.inf)
    if not np.any(values >= 0):
        return 0, float("-inf")
    best = int(np.argmax(value))
    return int(values[best]), float(value[best])


def _eligible_weekly(
    eligible: np.ndarray, score: np.ndarray, part: Part, values: np.ndarray
) -> np.ndarray:
    s = np.sort(score[eligible & part.every])
    above = len(s) - np.searchsorted(s, values, side="left")
    return above * part.per_week_factor


# ------------------------------------------------------------------------- scorecard


@dataclass
class Scorecard:
    points: dict[int, int]  # candidate column → points


def fit_scorecard(
    features: np.ndarray,
    y: np.ndarray,
    *,
    max_criteria: int = 12,
    scale: int = SCALE,
    screen: int = SCREEN,
) -> dict[int, int]:
    """An L1-regularised logistic regression over the candidate criteria, its weights
    rounded to whole points (the largest worth ``scale``); at most ``max_criteria``.

    Only the ``screen`` criteria most associated with the label on their own (chi²)
    enter the fit: a dozen criteria survive the L1 penalty anyway, and fitting on a
    few dozen columns instead of hundreds is what keeps discovery at 1M leads within
    a minute."""
    from sklearn.feature_selection import chi2
    from sklearn.linear_model import LogisticRegression

    if len(y) < 50 or y.min() == y.max():
        return {}
    columns = np.arange(features.shape[1])
    if features.shape[1] > screen:
        with np.errstate(divide="ignore", invalid="ignore"):
            strength, _p = chi2(features, y)
        strength = np.nan_to_num(strength, nan=0.0)
        columns = np.sort(np.argsort(-strength, kind="stable")[:screen])
    model = LogisticRegression(
        l1_ratio=1, C=1.0, solver="liblinear", max_iter=200, tol=1e-3, random_state=0
    )
    model.fit(features[:, columns].astype(np.float32), y.astype(np.int8))
    weights = model.coef_[0]
    largest = float(np.max(np.abs(weights)))
    if largest == 0:
        return {}
    points = np.rint(weights / largest * scale).astype(int)
    keep = np.argsort(-np.abs(points), kind="stable")[:max_criteria]
    return {int(columns[i]): int(points[i]) for i in keep if points[i] != 0}
