"""Checks of a valid definition that are warnings, not errors: it can be saved, but
it probably does not say what its authors meant.

- **duplicate**: two criteria of the same group (or flat section) test the same thing;
- **contradiction**: two criteria of an "all of" group can never both match, so the
  group never matches;
- **subsumed**: in an "any of" group a criterion that only matches where another
  already does adds nothing (and in an "all of" group, one another one implies);
- **threshold**: the MQL or SQL score is above the most points any lead can get;
- **no_lead**: (with the leads' value ranges) a comparison no lead's value reaches;
- **qualify_points**: a qualify criterion that also carries points: it decides who
  qualifies *and* adds to the score of every lead it matches.

Only field comparisons whose meaning is plain (equality, lists, ranges, presence) are
compared with each other; text searches ("contains", "starts with") and relative
dates are only ever duplicates. Each finding names the criterion it is shown at and,
where the fix is obvious, the builder action that applies it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .schema import (
    ActivityCriterion,
    Criterion,
    Definition,
    FieldCriterion,
    Group,
    GroupMode,
    Op,
    Section,
    Window,
    walk,
)

Number = float | str  # numbers compare as floats, dates as ISO text


@dataclass(frozen=True)
class Finding:
    code: str
    criterion_id: str | None  # None: about the thresholds
    other_id: str | None = None
    fix: str | None = None  # a builder action, e.g. "remove:c3"
    stage: str = ""  # threshold: "mql" or "sql"
    amount: object = None  # points, the most points reachable, or the leads' bound


# --------------------------------------------------------------------- what matches


@dataclass(frozen=True)
class _Domain:
    """The values a field criterion matches: absent, or present and (unless opaque)
    in ``allowed`` (None: any) minus ``excluded``, within [lo, hi]."""

    present: bool
    opaque: bool = False
    allowed: frozenset[object] | None = None
    excluded: frozenset[object] = frozenset()
    lo: Number | None = None
    lo_incl: bool = True
    hi: Number | None = None
    hi_incl: bool = True

    def admits(self, value: object) -> bool:
        if not self.present or self.opaque:
            return False
        if self.allowed is not None and value not in self.allowed:
            return False
        if value in self.excluded:
            return False
        if self.lo is not None and not _after(value, self.lo, self.lo_incl):
            return False
        return not (self.hi is not None and not _after(self.hi, value, self.hi_incl))

    @property
    def unrestricted(self) -> bool:
        return (
            self.present
            and not self.opaque
            and self.allowed is None
            and not self.excluded
            and self.lo is None
            and self.hi is None
        )


def _after(a: object, b: object, inclusive: bool) -> bool:
    try:
        return bool(a >= b) if inclusive else bool(a > b)  # type: ignore[operator]
    except TypeError:
        return False


def _key(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value).casefold()


def _domain(c: FieldCriterion) -> _Domain:
    op = c.op
    if op == Op.IS_NOT_SET:
        return _Domain(present=False)
    if op == Op.IS_SET:
        return _Domain(present=True)
    items = c.value if isinstance(c.value, tuple) else (c.value,)
    keys = frozenset(_key(v) for v in items)
    first = _key(items[0]) if items else None
    if op in (Op.EQ, Op.IN):
        return _Domain(present=True, allowed=keys)
    if op in (Op.NE, Op.NOT_IN):
        return _Domain(present=True, excluded=keys)
    bound: Number | None = first if isinstance(first, float | str) else None
    if op == Op.GT:
        return _Domain(present=True, lo=bound, lo_incl=False)
    if op == Op.GTE:
        return _Domain(present=True, lo=bound)
    if op == Op.LT:
        return _Domain(present=True, hi=bound, hi_incl=False)
    if op == Op.LTE:
        return _Domain(present=True, hi=bound)
    if op == Op.BETWEEN and len(items) == 2:
        high = _key(items[1])
        return _Domain(present=True, lo=bound, hi=high if isinstance(high, float | str) else None)
    return _Domain(present=True, opaque=True)  # contains, starts with, within the last days


def _interval_inside(a: _Domain, b: _Domain) -> bool:
    """[a.lo, a.hi] lies within [b.lo, b.hi]."""
    if b.lo is not None:
        if a.lo is None or not _after(a.lo, b.lo, True):
            return False
        if a.lo == b.lo and a.lo_incl and not b.lo_incl:
            return False
    if b.hi is not None:
        if a.hi is None or not _after(b.hi, a.hi, True):
            return False
        if a.hi == b.hi and a.hi_incl and not b.hi_incl:
            return False
    return True


def _implies_domain(a: _Domain, b: _Domain) -> bool:
    if not b.present:
        return not a.present
    if not a.present:
        return False
    if b.unrestricted:
        return True
    if a.opaque or b.opaque:
        return False
    if a.allowed is not None:
        return all(b.admits(v) for v in a.allowed if a.admits(v))
    if b.allowed is not None:
        return False
    return _interval_inside(a, b) and all(
        v in a.excluded or not _interval_inside(_Domain(True, lo=v, hi=v), a)  # type: ignore[arg-type]
        for v in b.excluded
    )


def _disjoint_domain(a: _Domain, b: _Domain) -> bool:
    if a.present != b.present:
        return True
    if not a.present or a.opaque or b.opaque:
        return False
    for finite, other in ((a, b), (b, a)):
        if finite.allowed is not None:
            return not any(other.admits(v) for v in finite.allowed if finite.admits(v))
    # Two ranges: apart when one ends before the other starts.
    for low, high in ((a, b), (b, a)):
        if (
            low.hi is not None
            and high.lo is not None
            and (
                not _after(low.hi, high.lo, True)
                or (low.hi == high.lo and not (low.hi_incl and high.lo_incl))
            )
        ):
            return True
    return False


def same_condition(a: Criterion, b: Criterion) -> bool:
    """The same test, whatever the ids, points and categories."""
    if isinstance(a, FieldCriterion) and isinstance(b, FieldCriterion):
        if a.field != b.field or a.op != b.op:
            return False
        va = a.value if isinstance(a.value, tuple) else (a.value,)
        vb = b.value if isinstance(b.value, tuple) else (b.value,)
        if a.op in (Op.IN, Op.NOT_IN):
            return {_key(v) for v in va} == {_key(v) for v in vb}
        return [_key(v) for v in va] == [_key(v) for v in vb]
    if isinstance(a, ActivityCriterion) and isinstance(b, ActivityCriterion):
        return (a.kind, a.min_count, a.window, a.days) == (b.kind, b.min_count, b.window, b.days)
    return False


def implies(a: Criterion, b: Criterion) -> bool:
    """Every lead ``a`` matches, ``b`` matches too (as far as can be told without data)."""
    if isinstance(a, FieldCriterion) and isinstance(b, FieldCriterion):
        if a.field != b.field:
            return False
        return same_condition(a, b) or _implies_domain(_domain(a), _domain(b))
    if isinstance(a, ActivityCriterion) and isinstance(b, ActivityCriterion):
        if a.kind != b.kind or a.min_count < b.min_count:
            return False
        if b.window == Window.EVER:
            return True
        if b.window == Window.LAST_DAYS and a.window == Window.LAST_DAYS:
            return (a.days or 0) <= (b.days or 0)
        return a.window == b.window == Window.ONE_DAY
    return False


def contradicts(a: Criterion, b: Criterion) -> bool:
    """No lead can match both."""
    if isinstance(a, FieldCriterion) and isinstance(b, FieldCriterion) and a.field == b.field:
        return _disjoint_domain(_domain(a), _domain(b))
    return False


# ---------------------------------------------------------------------- the checks


def _lists(definition: Definition) -> list[tuple[GroupMode, Sequence[Criterion]]]:
    """Each group's criteria (its direct children) and each flat section, with how its
    members combine: junk rules and sales-ready actions are "any of"."""
    out: list[tuple[GroupMode, Sequence[Criterion]]] = []
    for located in walk(definition):
        node = located.node
        if isinstance(node, Group):
            out.append((node.mode, [c for c in node.children if not isinstance(c, Group)]))
    out.append((GroupMode.ANY, definition.disqualify))
    out.append((GroupMode.ANY, definition.stages.sales_ready))
    # Scoring rules add up: only a duplicate (counted twice) is suspect there.
    out.append((GroupMode.AT_LEAST, definition.scoring))
    return out


def check(
    definition: Definition, ranges: Mapping[str, tuple[Number, Number]] | None = None
) -> list[Finding]:
    """Every warning about ``definition``, in document order. ``ranges`` holds the
    smallest and largest value the leads have of some number or date fields (dates as
    ISO text); without it the checks that need data are skipped."""
    findings: list[Finding] = []
    flagged: set[str] = set()

    def add(finding: Finding) -> None:
        key = f"{finding.code}:{finding.criterion_id}"
        if key not in flagged:
            flagged.add(key)
            findings.append(finding)

    for mode, members in _lists(definition):
        for j, later in enumerate(members):
            for earlier in members[:j]:
                if same_condition(earlier, later):
                    add(Finding("duplicate", later.id, earlier.id, fix=f"remove:{later.id}"))
                    break
                if mode == GroupMode.ALL and contradicts(earlier, later):
                    add(Finding("contradiction", later.id, earlier.id))
                    break
                if mode == GroupMode.ANY:
                    if implies(later, earlier):
                        add(Finding("subsumed", later.id, earlier.id, fix=f"remove:{later.id}"))
                        break
                    if implies(earlier, later):
                        add(Finding("subsumed", earlier.id, later.id, fix=f"remove:{earlier.id}"))
                if mode == GroupMode.ALL:
                    if implies(earlier, later):
                        add(Finding("implied", later.id, earlier.id, fix=f"remove:{later.id}"))
                        break
                    if implies(later, earlier):
                        add(Finding("implied", earlier.id, later.id, fix=f"remove:{earlier.id}"))

    for located in walk(definition):
        node = located.node
        if located.section == Section.QUALIFY and not isinstance(node, Group) and node.points:
            add(
                Finding(
                    "qualify_points",
                    node.id,
                    fix=f"points_to_scoring:{node.id}",
                    amount=node.points,
                )
            )

    best = max_score(definition)
    for stage, threshold in (("mql", definition.stages.mql), ("sql", definition.stages.sql)):
        if threshold > best:
            add(Finding("threshold", None, stage=stage, amount=best))

    if ranges:
        for located in walk(definition):
            node = located.node
            if isinstance(node, FieldCriterion) and node.field in ranges:
                low, high = ranges[node.field]
                found = _unreachable(node, _key(low), _key(high))
                if found is not None:
                    add(Finding("no_lead", node.id, stage=found[0], amount=found[1]))
    return findings


def _unreachable(c: FieldCriterion, low: object, high: object) -> tuple[str, object] | None:
    """("above", highest) or ("below", lowest) when no value between the leads' lowest
    and highest can match the comparison."""
    d = _domain(c)
    if not d.present or d.opaque or not isinstance(low, float | str):
        return None
    if d.allowed is not None:
        values = [v for v in d.allowed if isinstance(v, type(low))]
        if values and all(_after(v, high, False) for v in values):
            return ("above", high)
        if values and all(_after(low, v, False) for v in values):
            return ("below", low)
        return None
    if d.lo is not None and not _after(high, d.lo, d.lo_incl):
        return ("above", high)
    if d.hi is not None and not _after(d.hi, low, d.hi_incl):
        return ("below", low)
    return None


def max_score(definition: Definition) -> int:
    """The most points a lead can collect: every positive criterion outside the junk
    rules (which carry none), as if all matched at once."""
    junk = {c.id for c in definition.disqualify}
    return sum(
        c.points
        for located in walk(definition)
        if not isinstance(c := located.node, Group) and c.points and c.points > 0
        if c.id not in junk
    )
