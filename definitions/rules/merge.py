"""Criterion-level three-way merge of definition documents, for rebasing a proposal.

``base`` is the version the proposal was drafted on, ``theirs`` the version published
since, ``ours`` the proposal's text. Criteria and groups are matched by id (as in the
diff); each one, and each of the scalar settings (the MQL and SQL thresholds, the
rationale), takes the side that changed it. When both sides changed the same one
differently it is a conflict, reported per criterion and settled by a resolution
("ours" or "theirs") for its id. Where a node sits (its group or section) is part of
what is compared, so a criterion moved on one side and edited on the other is a
conflict, not a silent pick.

Pure Python on the raw JSON document, like ``edit.py``: every walk is iterative.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .edit import GROUP_KEYS, group_key, is_group

Side = Literal["ours", "theirs"]

ROOT = "@qualify"
# The flat sections, by the builder's container tokens (see edit.SECTIONS).
_SECTIONS: dict[str, tuple[str, ...]] = {"@disqualify": ("disqualify",), "@scoring": ("scoring",)}
_SALES_READY = "@sales_ready"
# Scalar settings merged like criteria, under these pseudo-ids.
SCALARS: dict[str, tuple[str, ...]] = {
    "@mql": ("stages", "mql"),
    "@sql": ("stages", "sql"),
    "@rationale": ("rationale",),
}


@dataclass(frozen=True)
class Entry:
    """One node as the merge sees it: where it sits and its own content (a group's
    content leaves out its children, which are nodes of their own)."""

    container: str
    content: Any


@dataclass(frozen=True)
class Conflict:
    """A node both sides changed differently. ``None`` on a side: removed there."""

    node_id: str
    base: Any
    theirs: Any
    ours: Any

    @property
    def is_scalar(self) -> bool:
        return self.node_id in SCALARS


@dataclass(frozen=True)
class MergeResult:
    document: dict[str, Any] | None  # None while a conflict is unresolved
    conflicts: tuple[Conflict, ...]
    unresolved: tuple[str, ...] = field(default=())

    @property
    def clean(self) -> bool:
        return self.document is not None


def _entries(document: Mapping[str, Any]) -> tuple[dict[str, Entry], dict[str, list[str]]]:
    """Every node by id, and each container's children ids in order."""
    entries: dict[str, Entry] = {}
    order: dict[str, list[str]] = {}
    lists: list[tuple[str, list[Any]]] = []
    root = document.get("qualify")
    if isinstance(root, dict):
        lists.append((ROOT, [root]))
    for token, path in _SECTIONS.items():
        items = document.get(path[0])
        lists.append((token, items if isinstance(items, list) else []))
    stages = document.get("stages")
    ready = stages.get("sales_ready") if isinstance(stages, dict) else None
    lists.append((_SALES_READY, ready if isinstance(ready, list) else []))
    while lists:
        container, items = lists.pop()
        ids = order.setdefault(container, [])
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            node_id = item["id"]
            ids.append(node_id)
            if is_group(item):
                key = group_key(item)
                content = {k: v for k, v in item.items() if k not in GROUP_KEYS}
                content["@mode"] = key
                entries[node_id] = Entry(container, content)
                children = item.get(key)
                lists.append((node_id, children if isinstance(children, list) else []))
                order.setdefault(node_id, [])
            else:
                entries[node_id] = Entry(container, item)
    return entries, order


def _scalar(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = document
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _pick(base: Any, theirs: Any, ours: Any) -> tuple[bool, Any]:
    """(agreed, value): the side that changed, or both when they agree."""
    if theirs == ours:
        return True, ours
    if theirs == base:
        return True, ours
    if ours == base:
        return True, theirs
    return False, None


def merge(
    base: Mapping[str, Any],
    theirs: Mapping[str, Any],
    ours: Mapping[str, Any],
    resolutions: Mapping[str, Side] | None = None,
) -> MergeResult:
    """Merge the changes from ``base`` to ``theirs`` into ``ours``.

    The merged document keeps ours' order of children, with nodes only theirs added
    appended in theirs' order. Conflicts are always reported (so a page can show what
    was settled how); the document is None while one has no resolution."""
    resolutions = resolutions or {}
    b_entries, _b_order = _entries(base)
    t_entries, t_order = _entries(theirs)
    o_entries, o_order = _entries(ours)
    merged: dict[str, Entry | None] = {}
    conflicts: list[Conflict] = []
    for node_id in [*o_entries, *(i for i in t_entries if i not in o_entries), *b_entries]:
        if node_id in merged:
            continue
        b, t, o = b_entries.get(node_id), t_entries.get(node_id), o_entries.get(node_id)
        agreed, value = _pick(b, t, o)
        if not agreed:
            conflicts.append(
                Conflict(
                    node_id,
                    _shown(b),
                    _shown(t),
                    _shown(o),
                )
            )
            value = t if resolutions.get(node_id) == "theirs" else o
        merged[node_id] = value
    scalars: dict[str, Any] = {}
    for pseudo, path in SCALARS.items():
        b, t, o = (_scalar(d, path) for d in (base, theirs, ours))
        agreed, value = _pick(b, t, o)
        if not agreed:
            conflicts.append(Conflict(pseudo, b, t, o))
            value = t if resolutions.get(pseudo) == "theirs" else o
        scalars[pseudo] = value
    conflicts.extend(_orphan_conflicts(merged, b_entries, t_entries, o_entries, conflicts))
    # An orphan's group settled as kept is restored from the side that kept it.
    for conflict in conflicts:
        if conflict.node_id in SCALARS or merged.get(conflict.node_id):
            continue
        side = resolutions.get(conflict.node_id)
        entries = t_entries if side == "theirs" else o_entries
        merged[conflict.node_id] = entries.get(conflict.node_id)
        if merged[conflict.node_id] is not None:
            _restore_contents(conflict.node_id, entries, merged)
    unresolved = tuple(c.node_id for c in conflicts if c.node_id not in resolutions)
    if unresolved:
        return MergeResult(None, tuple(conflicts), unresolved)
    document = _build(ours, merged, o_order, t_order, scalars)
    return MergeResult(document, tuple(conflicts))


def _restore_contents(
    group_id: str, entries: dict[str, Entry], merged: dict[str, Entry | None]
) -> None:
    """A group kept against the side that removed it keeps all it holds on the side
    that kept it, not only what that side changed."""
    inside = {group_id}
    grew = True
    while grew:
        grew = False
        for node_id, entry in entries.items():
            if entry.container in inside and node_id not in inside:
                inside.add(node_id)
                grew = True
                if merged.get(node_id) is None:
                    merged[node_id] = entry


def _shown(entry: Entry | None) -> Any:
    return None if entry is None else entry.content


def _orphan_conflicts(
    merged: dict[str, Entry | None],
    b_entries: dict[str, Entry],
    t_entries: dict[str, Entry],
    o_entries: dict[str, Entry],
    known: list[Conflict],
) -> list[Conflict]:
    """A group removed on one side while the other changed something inside it: the
    group itself is the conflict (keep it with its contents, or remove it)."""
    found: dict[str, Conflict] = {}
    seen = {c.node_id for c in known}
    for entry in merged.values():
        if entry is None or entry.container.startswith("@"):
            continue
        container = entry.container
        if merged.get(container) is None and container not in seen and container not in found:
            b, t, o = (
                _shown(b_entries.get(container)),
                _shown(t_entries.get(container)),
                _shown(o_entries.get(container)),
            )
            found[container] = Conflict(container, b, t, o)
    return list(found.values())


def _build(
    ours: Mapping[str, Any],
    merged: dict[str, Entry | None],
    o_order: dict[str, list[str]],
    t_order: dict[str, list[str]],
    scalars: dict[str, Any],
) -> dict[str, Any]:
    children: dict[str, list[str]] = {}
    for container in [*o_order, *(c for c in t_order if c not in o_order)]:
        ids = [*o_order.get(container, []), *t_order.get(container, [])]
        for node_id in ids:
            entry = merged.get(node_id)
            if entry is None or entry.container != container:
                continue
            bucket = children.setdefault(container, [])
            if node_id not in bucket:
                bucket.append(node_id)
    # Nodes whose container moved them somewhere neither order lists (a move on the
    # side whose order was not walked for that container) still get placed.
    for node_id, entry in merged.items():
        if entry is not None and node_id not in children.get(entry.container, []):
            children.setdefault(entry.container, []).append(node_id)

    def build_node(node_id: str) -> dict[str, Any]:
        entry = merged[node_id]
        assert entry is not None
        content = copy.deepcopy(entry.content)
        if isinstance(content, dict) and "@mode" in content:
            mode = content.pop("@mode")
            # Iterative over depth is not needed: documents are depth-limited by the
            # validator, and this runs on validated documents only.
            content[mode] = [build_node(c) for c in children.get(node_id, [])]
        result: dict[str, Any] = content
        return result

    document = copy.deepcopy(dict(ours))
    roots = [n for n in children.get(ROOT, []) if merged.get(n) is not None]
    if roots:
        document["qualify"] = build_node(roots[0])
    for token, path in _SECTIONS.items():
        document[path[0]] = [build_node(n) for n in children.get(token, [])]
    stages = document.setdefault("stages", {})
    stages["sales_ready"] = [build_node(n) for n in children.get(_SALES_READY, [])]
    for pseudo, path in SCALARS.items():
        value = scalars[pseudo]
        target: dict[str, Any] = document
        for key in path[:-1]:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    return document
