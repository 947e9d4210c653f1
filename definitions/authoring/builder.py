"""The definition builder's form: the document <-> flat form fields, edit actions, and
validation errors mapped back to the criterion that caused them.

The whole document travels in one HTML form (one set of inputs per node, named
`n-<id>-<attr>`), so the builder works without JavaScript: every button is a submit
button whose `action` value says what to do; htmx only swaps the result in place.
Parsing is lenient on purpose: whatever the user typed goes into the document as
typed, and the rules' validator says what is wrong and where.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from definitions import rules
from definitions.core.labels import OP_LABELS
from definitions.rules import FieldType, Op, Window

SECTIONS = ("@qualify", "@disqualify", "@scoring", "@sales_ready")
SECTION_PATHS = {
    "@disqualify": "disqualify",
    "@scoring": "scoring",
    "@sales_ready": "stages.sales_ready",
}
MAX_FORM_NODES = 400  # twice the validator's criteria limit, groups included

WINDOW_LABELS: Mapping[str, Any] = {
    Window.EVER: _("ever"),
    Window.ONE_DAY: _("on one calendar day"),
    Window.LAST_DAYS: _("within the last … days"),
}
MODE_LABELS: Mapping[str, Any] = {
    "any": _("any of these"),
    "all": _("all of these"),
    "at_least": _("at least N of these"),
}


def new_id(prefix: str, taken: set[str]) -> str:
    while True:
        candidate = f"{prefix}-{secrets.token_hex(3)}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


# ----------------------------------------------------------------- form -> document


def _number(raw: str) -> object:
    text = raw.strip().replace(" ", "")
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return raw.strip()  # the validator reports it, at this criterion
    return value if value == value and abs(value) != float("inf") else raw.strip()


def _int_or_raw(raw: str) -> object:
    text = raw.strip()
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _split_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.replace("\n", ",").split(",") if item.strip()]


def _scalar(raw: str, ftype: FieldType | None) -> object:
    if ftype == FieldType.NUMBER:
        return _number(raw)
    if ftype == FieldType.BOOLEAN:
        return {"true": True, "false": False}.get(raw.strip(), raw.strip() or None)
    return raw.strip()


def _field_value(
    data: MultiValueDict[str, Any], key: str, spec: rules.FieldSpec | None, op: str
) -> object:
    ftype = spec.type if spec else None
    get = data.get
    if op in (Op.IS_SET, Op.IS_NOT_SET):
        return None
    if op in (Op.IN, Op.NOT_IN):
        if ftype == FieldType.CHOICE:
            # Checkboxes come back in catalog order; keep the document's own order for
            # values that were already chosen, so an untouched list is not a "change".
            chosen = list(data.getlist(f"{key}-values"))
            was = list(data.getlist(f"{key}-was"))
            return [v for v in was if v in chosen] + [v for v in chosen if v not in was]
        return [_scalar(item, ftype) for item in _split_list(get(f"{key}-value", ""))]
    if op == Op.BETWEEN:
        return [
            _scalar(get(f"{key}-value", ""), ftype),
            _scalar(get(f"{key}-value_hi", ""), ftype),
        ]
    if op == Op.WITHIN_LAST_DAYS:
        return _int_or_raw(get(f"{key}-value", ""))
    return _scalar(get(f"{key}-value", ""), ftype)


def parse_criterion(
    data: MultiValueDict[str, Any], nid: str, kind: str, catalog: rules.Catalog
) -> dict[str, Any]:
    """One criterion's JSON from its `n-<id>-*` inputs (the builder's and an
    amendment's form share them)."""
    key = f"n-{nid}"
    node: dict[str, Any] = {"id": nid}
    points = _int_or_raw(data.get(f"{key}-points", ""))
    category = data.get(f"{key}-category", "")
    if kind == "field":
        fkey = data.get(f"{key}-field", "")
        spec = catalog.fields.get(fkey)
        op = data.get(f"{key}-op", "")
        allowed = rules.OPERATORS.get(spec.type, ()) if spec else ()
        changed_field = data.get(f"{key}-prev_field", fkey) != fkey
        if spec and op not in allowed:
            op = allowed[0]  # the operator list follows the field's type
        node.update(field=fkey, op=op)
        node["value"] = (
            None
            if changed_field and op not in (Op.IS_SET, Op.IS_NOT_SET)
            else _field_value(data, key, spec, op)
        )
        if changed_field and spec is not None:
            category = str(spec.category) if spec.category != "outcome" else category
    else:
        window = data.get(f"{key}-window", Window.EVER)
        node.update(
            activity=data.get(f"{key}-activity", ""),
            min_count=_int_or_raw(data.get(f"{key}-min_count", "")),
            window=window,
        )
        if window == Window.LAST_DAYS:
            node["days"] = _int_or_raw(data.get(f"{key}-days", ""))
    if category:
        node["category"] = category
    node["points"] = points
    return node


def form_to_document(data: MultiValueDict[str, Any], catalog: rules.Catalog) -> dict[str, Any]:
    """Rebuild the JSON document from the builder's POST data."""
    order = [nid for nid in data.getlist("order") if nid][:MAX_FORM_NODES]
    nodes: dict[str, dict[str, Any]] = {}
    children: dict[str, list[str]] = {s: [] for s in SECTIONS}
    for nid in order:
        key = f"n-{nid}"
        kind = data.get(f"{key}-kind", "")
        parent = data.get(f"{key}-parent", "")
        if nid in nodes or kind not in ("group", "field", "activity"):
            continue
        node: dict[str, Any] = {"id": nid}
        if kind == "group":
            node["_mode"] = data.get(f"{key}-mode", "any")
            node["_n"] = _int_or_raw(data.get(f"{key}-n", ""))
        else:
            node.update(parse_criterion(data, nid, kind, catalog))
        node["_kind"] = kind
        nodes[nid] = node
        children.setdefault(parent, []).append(nid)
        children.setdefault(nid, [])

    def build(nid: str) -> dict[str, Any]:
        node = dict(nodes[nid])
        kind = node.pop("_kind")
        if kind != "group":
            return node
        mode, n = node.pop("_mode"), node.pop("_n")
        kids = [build(c) for c in children.get(nid, []) if c in nodes]
        if mode == "at_least":
            return {"id": nid, "at_least": n, "of": kids}
        return {"id": nid, mode if mode in ("all", "any") else "any": kids}

    roots = [c for c in children["@qualify"] if nodes.get(c, {}).get("_kind") == "group"]
    qualify = build(roots[0]) if roots else {"id": "g-root", "any": []}
    return {
        "schema_version": rules.SCHEMA_VERSION,
        "rationale": data.get("rationale", ""),
        "qualify": qualify,
        "disqualify": [build(c) for c in children["@disqualify"] if c in nodes],
        "scoring": [build(c) for c in children["@scoring"] if c in nodes],
        "stages": {
            "mql": _int_or_raw(data.get("mql", "")),
            "sql": _int_or_raw(data.get("sql", "")),
            "sales_ready": [build(c) for c in children["@sales_ready"] if c in nodes],
        },
    }


# ------------------------------------------------------------------------- actions


def apply_action(
    document: dict[str, Any], action: str, catalog: rules.Catalog
) -> tuple[dict[str, Any], str | None]:
    """Apply one builder action; returns the document and the id of the node to focus
    next (a new node, or the neighbour of a removed one)."""
    verb, _sep, target = action.partition(":")
    taken = rules.edit.node_ids(document)
    if verb in ("add_field", "add_activity", "add_group"):
        kids = rules.edit.children_of(document, target)
        if kids is None or (verb == "add_group" and target.startswith("@")):
            return document, None
        if verb == "add_group":
            nid = new_id("g", taken)
            kids.append({"id": nid, "all": []})
        elif verb == "add_activity":
            kind = next(iter(catalog.activity_kinds), "")
            nid = new_id("c", taken)
            kids.append(
                {
                    "id": nid,
                    "category": "behavioural",
                    "activity": kind,
                    "min_count": 1,
                    "window": "ever",
                    "points": None,
                }
            )
        else:
            spec = next(s for s in catalog.fields.values() if s.category != "outcome")
            nid = new_id("c", taken)
            kids.append(
                {
                    "id": nid,
                    "category": str(spec.category),
                    "field": spec.key,
                    "op": str(rules.OPERATORS[spec.type][0]),
                    "value": None,
                    "points": None,
                }
            )
        return document, nid
    if verb == "points_to_scoring":
        nid = new_id("c", taken)
        return document, (nid if rules.edit.points_to_scoring(document, target, nid) else None)
    if verb in ("remove", "up", "down"):
        siblings = rules.edit.list_holding(document, target)
        if siblings is None:
            return document, None
        index = next(
            i for i, k in enumerate(siblings) if isinstance(k, dict) and k.get("id") == target
        )
        if verb == "remove":
            siblings.pop(index)
            # Keyboard users keep their place: focus the neighbour that took its spot.
            if siblings:
                neighbour = siblings[min(index, len(siblings) - 1)]
                return document, str(neighbour.get("id")) if isinstance(neighbour, dict) else None
        elif verb == "up" and index > 0:
            siblings[index - 1], siblings[index] = siblings[index], siblings[index - 1]
        elif verb == "down" and index < len(siblings) - 1:
            siblings[index + 1], siblings[index] = siblings[index], siblings[index + 1]
    return document, None


# ------------------------------------------------------------------ view model


@dataclass
class Node:
    id: str
    kind: str  # group | field | activity
    parent: str
    depth: int
    raw: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    is_new: bool = False
    first: bool = False
    last: bool = False
    spec: rules.FieldSpec | None = None
    ops: list[tuple[str, Any]] = field(default_factory=list)
    widget: str = "none"
    choice_options: list[tuple[str, str]] = field(default_factory=list)
    # The field is known only after the outcome: the builder warns next to it.
    after_outcome: bool = False
    # The definition checks' warnings here: (message, builder action that fixes it or
    # "", the fix's label, a note rather than a warning).
    warnings: list[CheckWarning] = field(default_factory=list)

    @property
    def mode(self) -> str:
        if "of" in self.raw or "at_least" in self.raw:
            return "at_least"
        return "all" if "all" in self.raw else "any"

    def value_text(self) -> str:
        value = self.raw.get("value")
        if isinstance(value, list):
            if self.raw.get("op") == Op.BETWEEN:
                return _show(value[0]) if value else ""
            return ", ".join(_show(v) for v in value)
        return _show(value)

    def value_hi_text(self) -> str:
        value = self.raw.get("value")
        if isinstance(value, list) and len(value) > 1:
            return _show(value[1])
        return ""

    def selected_values(self) -> list[str]:
        value = self.raw.get("value")
        return [str(v) for v in value] if isinstance(value, list) else []


def _show(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def build_tree(
    document: dict[str, Any], new_node: str | None = None
) -> tuple[Node, dict[str, list[Node]], dict[str, Node]]:
    """The qualify tree and the flat sections as Nodes, plus path -> node for errors."""
    by_path: dict[str, Node] = {}

    def make(raw: dict[str, Any], parent: str, depth: int, path: str) -> Node:
        kind = (
            "group" if rules.edit.is_group(raw) else ("activity" if "activity" in raw else "field")
        )
        node = Node(id=str(raw.get("id", "")), kind=kind, parent=parent, depth=depth, raw=raw)
        node.is_new = node.id == new_node
        by_path[path] = node
        if kind == "group":
            key = rules.edit.group_key(raw)
            kids = raw.get(key) or []
            node.children = [
                make(k, node.id, depth + 1, f"{path}.{key}[{i}]")
                for i, k in enumerate(kids)
                if isinstance(k, dict)
            ]
            _mark_ends(node.children)
        return node

    root = make(rules.edit.qualify_root(document), "@qualify", 0, "qualify")
    sections: dict[str, list[Node]] = {}
    for token, path in SECTION_PATHS.items():
        items = rules.edit.children_of(document, token) or []
        sections[token] = [make(k, token, 0, f"{path}[{i}]") for i, k in enumerate(items)]
        _mark_ends(sections[token])
    return root, sections, by_path


def _mark_ends(nodes: list[Node]) -> None:
    for i, node in enumerate(nodes):
        node.first, node.last = i == 0, i == len(nodes) - 1


def attach_errors(errors: list[tuple[str, str]], by_path: dict[str, Node]) -> dict[str, list[str]]:
    """Put each error on the deepest node whose path prefixes it; the rest (thresholds,
    rationale, the document itself) come back keyed by their own path."""
    loose: dict[str, list[str]] = {}
    paths = sorted(by_path, key=len, reverse=True)
    for path, message in errors:
        for node_path in paths:
            if path == node_path or path.startswith((node_path + ".", node_path + "[")):
                by_path[node_path].errors.append(message)
                break
        else:
            loose.setdefault(path, []).append(message)
    return loose


# The loose errors the builder shows in fixed places, in page order, with the id each
# is shown under (the template uses the same ids); any other loose error is shown at
# the end of the form as error-other-N, N counting every loose error from 1.
LOOSE_ANCHORS = {
    "stages.mql": "error-stages-mql",
    "stages.sql": "error-stages-sql",
    "stages": "error-stages",
    "rationale": "error-rationale",
}


def first_error(
    root: Node, sections: dict[str, list[Node]], loose: dict[str, list[str]]
) -> tuple[str, str] | None:
    """The first error as the page shows it, top to bottom: (the id of the element
    showing it, its message). The stale preview names it and links to it."""

    def walk(node: Node) -> tuple[str, str] | None:
        if node.errors:
            return f"node-{node.id}-errors", node.errors[0]
        for child in node.children:
            found = walk(child)
            if found:
                return found
        return None

    for node in [root, *[n for token in SECTION_PATHS for n in sections.get(token, [])]]:
        found = walk(node)
        if found:
            return found
    for path, anchor in LOOSE_ANCHORS.items():
        if loose.get(path):
            return anchor, loose[path][0]
    for number, (path, messages) in enumerate(loose.items(), start=1):
        if path not in LOOSE_ANCHORS and messages:
            return f"error-other-{number}", messages[0]
    return None


def last_valid_definition(raw: str | None, catalog: rules.Catalog) -> rules.Definition | None:
    """The draft's last valid state, carried by the form while the draft has an error
    (a hidden field), so the preview can stay on it without script. It comes from the
    client like the rest of the form: it goes through the same limits and checks as an
    uploaded document, and anything else is ignored."""
    if not raw:
        return None
    try:
        loaded = rules.load(raw)
    except ValueError:  # not JSON at all (json.JSONDecodeError)
        return None
    if loaded.data is None:
        return None
    return rules.parse(loaded.data, catalog).definition


# ------------------------------------------------------------------- warnings


@dataclass(frozen=True)
class CheckWarning:
    message: str
    fix: str = ""
    fix_label: str = ""
    note: bool = False  # an explanation rather than a likely mistake


def _finding_warning(finding: rules.checks.Finding, other: str) -> CheckWarning | None:
    code = finding.code
    if code == "duplicate":
        return CheckWarning(
            gettext("The same test as “%(other)s”, already in this list: it adds nothing.")
            % {"other": other},
            finding.fix or "",
            gettext("Remove this duplicate"),
        )
    if code == "contradiction":
        return CheckWarning(
            gettext("No lead can match both this and “%(other)s”, so this group never matches.")
            % {"other": other}
        )
    if code == "subsumed":
        return CheckWarning(
            gettext(
                "Every lead this matches also matches “%(other)s” in this group, "
                "so it changes nothing."
            )
            % {"other": other},
            finding.fix or "",
            gettext("Remove it"),
        )
    if code == "implied":
        return CheckWarning(
            gettext(
                "Every lead that matches “%(other)s” matches this too, so here it changes nothing."
            )
            % {"other": other},
            finding.fix or "",
            gettext("Remove it"),
        )
    if code == "qualify_points":
        return CheckWarning(
            gettext(
                "Besides deciding who qualifies, this adds %(points)s points to the score "
                "of every lead it matches, which moves leads towards MQL and SQL."
            )
            % {"points": finding.amount},
            finding.fix or "",
            gettext("Move the points to the extra points"),
            note=True,
        )
    if code == "no_lead":
        value = _show(finding.amount)
        if finding.stage == "above":
            text = gettext("No lead has a value this matches: the highest is %(value)s.")
        else:
            text = gettext("No lead has a value this matches: the lowest is %(value)s.")
        return CheckWarning(text % {"value": value})
    return None


def attach_findings(
    findings: list[rules.checks.Finding],
    definition: rules.Definition,
    nodes: list[Node],
    catalog: rules.Catalog,
) -> list[str]:
    """Put each check's warning on its criterion's node; return the messages about the
    thresholds (shown next to them)."""
    by_id: dict[str, Node] = {}
    stack = list(nodes)
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        by_id[node.id] = node
    texts = {
        c.id: rules.render_criterion(c, catalog, gettext, ngettext)
        for c in rules.criteria(definition)
    }
    loose: list[str] = []
    for finding in findings:
        if finding.code == "threshold":
            stage = gettext("MQL") if finding.stage == "mql" else gettext("SQL")
            loose.append(
                gettext(
                    "No lead can reach %(stage)s: all the points together make at most %(best)s."
                )
                % {"stage": stage, "best": finding.amount}
            )
            continue
        warning = _finding_warning(finding, texts.get(finding.other_id or "", ""))
        target = by_id.get(finding.criterion_id or "")
        if warning is not None and target is not None:
            target.warnings.append(warning)
    return loose


# ------------------------------------------------------------------- widgets


def widget_for(spec: rules.FieldSpec | None, op: str) -> str:
    """Which value input a field criterion shows; it follows the type and the operator."""
    if spec is None or op in (Op.IS_SET, Op.IS_NOT_SET):
        return "none"
    if op == Op.WITHIN_LAST_DAYS:
        return "days"
    if op == Op.BETWEEN:
        return "date_between" if spec.type == FieldType.DATE else "between"
    if spec.type == FieldType.BOOLEAN:
        return "boolean"
    if spec.type == FieldType.CHOICE:
        return "choice_multi" if op in (Op.IN, Op.NOT_IN) else "choice"
    if op in (Op.IN, Op.NOT_IN):
        return "list"
    if spec.type == FieldType.DATE:
        return "date"
    if spec.type == FieldType.NUMBER:
        return "number"
    return "text"


def decorate(
    nodes: list[Node], catalog: rules.Catalog, after_outcome: frozenset[str] = frozenset()
) -> None:
    """Give each field node what its inputs need: the spec, operators and widget, and
    whether its field is known only after the outcome (``after_outcome``: such keys)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.kind != "field":
            continue
        spec = catalog.fields.get(str(node.raw.get("field", "")))
        node.spec = spec
        node.after_outcome = str(node.raw.get("field", "")) in after_outcome
        node.ops = [(str(op), OP_LABELS[op]) for op in rules.OPERATORS[spec.type]] if spec else []
        node.widget = widget_for(spec, str(node.raw.get("op", "")))
        node.choice_options = (
            [(c, spec.choice_label(c)) for c in spec.choices] if spec is not None else []
        )


def single_node(raw: dict[str, Any], catalog: rules.Catalog) -> Node:
    """One criterion as a builder node, for the amendment form."""
    kind = "activity" if "activity" in raw else "field"
    node = Node(id=str(raw.get("id", "")), kind=kind, parent="@amend", depth=0, raw=raw)
    node.first = node.last = True
    decorate([node], catalog)
    return node


def fields_by_category(catalog: rules.Catalog) -> list[tuple[str, list[rules.FieldSpec]]]:
    """The field picker's option groups: criterion categories in order, outcome
    fields left out (a definition may not test them)."""
    from django.utils.translation import gettext

    groups: list[tuple[str, list[rules.FieldSpec]]] = []
    for category in rules.CRITERION_CATEGORIES:
        specs = [s for s in catalog.fields.values() if s.category == category]
        if specs:
            groups.append((gettext(rules.CATEGORY_LABELS[category]), specs))
    return groups
