"""What discovery is asked (a Goal) and what it answers (a Discovery of Suggestions),
with their JSON forms: a DiscoveryRun stores the answer, the page and "turn into a
proposal" read it back, and `manage.py suggest` prints it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

OBJECTIVES = ("f1", "precision", "recall", "capacity")
TARGETS = ("outcome", "verdict", "both")
KINDS = ("add_qualify", "add_junk", "replace", "remove", "move", "scorecard", "recommended")


class GoalError(ValueError):
    """A goal that cannot be pursued; the message names the option at fault."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True)
class Goal:
    """What "better" means: the objective, measured against the target.

    precision: the best precision with recall at least ``min_recall``;
    recall: the best recall with precision at least ``min_precision``;
    capacity: at most ``capacity`` leads a week to sales, the best of them by score
    (judged by precision among those handed over)."""

    objective: str = "f1"
    target: str = "outcome"
    min_recall: float = 0.5
    min_precision: float = 0.5
    capacity: int | None = None

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise GoalError("objective", f"objective must be one of {', '.join(OBJECTIVES)}")
        if self.target not in TARGETS:
            raise GoalError("target", f"target must be one of {', '.join(TARGETS)}")
        for name in ("min_recall", "min_precision"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise GoalError(name, f"{name.replace('_', '-')} must be between 0 and 1")
        if self.objective == "capacity":
            if not isinstance(self.capacity, int) or isinstance(self.capacity, bool):
                raise GoalError("capacity", "capacity needs a number of leads a week")
            if not 1 <= self.capacity <= 1_000_000:
                raise GoalError("capacity", "capacity must be between 1 and 1000000 leads a week")

    def to_json(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "target": self.target,
            "min_recall": self.min_recall,
            "min_precision": self.min_precision,
            "capacity": self.capacity,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Goal:
        return cls(
            objective=raw.get("objective", "f1"),
            target=raw.get("target", "outcome"),
            min_recall=raw.get("min_recall", 0.5),
            min_precision=raw.get("min_precision", 0.5),
            capacity=raw.get("capacity"),
        )


@dataclass(frozen=True)
class Figures:
    """A definition measured on the validation part at the workshop's handoff stage.
    Each ratio comes with its 95 % interval (bootstrap over validation leads)."""

    precision: float
    recall: float
    f1: float
    per_week: float  # leads handed to sales per week, from the validation leads
    handed: int  # validation leads (with a known label) that reached the handoff stage
    n: int  # validation leads with a known label
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)

    def value(self, goal: Goal) -> float:
        """The objective's value (for capacity: precision among the leads handed over)."""
        if goal.objective == "recall":
            return self.recall
        if goal.objective in ("precision", "capacity"):
            return self.precision
        return self.f1

    def to_json(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "per_week": round(self.per_week, 1),
            "handed": self.handed,
            "n": self.n,
            "intervals": {
                k: [round(lo, 4), round(hi, 4)] for k, (lo, hi) in self.intervals.items()
            },
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Figures:
        return cls(
            precision=raw["precision"],
            recall=raw["recall"],
            f1=raw["f1"],
            per_week=raw["per_week"],
            handed=raw["handed"],
            n=raw["n"],
            intervals={k: (lo, hi) for k, (lo, hi) in raw.get("intervals", {}).items()},
        )


@dataclass(frozen=True)
class Suggestion:
    """One change to the version (or, for "recommended", the set of changes that make
    the recommended draft), with its evidence. ``changes`` are the edits
    definitions.rules.edit.apply_changes performs on the version's document."""

    key: str  # stable for the same data and goal: what --apply and the form name
    kind: str  # one of KINDS
    title: str  # plain language, in the language active when discovery ran
    evidence: str  # plain language: how many leads, conversion with / without, …
    changes: tuple[dict[str, Any], ...]
    before: Figures
    after: Figures
    effect: float  # after - before on the goal's objective; always > 0 when shown
    effect_interval: tuple[float, float]
    leads: int = 0  # learning leads the change concerns (0 for a scorecard)
    parts: tuple[str, ...] = ()  # for "recommended": the keys it combines

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "title": self.title,
            "evidence": self.evidence,
            "changes": list(self.changes),
            "validation": {"before": self.before.to_json(), "after": self.after.to_json()},
            "effect": round(self.effect, 4),
            "effect_interval": [round(x, 4) for x in self.effect_interval],
            "leads": self.leads,
            "parts": list(self.parts),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Suggestion:
        lo, hi = raw["effect_interval"]
        return cls(
            key=raw["key"],
            kind=raw["kind"],
            title=raw["title"],
            evidence=raw["evidence"],
            changes=tuple(raw["changes"]),
            before=Figures.from_json(raw["validation"]["before"]),
            after=Figures.from_json(raw["validation"]["after"]),
            effect=raw["effect"],
            effect_interval=(lo, hi),
            leads=raw.get("leads", 0),
            parts=tuple(raw.get("parts", ())),
        )


@dataclass(frozen=True)
class Leak:
    """A field discovery left out: marked "known only after the outcome", or suspected of
    leaking it and not yet cleared by an admin."""

    field: str  # catalog key
    label: str
    reason: str  # "marked" | "separates" | "filled_after"
    detail: str  # plain language, with the figure that raised the suspicion

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "label": self.label,
            "reason": self.reason,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Leak:
        return cls(raw["field"], raw["label"], raw["reason"], raw["detail"])


@dataclass(frozen=True)
class Discovery:
    version: int
    goal: Goal
    handoff: str  # the cut every figure is measured at
    learning: int  # labelled leads learned from
    validation: int  # labelled leads every figure is measured on
    candidates: int  # candidate criteria considered
    before: Figures | None  # the version itself on the validation part
    suggestions: tuple[Suggestion, ...]  # best effect first; never a non-positive one
    recommended: Suggestion | None
    leaks: tuple[Leak, ...]
    empty_reason: str = ""  # why nothing is suggested, in plain language
    seconds: float = 0.0
    # Measures any list of changes on the validation part, while the engine that found
    # them is alive (the command's --apply of several keys); None once stored.
    measure: Callable[[list[dict[str, Any]]], Figures | None] | None = field(
        default=None, compare=False, repr=False
    )

    def find(self, key: str) -> Suggestion | None:
        if self.recommended is not None and key in (self.recommended.key, "recommended"):
            return self.recommended
        return next((s for s in self.suggestions if s.key == key), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "goal": self.goal.to_json(),
            "handoff": self.handoff,
            "learning": self.learning,
            "validation": self.validation,
            "candidates": self.candidates,
            "before": self.before.to_json() if self.before else None,
            "suggestions": [s.to_json() for s in self.suggestions],
            "recommended": self.recommended.to_json() if self.recommended else None,
            "leaks": [leak.to_json() for leak in self.leaks],
            "empty_reason": self.empty_reason,
            "seconds": round(self.seconds, 2),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Discovery:
        return cls(
            version=raw["version"],
            goal=Goal.from_json(raw["goal"]),
            handoff=raw["handoff"],
            learning=raw["learning"],
            validation=raw["validation"],
            candidates=raw["candidates"],
            before=Figures.from_json(raw["before"]) if raw.get("before") else None,
            suggestions=tuple(Suggestion.from_json(s) for s in raw["suggestions"]),
            recommended=(
                Suggestion.from_json(raw["recommended"]) if raw.get("recommended") else None
            ),
            leaks=tuple(Leak.from_json(x) for x in raw.get("leaks", ())),
            empty_reason=raw.get("empty_reason", ""),
            seconds=raw.get("seconds", 0.0),
        )
