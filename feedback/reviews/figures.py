"""A review's figures from its stored counts: precision, recall and F1 with 95 %
intervals, the promise against the observation, and the plain sentences that say so.
Counts in, words out; the database work is in services.py."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from feedback.accuracy import metrics
from feedback.models import VersionReview

TRUTHS = ("outcomes", "verdicts")


def confusion_of(counts: Any) -> metrics.Confusion | None:
    """A confusion matrix from stored counts; None when none were stored."""
    if not isinstance(counts, dict):
        return None
    try:
        return metrics.Confusion(
            tp=int(counts["tp"]), fp=int(counts["fp"]), fn=int(counts["fn"]), tn=int(counts["tn"])
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Figures:
    """One truth's measures of one side (promised or observed)."""

    confusion: metrics.Confusion

    @property
    def precision(self) -> metrics.Rate:
        return self.confusion.precision

    @property
    def recall(self) -> metrics.Rate:
        return self.confusion.recall

    @property
    def f1(self) -> float | None:
        return self.confusion.f1

    @property
    def f1_interval(self) -> metrics.Interval | None:
        return metrics.f1_interval(self.confusion)

    @property
    def f1_margin(self) -> float | None:
        """Half the interval's width: the "± 0.03" of the sentence."""
        interval = self.f1_interval
        return None if interval is None else (interval.high - interval.low) / 2

    @property
    def f1_text(self) -> str:
        """ "0.71 ± 0.03 (0.68 to 0.74)" with an en dash, or "not enough data (n = 4)"."""
        c = self.confusion
        n = c.tp + c.fp + c.fn
        if self.f1 is None or not self.enough:
            return _("not enough data (n = %(n)s)") % {"n": count(n)}
        interval = self.f1_interval
        assert interval is not None
        low, high = decimal(interval.low), decimal(interval.high)
        return f"{decimal(self.f1)} ± {decimal(self.f1_margin)} ({low}\N{EN DASH}{high})"

    @property
    def enough(self) -> bool:
        """F1 rests on the leads that are good or handed over: ten at least."""
        c = self.confusion
        return c.tp + c.fp + c.fn >= metrics.MIN_SAMPLE


def decimal(value: float | None) -> str:
    """Two decimals in the reader's format, rounded (number_format alone cuts floats)."""
    if value is None:
        return "—"
    return number_format(Decimal(repr(value)).quantize(Decimal("0.01"), ROUND_HALF_UP), 2)


def count(value: int) -> str:
    return number_format(value, 0, force_grouping=True)


@dataclass(frozen=True)
class Comparison:
    """Promised against observed for one truth (outcomes or the reps' verdicts)."""

    truth: str
    promised: Figures | None
    observed: Figures | None

    @property
    def label(self) -> str:
        return _("against outcomes") if self.truth == "outcomes" else _("against reps' verdicts")

    @property
    def outside(self) -> bool:
        """The observed F1 falls outside the promised interval (with enough leads on
        both sides to say so)."""
        if self.promised is None or self.observed is None:
            return False
        if not (self.promised.enough and self.observed.enough):
            return False
        interval, value = self.promised.f1_interval, self.observed.f1
        if interval is None or value is None:
            return False
        return not interval.low <= value <= interval.high

    @property
    def direction(self) -> str:
        """ "worse" or "better" when outside, else ""."""
        if not self.outside:
            return ""
        assert self.promised is not None and self.observed is not None
        return "worse" if (self.observed.f1 or 0) < (self.promised.f1 or 0) else "better"


@dataclass(frozen=True)
class Review:
    """A version's review as the pages, the record and the notifications show it."""

    row: VersionReview
    number: int
    minimum: int
    comparisons: list[Comparison]

    @property
    def decided(self) -> int:
        return self.row.decided

    @property
    def ready(self) -> bool:
        return self.row.computed_at is not None and self.decided >= self.minimum

    @property
    def has_promise(self) -> bool:
        return bool(self.row.promise)

    @property
    def drift(self) -> bool:
        return self.ready and any(c.outside for c in self.comparisons)

    @property
    def headline(self) -> Comparison | None:
        """The truth the sentence leads with: outcomes when they say enough, else the
        reps' verdicts, else whichever has a promise."""
        usable = [c for c in self.comparisons if c.observed is not None and c.observed.enough]
        with_promise = [c for c in usable if c.promised is not None and c.promised.enough]
        for group in (with_promise, usable, self.comparisons):
            if group:
                return group[0]
        return None

    def sentence_for(self, comparison: Comparison) -> str:
        observed = comparison.observed
        params = {
            "n": self.number,
            "truth": comparison.label,
            "decided": count(self.decided),
            "observed": decimal(observed.f1 if observed else None),
            "observed_margin": decimal(observed.f1_margin if observed else None),
        }
        promised = comparison.promised
        if promised is None or promised.f1 is None:
            return (
                _(
                    "v%(n)s had no backtest when it was published; on the %(decided)s leads "
                    "decided since, F1 %(observed)s ± %(observed_margin)s %(truth)s."
                )
                % params
            )
        params["promised"] = decimal(promised.f1)
        params["promised_margin"] = decimal(promised.f1_margin)
        return (
            _(
                "v%(n)s promised F1 %(promised)s ± %(promised_margin)s %(truth)s; on the "
                "%(decided)s leads decided since, %(observed)s ± %(observed_margin)s."
            )
            % params
        )

    @property
    def sentence(self) -> str:
        if self.row.computed_at is None:
            return _("v%(n)s has not been reviewed yet.") % {"n": self.number}
        if not self.ready:
            return _(
                "%(decided)s leads decided since v%(n)s went live; its review needs %(needed)s."
            ) % {"decided": count(self.decided), "n": self.number, "needed": count(self.minimum)}
        headline = self.headline
        if headline is None:
            return _("v%(n)s has not been reviewed yet.") % {"n": self.number}
        return self.sentence_for(headline)

    @property
    def sentences(self) -> list[str]:
        """One sentence per truth with enough decided leads."""
        if not self.ready:
            return [self.sentence]
        return [
            self.sentence_for(c)
            for c in self.comparisons
            if c.observed is not None and c.observed.enough
        ] or [self.sentence]

    @property
    def alarm(self) -> str:
        """The drift alarm's words, or "" when the version keeps its promise."""
        if not self.drift:
            return ""
        worse = any(c.direction == "worse" for c in self.comparisons)
        if worse:
            return _(
                "Drift: since it went live v%(n)s does worse than the interval its backtest "
                "promised. The suggestions may show what changed."
            ) % {"n": self.number}
        return _(
            "Drift: since it went live v%(n)s does better than the interval its backtest "
            "promised; the leads may have changed. The suggestions may show what changed."
        ) % {"n": self.number}

    def notification_params(self) -> dict[str, Any]:
        """The figures as values, not text: the notification writes them out in each
        reader's language (definitions.notifications.services.PARAM_FORMATS)."""
        headline = self.headline
        observed = headline.observed if headline else None
        promised = headline.promised if headline else None
        return {
            "version": self.number,
            "decided": self.decided,
            "observed": observed.f1 if observed else None,
            "promised": (
                [promised.f1, promised.f1_margin]
                if promised is not None and promised.f1 is not None
                else None
            ),
        }


def promised_counts(promise: Any, truth: str, handoff: str | None) -> Any:
    """The promise's counts for `truth` at `handoff` (the stage the observation was
    counted at) when it kept every cut, else at the stage it was kept at."""
    if not isinstance(promise, dict):
        return None
    cuts = promise.get("cuts")
    if handoff and isinstance(cuts, dict) and isinstance(cuts.get(handoff), dict):
        return cuts[handoff].get(truth)
    return promise.get(truth)


def review_of(row: VersionReview, *, number: int, minimum: int) -> Review:
    comparisons = []
    handoff = (row.observed or {}).get("handoff")
    for truth in TRUTHS:
        promised = confusion_of(promised_counts(row.promise, truth, handoff))
        observed = confusion_of((row.observed or {}).get(truth))
        comparisons.append(
            Comparison(
                truth=truth,
                promised=Figures(promised) if promised is not None else None,
                observed=Figures(observed) if observed is not None else None,
            )
        )
    return Review(row=row, number=number, minimum=minimum, comparisons=comparisons)
