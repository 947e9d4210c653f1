"""Criterion-level diff between two definitions, for the proposal page.

Criteria and groups are matched by id (ids are unique across a document and survive
edits), so "the revenue rule went from 300M to 500M" is one change, not a removal
plus an addition.  The order of children inside a group carries no meaning, so
reordering is not a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from .catalog import Catalog
from .i18n import (
    NTranslate,
    PTranslate,
    Translate,
    _,
    english_ngettext,
    english_pgettext,
    identity,
    ngettext_lazy,
    pgettext_lazy,
)
from .render import render_criterion, render_criterion_with_points
from .schema import Criterion, Definition, Group, GroupMode, Located, Section, walk


@dataclass(frozen=True)
class CriterionAdded:
    criterion: Criterion
    section: Section
    parent: str | None

    @property
    def criterion_id(self) -> str | None:
        return self.criterion.id


@dataclass(frozen=True)
class CriterionRemoved:
    criterion: Criterion
    section: Section
    parent: str | None

    @property
    def criterion_id(self) -> str | None:
        return self.criterion.id


@dataclass(frozen=True)
class CriterionChanged:
    """The condition changed (field, operator, value, window, category…)."""

    old: Criterion
    new: Criterion

    @property
    def criterion_id(self) -> str | None:
        return self.new.id


@dataclass(frozen=True)
class CriterionMoved:
    criterion: Criterion
    old_section: Section
    old_parent: str | None
    new_section: Section
    new_parent: str | None

    @property
    def criterion_id(self) -> str | None:
        return self.criterion.id


@dataclass(frozen=True)
class PointsChanged:
    criterion: Criterion
    old: int | None
    new: int | None

    @property
    def criterion_id(self) -> str | None:
        return self.criterion.id


@dataclass(frozen=True)
class GroupAdded:
    group: Group
    parent: str | None

    @property
    def criterion_id(self) -> str | None:
        return None


@dataclass(frozen=True)
class GroupRemoved:
    group: Group
    parent: str | None

    @property
    def criterion_id(self) -> str | None:
        return None


@dataclass(frozen=True)
class GroupChanged:
    """Mode (all / any / at least) or n changed."""

    old: Group
    new: Group

    @property
    def criterion_id(self) -> str | None:
        return None


@dataclass(frozen=True)
class GroupMoved:
    group: Group
    old_parent: str | None
    new_parent: str | None

    @property
    def criterion_id(self) -> str | None:
        return None


@dataclass(frozen=True)
class ThresholdChanged:
    stage: Literal["mql", "sql"]
    old: int
    new: int

    @property
    def criterion_id(self) -> str | None:
        return None


@dataclass(frozen=True)
class RationaleChanged:
    old: str
    new: str

    @property
    def criterion_id(self) -> str | None:
        return None


Change = (
    CriterionAdded
    | CriterionRemoved
    | CriterionChanged
    | CriterionMoved
    | PointsChanged
    | GroupAdded
    | GroupRemoved
    | GroupChanged
    | GroupMoved
    | ThresholdChanged
    | RationaleChanged
)


def _condition(criterion: Criterion) -> Criterion:
    # Everything but the points: points have their own change kind.
    return replace(criterion, points=None)


def diff(old: Definition, new: Definition) -> tuple[Change, ...]:
    """Changes from ``old`` to ``new``, in the new document's order, then removals in
    the old document's order, then thresholds and rationale.  ``diff(a, a) == ()``."""
    old_nodes = {loc.node.id: loc for loc in walk(old)}
    new_nodes = {loc.node.id: loc for loc in walk(new)}
    changes: list[Change] = []

    def same_kind(a: Located, b: Located) -> bool:
        return isinstance(a.node, Group) == isinstance(b.node, Group)

    for loc in new_nodes.values():
        before = old_nodes.get(loc.node.id)
        node = loc.node
        if before is None or not same_kind(before, loc):
            if isinstance(node, Group):
                changes.append(GroupAdded(node, loc.parent))
            else:
                changes.append(CriterionAdded(node, loc.section, loc.parent))
            continue
        moved = (before.section, before.parent) != (loc.section, loc.parent)
        if isinstance(node, Group):
            assert isinstance(before.node, Group)
            if (before.node.mode, before.node.n) != (node.mode, node.n):
                changes.append(GroupChanged(before.node, node))
            if moved:
                changes.append(GroupMoved(node, before.parent, loc.parent))
            continue
        assert not isinstance(before.node, Group)
        if _condition(before.node) != _condition(node):
            changes.append(CriterionChanged(before.node, node))
        if moved:
            changes.append(
                CriterionMoved(node, before.section, before.parent, loc.section, loc.parent)
            )
        if before.node.points != node.points:
            changes.append(PointsChanged(node, before.node.points, node.points))

    for loc in old_nodes.values():
        after = new_nodes.get(loc.node.id)
        if after is not None and same_kind(loc, after):
            continue
        if isinstance(loc.node, Group):
            changes.append(GroupRemoved(loc.node, loc.parent))
        else:
            changes.append(CriterionRemoved(loc.node, loc.section, loc.parent))

    if old.stages.mql != new.stages.mql:
        changes.append(ThresholdChanged("mql", old.stages.mql, new.stages.mql))
    if old.stages.sql != new.stages.sql:
        changes.append(ThresholdChanged("sql", old.stages.sql, new.stages.sql))
    if old.rationale != new.rationale:
        changes.append(RationaleChanged(old.rationale, new.rationale))
    return tuple(changes)


# --------------------------------------------------------------------------- describe

_ADDED = {
    Section.QUALIFY: _("New qualifying criterion: {criterion}"),
    Section.DISQUALIFY: _("New junk rule: {criterion}"),
    Section.SCORING: _("New points rule: {criterion}"),
    Section.SALES_READY: _("New sales-ready action: {criterion}"),
}
_REMOVED = {
    Section.QUALIFY: _("Removed qualifying criterion: {criterion}"),
    Section.DISQUALIFY: _("Removed junk rule: {criterion}"),
    Section.SCORING: _("Removed points rule: {criterion}"),
    Section.SALES_READY: _("Removed sales-ready action: {criterion}"),
}
_PLACES = {
    Section.DISQUALIFY: _("the junk rules"),
    Section.SCORING: _("the points rules"),
    Section.SALES_READY: _("the sales-ready actions"),
}
_IN_GROUP = _("qualifying group “{group}”")
_TOP_LEVEL = _("the top of the qualifying rules")
_CHANGED = _("Changed: {old} → {new}")
_MOVED = _("Moved: {criterion}, from {old} to {new}")
_POINTS_CHANGED = _("Points for “{criterion}”: {old} → {new}")
_NO_POINTS = _("none")
_MODE_ALL = _("all must match")
_MODE_ANY = _("at least one must match")
_MODE_AT_LEAST = ngettext_lazy("at least {n} must match", "at least {n} must match")
_GROUP_ADDED = _("New group “{group}” ({mode})")
_GROUP_REMOVED = _("Removed group “{group}” ({mode})")
_GROUP_CHANGED = _("Group “{group}”: {old} → {new}")
_GROUP_MOVED = _("Moved group “{group}” from {old} to {new}")
# Groups by what they are and where they sit, never by their id ("g-a71dc4").
_SHORT_ALL = _("all of")
_SHORT_ANY = _("any of")
_SHORT_AT_LEAST = ngettext_lazy("at least {n} of", "at least {n} of")
_GROUP_BY_MODE = _("the “{mode}” group")
_GROUP_UNDER_QUALIFY = _("the “{mode}” group under Qualify")
_GROUP_INSIDE = _("the “{mode}” group inside {parent}")
# Sibling groups of the same kind under one parent would read alike: they are told
# apart by their place among those siblings ("the second “any of” group under
# Qualify"). Ordinals are words with a context, so each language can inflect them for
# "group" (and, beyond the tenth, a number takes over).
_ORDINALS: tuple[tuple[str, str], ...] = (
    pgettext_lazy("ordinal of a group", "first"),
    pgettext_lazy("ordinal of a group", "second"),
    pgettext_lazy("ordinal of a group", "third"),
    pgettext_lazy("ordinal of a group", "fourth"),
    pgettext_lazy("ordinal of a group", "fifth"),
    pgettext_lazy("ordinal of a group", "sixth"),
    pgettext_lazy("ordinal of a group", "seventh"),
    pgettext_lazy("ordinal of a group", "eighth"),
    pgettext_lazy("ordinal of a group", "ninth"),
    pgettext_lazy("ordinal of a group", "tenth"),
)
_NTH_GROUP_UNDER_QUALIFY = _("the {ordinal} “{mode}” group under Qualify")
_NTH_GROUP_INSIDE = _("the {ordinal} “{mode}” group inside {parent}")
_NUMBERED_GROUP_UNDER_QUALIFY = _("the “{mode}” group no. {n} under Qualify")
_NUMBERED_GROUP_INSIDE = _("the “{mode}” group no. {n} inside {parent}")
_NAMED_GROUP_ADDED = _("Added {group}")
_NAMED_GROUP_REMOVED = _("Removed {group}")
_NAMED_GROUP_CHANGED = _("Changed {group}: {old} → {new}")
_NAMED_GROUP_MOVED = _("Moved {group} from {old} to {new}")
_MQL_CHANGED = _("MQL threshold {old} → {new}")
_SQL_CHANGED = _("SQL threshold {old} → {new}")
_RATIONALE_CHANGED = _("Rationale changed.")


def _place(
    section: Section,
    parent: str | None,
    translate: Translate,
    names: Mapping[str, str] | None = None,
) -> str:
    if section != Section.QUALIFY:
        return translate(_PLACES[section])
    if parent is None:
        return translate(_TOP_LEVEL)
    if names and parent in names:
        return names[parent]
    return translate(_IN_GROUP).format(group=parent)


def _short_mode(group: Group, translate: Translate, ntranslate: NTranslate) -> str:
    if group.mode == GroupMode.AT_LEAST:
        n = group.n or 0
        return ntranslate(*_SHORT_AT_LEAST, n).format(n=n)
    return translate(_SHORT_ALL if group.mode == GroupMode.ALL else _SHORT_ANY)


def _kind(group: Group) -> tuple[GroupMode, int | None]:
    # Two groups read alike exactly when their short modes do.
    return (group.mode, group.n if group.mode == GroupMode.AT_LEAST else None)


def _sibling_places(definition: Definition) -> dict[str, tuple[int, int]]:
    """Group id → (its place among its parent's child groups of its kind, how many such
    groups there are), counting from 1 in document order."""
    places: dict[str, tuple[int, int]] = {}
    for located in walk(definition):
        parent = located.node
        if not isinstance(parent, Group):
            continue
        children = [c for c in parent.children if isinstance(c, Group)]
        for child in children:
            alike = [c for c in children if _kind(c) == _kind(child)]
            places[child.id] = (alike.index(child) + 1, len(alike))
    return places


def group_names(
    *definitions: Definition,
    translate: Translate = identity,
    ntranslate: NTranslate = english_ngettext,
    ptranslate: PTranslate = english_pgettext,
) -> dict[str, str]:
    """Each group id of the definitions → how people name it: the root is "the top of
    the qualifying rules", the others "the “any of” group under Qualify", "the “all of”
    group inside the “any of” group under Qualify", or, when siblings of the same kind
    share a parent, "the second “any of” group under Qualify". The first definition to
    hold a group names it: a diff names a changed group as it was."""
    names: dict[str, str] = {}
    for definition in definitions:
        root = definition.qualify.id
        names.setdefault(root, translate(_TOP_LEVEL))
        places = _sibling_places(definition)
        for located in walk(definition):
            node = located.node
            if not isinstance(node, Group) or located.parent is None:
                continue
            if node.id in names:
                continue
            mode = _short_mode(node, translate, ntranslate)
            under_qualify = located.parent == root
            parent = names.get(located.parent, located.parent)
            place, alike = places.get(node.id, (1, 1))
            if alike == 1:
                template = _GROUP_UNDER_QUALIFY if under_qualify else _GROUP_INSIDE
                names[node.id] = translate(template).format(mode=mode, parent=parent)
            elif place <= len(_ORDINALS):
                template = _NTH_GROUP_UNDER_QUALIFY if under_qualify else _NTH_GROUP_INSIDE
                names[node.id] = translate(template).format(
                    ordinal=ptranslate(*_ORDINALS[place - 1]), mode=mode, parent=parent
                )
            else:
                template = (
                    _NUMBERED_GROUP_UNDER_QUALIFY if under_qualify else _NUMBERED_GROUP_INSIDE
                )
                names[node.id] = translate(template).format(n=place, mode=mode, parent=parent)
    return names


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def mode_phrase(
    group: Group, translate: Translate = identity, ntranslate: NTranslate = english_ngettext
) -> str:
    if group.mode == GroupMode.AT_LEAST:
        n = group.n or 0
        return ntranslate(*_MODE_AT_LEAST, n).format(n=n)
    return translate(_MODE_ALL if group.mode == GroupMode.ALL else _MODE_ANY)


def describe(
    change: Change,
    catalog: Catalog,
    translate: Translate = identity,
    ntranslate: NTranslate = english_ngettext,
    names: Mapping[str, str] | None = None,
) -> str:
    """One plain-language sentence for one change; with `names` (from group_names)
    groups are named by what they are and where they sit instead of by id."""

    def full(criterion: Criterion) -> str:
        return render_criterion_with_points(criterion, catalog, translate, ntranslate)

    def bare(criterion: Criterion) -> str:
        return render_criterion(criterion, catalog, translate, ntranslate)

    match change:
        case CriterionAdded(criterion=c, section=section):
            return translate(_ADDED[section]).format(criterion=full(c))
        case CriterionRemoved(criterion=c, section=section):
            return translate(_REMOVED[section]).format(criterion=full(c))
        case CriterionChanged(old=old, new=new):
            return translate(_CHANGED).format(old=bare(old), new=bare(new))
        case CriterionMoved():
            return translate(_MOVED).format(
                criterion=bare(change.criterion),
                old=_place(change.old_section, change.old_parent, translate, names),
                new=_place(change.new_section, change.new_parent, translate, names),
            )
        case PointsChanged(criterion=c, old=old_points, new=new_points):
            return translate(_POINTS_CHANGED).format(
                criterion=bare(c),
                old=translate(_NO_POINTS) if old_points is None else old_points,
                new=translate(_NO_POINTS) if new_points is None else new_points,
            )
        case GroupAdded(group=g) if names and g.id in names:
            return _sentence(translate(_NAMED_GROUP_ADDED).format(group=names[g.id]))
        case GroupRemoved(group=g) if names and g.id in names:
            return _sentence(translate(_NAMED_GROUP_REMOVED).format(group=names[g.id]))
        case GroupChanged(old=old_group, new=new_group) if names and new_group.id in names:
            return _sentence(
                translate(_NAMED_GROUP_CHANGED).format(
                    group=names[new_group.id],
                    old=mode_phrase(old_group, translate, ntranslate),
                    new=mode_phrase(new_group, translate, ntranslate),
                )
            )
        case GroupMoved(group=g, old_parent=old_parent, new_parent=new_parent) if (
            names and g.id in names
        ):
            return _sentence(
                translate(_NAMED_GROUP_MOVED).format(
                    # Named by its mode alone: the sentence says where it was and is.
                    group=translate(_GROUP_BY_MODE).format(
                        mode=_short_mode(g, translate, ntranslate)
                    ),
                    old=_place(Section.QUALIFY, old_parent, translate, names),
                    new=_place(Section.QUALIFY, new_parent, translate, names),
                )
            )
        case GroupAdded(group=g):
            return translate(_GROUP_ADDED).format(
                group=g.id, mode=mode_phrase(g, translate, ntranslate)
            )
        case GroupRemoved(group=g):
            return translate(_GROUP_REMOVED).format(
                group=g.id, mode=mode_phrase(g, translate, ntranslate)
            )
        case GroupChanged(old=old_group, new=new_group):
            return translate(_GROUP_CHANGED).format(
                group=new_group.id,
                old=mode_phrase(old_group, translate, ntranslate),
                new=mode_phrase(new_group, translate, ntranslate),
            )
        case GroupMoved(group=g, old_parent=old_parent, new_parent=new_parent):
            return translate(_GROUP_MOVED).format(
                group=g.id,
                old=_place(Section.QUALIFY, old_parent, translate),
                new=_place(Section.QUALIFY, new_parent, translate),
            )
        case ThresholdChanged(stage=stage, old=old_value, new=new_value):
            template = _MQL_CHANGED if stage == "mql" else _SQL_CHANGED
            return translate(template).format(old=old_value, new=new_value)
        case RationaleChanged():
            return translate(_RATIONALE_CHANGED)
