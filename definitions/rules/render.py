"""Plain-language rendering: the written definition everybody signs off on.

Every sentence is one translatable template with named placeholders, translated
*before* its parameters are filled in (see ``i18n``).  Field, choice and activity
labels come from the catalog, which the caller has already translated
(``catalog.translated(gettext)``); they are inserted as parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import DEFAULT_ACTIVITY_KINDS, ActivityKindSpec, Catalog, FieldSpec, FieldType
from .i18n import (
    NTranslate,
    PluralTemplate,
    Translate,
    _,
    english_ngettext,
    identity,
    ngettext_lazy,
)
from .schema import (
    ActivityCriterion,
    Criterion,
    Definition,
    FieldCriterion,
    Group,
    GroupMode,
    Op,
    Scalar,
    Section,
    Window,
)


@dataclass(frozen=True)
class Line:
    depth: int
    text: str
    criterion_id: str | None = None


# --------------------------------------------------------------------------- values

_UNITS: tuple[tuple[int, str], ...] = (
    (10**12, _("{number}T")),
    (10**9, _("{number}B")),
    (10**6, _("{number}M")),
    (10**3, _("{number}K")),
)


def format_number(value: float, translate: Translate = identity) -> str:
    """Compact when exact: 300000000 -> "300M", 1500000 -> "1.5M", 1234 -> "1,234".

    A signed-off definition must not round, so a number is only abbreviated when the
    abbreviation (at most two decimals) is exact.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        value = int(value)
    if isinstance(value, int):
        magnitude = abs(value)
        for unit, template in _UNITS:
            hundredths, rest = divmod(magnitude * 100, unit)
            if magnitude >= unit and rest == 0:
                whole, fraction = divmod(hundredths, 100)
                number = str(whole) + (f".{fraction:02d}".rstrip("0") if fraction else "")
                return translate(template).format(number=("-" if value < 0 else "") + number)
    return f"{value:,}"


def _quote(text: str, translate: Translate) -> str:
    # Quotation marks differ by language (“…”, «…», 「…」), so they are a template too.
    return translate(_("“{text}”")).format(text=text)


def join_or(items: list[str], translate: Translate = identity) -> str:
    """ "A, B or C"."""
    if len(items) == 1:
        return items[0]
    separator = translate(_(", "))
    return translate(_("{items} or {last}")).format(
        items=separator.join(items[:-1]), last=items[-1]
    )


def _field_spec(catalog: Catalog, criterion: FieldCriterion) -> FieldSpec:
    spec = catalog.fields.get(criterion.field)
    if spec is not None:
        return spec
    # An old version may name a custom field the workshop has since deleted: still
    # render it readably, guessing the type from the value.
    sample = criterion.value[0] if isinstance(criterion.value, tuple) else criterion.value
    if isinstance(sample, bool):
        guessed = FieldType.BOOLEAN
    elif isinstance(sample, int | float):
        guessed = FieldType.NUMBER
    elif criterion.op == Op.WITHIN_LAST_DAYS:
        guessed = FieldType.DATE
    else:
        guessed = FieldType.TEXT
    return FieldSpec(criterion.field, criterion.field, guessed, criterion.category, builtin=False)


def _show_value(spec: FieldSpec, value: Scalar, translate: Translate) -> str:
    if spec.type == FieldType.CHOICE and isinstance(value, str):
        return spec.choice_label(value)
    if spec.type == FieldType.TEXT and isinstance(value, str):
        return _quote(value, translate)
    if isinstance(value, bool):
        return translate(_("yes")) if value else translate(_("no"))
    if isinstance(value, int | float):
        return format_number(value, translate)
    return str(value)


# --------------------------------------------------------------------------- criteria

# (operator, is-date-field) -> whole-sentence template.  Text, choice and number share
# wording; dates read "on/after/before".
_TEMPLATES: dict[tuple[Op, bool], str] = {
    (Op.EQ, False): _("{field} is {value}"),
    (Op.NE, False): _("{field} is not {value}"),
    (Op.IN, False): _("{field} is one of {values}"),
    (Op.NOT_IN, False): _("{field} is none of {values}"),
    (Op.CONTAINS, False): _("{field} contains {value}"),
    (Op.STARTS_WITH, False): _("{field} starts with {value}"),
    (Op.GT, False): _("{field} is more than {value}"),
    (Op.GTE, False): _("{field} is at least {value}"),
    (Op.LT, False): _("{field} is less than {value}"),
    (Op.LTE, False): _("{field} is at most {value}"),
    (Op.BETWEEN, False): _("{field} is between {low} and {high}"),
    (Op.EQ, True): _("{field} is on {value}"),
    (Op.GT, True): _("{field} is after {value}"),
    (Op.GTE, True): _("{field} is on or after {value}"),
    (Op.LT, True): _("{field} is before {value}"),
    (Op.LTE, True): _("{field} is on or before {value}"),
    (Op.BETWEEN, True): _("{field} is between {low} and {high}"),
}
_IS_SET = _("{field} is filled in")
_IS_NOT_SET = _("{field} is not filled in")
_BOOLEAN_TRUE = _("{field}: yes")
_BOOLEAN_FALSE = _("{field}: no")
_WITHIN_LAST_DAYS = ngettext_lazy(
    "{field} is within the last {days} day", "{field} is within the last {days} days"
)


def _render_field(
    criterion: FieldCriterion, catalog: Catalog, translate: Translate, ntranslate: NTranslate
) -> str:
    spec = _field_spec(catalog, criterion)
    op, value = criterion.op, criterion.value
    field = spec.label
    if op == Op.IS_SET:
        return translate(_IS_SET).format(field=field)
    if op == Op.IS_NOT_SET:
        return translate(_IS_NOT_SET).format(field=field)
    if spec.type == FieldType.BOOLEAN and isinstance(value, bool):
        return translate(_BOOLEAN_TRUE if value else _BOOLEAN_FALSE).format(field=field)
    if op == Op.WITHIN_LAST_DAYS and isinstance(value, int):
        return ntranslate(*_WITHIN_LAST_DAYS, value).format(field=field, days=value)
    is_date = spec.type == FieldType.DATE
    if isinstance(value, tuple):
        shown = [_show_value(spec, v, translate) for v in value]
        if op == Op.BETWEEN and len(shown) == 2:
            return translate(_TEMPLATES[(op, is_date)]).format(
                field=field, low=shown[0], high=shown[1]
            )
        if len(shown) == 1:
            # "Industry is “Life Science”" reads better than "is one of “Life Science”".
            single = Op.EQ if op == Op.IN else Op.NE
            return translate(_TEMPLATES[(single, is_date)]).format(field=field, value=shown[0])
        return translate(_TEMPLATES[(op, is_date)]).format(
            field=field, values=join_or(shown, translate)
        )
    template = _TEMPLATES.get((op, is_date)) or _TEMPLATES[(op, False)]
    shown_value = "" if value is None else _show_value(spec, value, translate)
    return translate(template).format(field=field, value=shown_value)


_DEFAULT_KINDS = {kind.key: kind for kind in DEFAULT_ACTIVITY_KINDS}
_GENERIC_EVENTS = ngettext_lazy("{count} “{kind}” event", "{count} “{kind}” events")
_EVER = _("At least {events} ever")
_ONE_DAY = _("At least {events} on one day")
_LAST_DAYS = ngettext_lazy(
    "At least {events} in the last {days} day", "At least {events} in the last {days} days"
)


def events_phrase(
    kind: ActivityKindSpec | None, key: str, count: int, ntranslate: NTranslate
) -> str:
    """ "5 product page views"; kinds without their own wording get a generic phrase."""
    template: PluralTemplate | None = kind.count_template if kind else None
    if template is None:
        label = kind.label if kind else key
        return ntranslate(*_GENERIC_EVENTS, count).format(count=count, kind=label)
    return ntranslate(*template, count).format(count=count)


def _render_activity(
    criterion: ActivityCriterion, catalog: Catalog, translate: Translate, ntranslate: NTranslate
) -> str:
    kind = catalog.activity_kinds.get(criterion.kind)
    events = events_phrase(kind, criterion.kind, criterion.min_count, ntranslate)
    if criterion.window == Window.ONE_DAY:
        return translate(_ONE_DAY).format(events=events)
    if criterion.window == Window.LAST_DAYS:
        days = criterion.days or 0
        return ntranslate(*_LAST_DAYS, days).format(events=events, days=days)
    return translate(_EVER).format(events=events)


def render_criterion(
    criterion: Criterion,
    catalog: Catalog,
    translate: Translate = identity,
    ntranslate: NTranslate = english_ngettext,
) -> str:
    """One sentence for one criterion, without its points."""
    if isinstance(criterion, FieldCriterion):
        return _render_field(criterion, catalog, translate, ntranslate)
    return _render_activity(criterion, catalog, translate, ntranslate)


_POINTS = ngettext_lazy("{points} point", "{points} points")
_WITH_POINTS = _("{criterion} ({points})")


def points_phrase(points: int, ntranslate: NTranslate = english_ngettext) -> str:
    """ "+10 points", "-5 points", "+1 point"."""
    signed = f"+{points}" if points > 0 else str(points)
    return ntranslate(*_POINTS, abs(points)).format(points=signed)


def render_criterion_with_points(
    criterion: Criterion,
    catalog: Catalog,
    translate: Translate = identity,
    ntranslate: NTranslate = english_ngettext,
) -> str:
    """The criterion's sentence followed by its points, if it has any."""
    text = render_criterion(criterion, catalog, translate, ntranslate)
    if criterion.points is None:
        return text
    return translate(_WITH_POINTS).format(
        criterion=text, points=points_phrase(criterion.points, ntranslate)
    )


# --------------------------------------------------------------------------- groups

_ROOT_ALL = _("A lead is anyone who meets all of these:")
_ROOT_ANY = _("A lead is anyone who meets at least one of these:")
_ROOT_AT_LEAST = ngettext_lazy(
    "A lead is anyone who meets at least {n} of these:",
    "A lead is anyone who meets at least {n} of these:",
)
_GROUP_ALL = _("All of these:")
_GROUP_ANY = _("At least one of these:")
_GROUP_AT_LEAST = ngettext_lazy("At least {n} of these:", "At least {n} of these:")


def group_heading(
    group: Group,
    translate: Translate = identity,
    ntranslate: NTranslate = english_ngettext,
    *,
    root: bool = False,
) -> str:
    if group.mode == GroupMode.AT_LEAST:
        n = group.n or 0
        return ntranslate(*(_ROOT_AT_LEAST if root else _GROUP_AT_LEAST), n).format(n=n)
    if group.mode == GroupMode.ALL:
        return translate(_ROOT_ALL if root else _GROUP_ALL)
    return translate(_ROOT_ANY if root else _GROUP_ANY)


def _group_lines(
    group: Group,
    depth: int,
    catalog: Catalog,
    translate: Translate,
    ntranslate: NTranslate,
    out: list[Line],
) -> None:
    for child in group.children:
        if isinstance(child, Group):
            out.append(Line(depth, group_heading(child, translate, ntranslate)))
            _group_lines(child, depth + 1, catalog, translate, ntranslate, out)
        else:
            out.append(
                Line(
                    depth,
                    render_criterion_with_points(child, catalog, translate, ntranslate),
                    child.id,
                )
            )


# --------------------------------------------------------------------------- document

_JUNK = _("Never a lead (junk), whatever else matches, if any of these:")
_NO_JUNK = _("No junk rules.")
_SCORING = _("Points:")
_NO_SCORING = _("No extra points rules.")
_SCORE = _("The score is the sum of the points of every matching criterion above and below.")
_MQL = _("MQL at a score of at least {mql}.")
_SQL_READY = _("SQL at a score of at least {sql} and at least one sales-ready action:")
_SQL_SCORE_ONLY = _("SQL at a score of at least {sql}; no sales-ready action is required.")
_WHY = _("Why:")

SECTION_LABELS: dict[Section, str] = {
    Section.QUALIFY: _("Qualifying criteria"),
    Section.DISQUALIFY: _("Junk rules"),
    Section.SCORING: _("Points"),
    Section.SALES_READY: _("Sales-ready actions"),
}


def render_lines(
    definition: Definition,
    catalog: Catalog,
    translate: Translate = identity,
    ntranslate: NTranslate = english_ngettext,
) -> list[Line]:
    """The whole definition as indented lines; criterion lines carry their id so the UI
    can anchor comments and highlight matches."""
    lines: list[Line] = [
        Line(0, group_heading(definition.qualify, translate, ntranslate, root=True))
    ]
    _group_lines(definition.qualify, 1, catalog, translate, ntranslate, lines)

    def flat(criteria: tuple[Criterion, ...]) -> None:
        for c in criteria:
            lines.append(
                Line(1, render_criterion_with_points(c, catalog, translate, ntranslate), c.id)
            )

    if definition.disqualify:
        lines.append(Line(0, translate(_JUNK)))
        flat(definition.disqualify)
    else:
        lines.append(Line(0, translate(_NO_JUNK)))
    if definition.scoring:
        lines.append(Line(0, translate(_SCORING)))
        flat(definition.scoring)
    else:
        lines.append(Line(0, translate(_NO_SCORING)))

    stages = definition.stages
    lines.append(Line(0, translate(_SCORE)))
    lines.append(Line(0, translate(_MQL).format(mql=stages.mql)))
    if stages.sales_ready:
        lines.append(Line(0, translate(_SQL_READY).format(sql=stages.sql)))
        flat(stages.sales_ready)
    else:
        lines.append(Line(0, translate(_SQL_SCORE_ONLY).format(sql=stages.sql)))

    paragraphs = [p.strip() for p in definition.rationale.splitlines() if p.strip()]
    if paragraphs:
        lines.append(Line(0, translate(_WHY)))
        lines.extend(Line(1, p) for p in paragraphs)
    return lines


def render_text(
    definition: Definition,
    catalog: Catalog,
    translate: Translate = identity,
    ntranslate: NTranslate = english_ngettext,
) -> str:
    """The definition as a Markdown-compatible nested list."""
    out = []
    for line in render_lines(definition, catalog, translate, ntranslate):
        if line.depth == 0:
            out.append(line.text)
        else:
            out.append("  " * (line.depth - 1) + "- " + line.text)
    return "\n".join(out) + "\n"
