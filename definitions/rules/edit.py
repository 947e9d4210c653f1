"""Reading and editing a definition's JSON document in place of its typed form: what
the builder and the suggestions need to change one part of a document and keep every
other byte of it (ids, order, rationale). The only code besides validate.py that
knows the document's layout; every walk is iterative, so a hostile document cannot
exhaust the stack."""

from __future__ import annotations

import copy
from typing import Any

GROUP_KEYS = ("all", "any", "of")
# The flat sections of a document, by the builder's container tokens.
SECTIONS = {
    "@disqualify": ("disqualify",),
    "@scoring": ("scoring",),
    "@sales_ready": ("stages", "sales_ready"),
}


def is_group(raw: object) -> bool:
    return isinstance(raw, dict) and any(key in raw for key in GROUP_KEYS)


def group_key(group: dict[str, Any]) -> str:
    """Which of all / any / of holds the group's children."""
    return next((key for key in GROUP_KEYS if key in group), "all")


def qualify_root(document: dict[str, Any]) -> dict[str, Any]:
    root: dict[str, Any] = document["qualify"]
    return root


def section(document: dict[str, Any], token: str) -> list[Any]:
    """The list of a flat section ("@disqualify", "@scoring", "@sales_ready")."""
    node: Any = document
    for key in SECTIONS[token]:
        node = node[key]
    items: list[Any] = node
    return items


def _groups(document: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [qualify_root(document)]
    while stack:
        group = stack.pop()
        found.append(group)
        stack.extend(k for k in group.get(group_key(group)) or [] if is_group(k))
    return found


def node_ids(document: object) -> set[str]:
    """Every id used anywhere in the document."""
    ids: set[str] = set()
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("id"), str):
                ids.add(node["id"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return ids


def children_of(document: dict[str, Any], container: str) -> list[Any] | None:
    """The list that holds the children of `container`: a group id or a section token."""
    if container in SECTIONS:
        return section(document, container)
    for group in _groups(document):
        if group.get("id") == container:
            kids: list[Any] | None = group.get(group_key(group))
            return kids
    return None


def list_holding(document: dict[str, Any], node_id: str) -> list[Any] | None:
    """The list (a group's children or a section) in which the node `node_id` sits."""
    lists = [section(document, token) for token in SECTIONS]
    lists += [group.get(group_key(group)) or [] for group in _groups(document)]
    for candidate in lists:
        if any(isinstance(k, dict) and k.get("id") == node_id for k in candidate):
            return candidate
    return None


def mentions(document: object, key: str, value: str) -> bool:
    """Whether any object in the document has `key` == `value` (a field or an
    activity kind in use)."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get(key) == value:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def with_thresholds(document: dict[str, Any], *, mql: int, sql: int) -> dict[str, Any]:
    """A copy of the document with other MQL and SQL thresholds."""
    changed = copy.deepcopy(document)
    changed["stages"]["mql"] = mql
    changed["stages"]["sql"] = sql
    return changed


def with_junk_rule(document: dict[str, Any], rule: dict[str, Any]) -> dict[str, Any]:
    """A copy of the document with one more junk rule, at the end."""
    changed = copy.deepcopy(document)
    section(changed, "@disqualify").append(rule)
    return changed


def without_criterion(document: dict[str, Any], criterion_id: str) -> dict[str, Any] | None:
    """A copy of the document without that qualify criterion; None when its group would
    be left empty. An "at least N of" group left with fewer than N children asks for
    all of them."""
    changed = copy.deepcopy(document)
    for group in _groups(changed):
        key = group_key(group)
        children = group[key]
        for child in list(children):
            if isinstance(child, dict) and child.get("id") == criterion_id:
                if len(children) == 1:
                    return None
                children.remove(child)
                if key == "of":
                    group["at_least"] = min(group["at_least"], len(children))
                return changed
    return None


def points_to_scoring(document: dict[str, Any], criterion_id: str, new_id: str) -> bool:
    """Move a qualify criterion's points to a copy of it among the extra points (under
    ``new_id``), so it only decides who qualifies and the copy scores; in place. False
    when the criterion is not in the qualify tree or carries no points."""
    node = _criterion_node(document, criterion_id)
    if node is None or not node.get("points") or section_of(document, criterion_id) != "@qualify":
        return False
    copied = {**copy.deepcopy(node), "id": new_id}
    node["points"] = None
    section(document, "@scoring").append(copied)
    return True


def section_of(document: dict[str, Any], criterion_id: str) -> str | None:
    """The section token ("@qualify", "@disqualify", …) whose list holds the id."""
    holder = list_holding(document, criterion_id)
    if holder is None:
        return None
    for token in ("@disqualify", "@scoring", "@sales_ready"):
        if holder is section(document, token):
            return token
    return "@qualify"


class ChangeError(ValueError):
    """A change that does not apply to this document (its criterion is gone, or it
    would leave a group empty)."""


def _criterion_node(document: dict[str, Any], criterion_id: str) -> dict[str, Any] | None:
    holder = list_holding(document, criterion_id)
    if holder is None:
        return None
    return next(k for k in holder if isinstance(k, dict) and k.get("id") == criterion_id)


def _apply_one(document: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    op = change.get("op")
    if op == "add_qualify":
        root = qualify_root(document)
        if group_key(root) == "all":
            root["all"].append(copy.deepcopy(change["criterion"]))
        else:
            # An "any" or "at least" root would read the new criterion as one more
            # option; a qualify criterion must hold on its own, so the root is wrapped.
            ids = node_ids(document)
            wrapper = next(f"root-{n}" for n in range(1, len(ids) + 2) if f"root-{n}" not in ids)
            document["qualify"] = {"id": wrapper, "all": [root, copy.deepcopy(change["criterion"])]}
        return document
    if op == "add_junk":
        section(document, "@disqualify").append(copy.deepcopy(change["criterion"]))
        return document
    if op == "remove":
        target = str(change["id"])
        for token in SECTIONS:
            items = section(document, token)
            kept = [k for k in items if not (isinstance(k, dict) and k.get("id") == target)]
            if len(kept) != len(items):
                items[:] = kept
                return document
        removed = without_criterion(document, target)
        if removed is None:
            raise ChangeError(f"criterion {target} cannot be removed here")
        return removed
    if op == "set_value":
        node = _criterion_node(document, str(change["id"]))
        if node is None or "field" not in node:
            raise ChangeError(f"criterion {change['id']} is not in this document")
        node["value"] = copy.deepcopy(change["value"])
        if "op_to" in change:
            node["op"] = change["op_to"]
        return document
    if op == "thresholds":
        document["stages"]["mql"] = int(change["mql"])
        document["stages"]["sql"] = int(change["sql"])
        return document
    if op == "scorecard":
        # The score becomes the scorecard alone: points elsewhere are cleared, so the
        # learned points and thresholds mean exactly what they were measured as.
        stack: list[Any] = [qualify_root(document), section(document, "@sales_ready")]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif is_group(node):
                stack.append(node[group_key(node)])
            elif isinstance(node, dict):
                node["points"] = None
        section(document, "@scoring")[:] = copy.deepcopy(list(change["scoring"]))
        document["stages"]["mql"] = int(change["mql"])
        document["stages"]["sql"] = int(change["sql"])
        return document
    raise ChangeError(f"unknown change {op!r}")


def apply_changes(document: dict[str, Any], changes: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of the document with the changes discovery describes applied in order
    (feedback.suggestions: add_qualify, add_junk, remove, set_value, thresholds,
    scorecard). Raises ChangeError when one does not apply; the caller validates the
    result like any other document."""
    changed = copy.deepcopy(document)
    for change in changes:
        if not isinstance(change, dict):
            raise ChangeError("a change must be an object")
        try:
            changed = _apply_one(changed, change)
        except (KeyError, TypeError) as exc:
            raise ChangeError(f"malformed change {change.get('op')!r}") from exc
    return changed
