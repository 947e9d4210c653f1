"""One vocabulary: every code that reaches a screen (operators, activity kinds, audit
actions) reads as words in the reader's language. Codes stay in the data; only what
people see goes through here. An unknown code still reads as words (its last part,
underscores as spaces), never as a dotted or snake_case identifier."""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping
from decimal import Decimal

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import floatformat
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from definitions.rules import DEFAULT_ACTIVITY_KINDS, Catalog, FieldSpec, FieldType, Op

OP_LABELS: Mapping[str, Promise] = {
    Op.EQ: _("is"),
    Op.NE: _("is not"),
    Op.IN: _("is one of"),
    Op.NOT_IN: _("is none of"),
    Op.CONTAINS: _("contains"),
    Op.STARTS_WITH: _("starts with"),
    Op.GT: _("is more than"),
    Op.GTE: _("is at least"),
    Op.LT: _("is less than"),
    Op.LTE: _("is at most"),
    Op.BETWEEN: _("is between"),
    Op.WITHIN_LAST_DAYS: _("is within the last … days"),
    Op.IS_SET: _("is filled in"),
    Op.IS_NOT_SET: _("is empty"),
}

# Short names of audit actions, for lists and filters; the history page's sentences
# are in definitions.core.audit.MESSAGES.
ACTION_LABELS: Mapping[str, Promise] = {
    "accounts.sso.created": _("Account created by single sign-on"),
    "accounts.sso.staff_granted": _("Staff access granted by single sign-on"),
    "accounts.sso.staff_revoked": _("Staff access withdrawn by single sign-on"),
    "api.key.created": _("API key created"),
    "api.key.revoked": _("API key revoked"),
    "definitions.activity_kind.added": _("Activity kind added"),
    "definitions.activity_kind.deleted": _("Activity kind deleted"),
    "definitions.amendment.accepted": _("Amendment accepted"),
    "definitions.amendment.declined": _("Amendment declined"),
    "definitions.amendment.suggested": _("Amendment suggested"),
    "definitions.comment.added": _("Comment added"),
    "definitions.comment.deleted": _("Comment deleted"),
    "definitions.comment.edited": _("Comment edited"),
    "definitions.field.added": _("Custom field added"),
    "definitions.field.choices_added": _("Choices added to a custom field"),
    "definitions.field.deleted": _("Custom field deleted"),
    "definitions.field.marked_after_outcome": _("Fields marked as known after the outcome"),
    "definitions.invitation.accepted": _("Invitation accepted"),
    "definitions.invitation.declined": _("Invitation declined"),
    "definitions.invitation.revoked": _("Invitation withdrawn"),
    "definitions.invitation.sent": _("Invitation sent"),
    "definitions.member.account_created": _("Member account created"),
    "definitions.member.added": _("Member added"),
    "definitions.member.changed": _("Member changed"),
    "definitions.member.left": _("Member left"),
    "definitions.member.removed": _("Member removed"),
    "definitions.policy.updated": _("Consensus rules changed"),
    "definitions.proposal.closed": _("Vote closed"),
    "definitions.proposal.created": _("Draft started"),
    "definitions.proposal.opened": _("Proposal opened for votes"),
    "definitions.proposal.rebased": _("Proposal rebased"),
    "definitions.proposal.saved": _("Draft saved"),
    "definitions.proposal.withdrawn": _("Proposal withdrawn"),
    "definitions.version.emergency_rollback": _("Emergency rollback"),
    "definitions.version.published": _("Version published"),
    "definitions.vote.cast": _("Vote cast"),
    "definitions.vote.changed": _("Vote changed"),
    "definitions.workshop.created": _("Workshop created"),
    "definitions.workshop.evaluation_updated": _("Evaluation settings changed"),
    "definitions.workshop.updated": _("Workshop settings changed"),
    "feedback.discovery.started": _("Search for improvements started"),
    "feedback.import.cancel_requested": _("Import cancelled"),
    "feedback.import.remapped": _("Import columns mapped again"),
    "feedback.import.started": _("Import started"),
    "feedback.import.uploaded": _("File uploaded for import"),
    "feedback.leakage.cleared": _("Field cleared as known before the outcome"),
    "feedback.leakage.restored": _("Field marked again as known after the outcome"),
    "feedback.run.cancelled": _("Backtest cancelled"),
    "feedback.run.retried": _("Backtest retried"),
    "feedback.run.started": _("Backtest started"),
    "feedback.shadow.started": _("Shadow run started"),
    "feedback.shadow.stopped": _("Shadow run stopped"),
}

_ACTIVITY_LABELS: Mapping[str, str] = {kind.key: kind.label for kind in DEFAULT_ACTIVITY_KINDS}


def humanize_code(code: str) -> str:
    """'definitions.proposal.opened' → 'Proposal opened'; 'site_visit' → 'Site visit'."""
    parts = [part for part in code.split(".") if part]
    words = " ".join(parts[-2:] if len(parts) > 2 else parts[-1:]).replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "—"


def op_label(op: str) -> str:
    label = OP_LABELS.get(op)
    return str(label) if label is not None else humanize_code(op)


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else humanize_code(action)


def activity_label(kind: str, custom: Mapping[str, str] | None = None) -> str:
    """A built-in activity kind in the reader's language, a workshop's own kind by the
    label its admin gave it (`custom`), anything else as words."""
    if custom and kind in custom:
        return custom[kind]
    label = _ACTIVITY_LABELS.get(kind)
    return gettext(label) if label is not None else humanize_code(kind)


def activity_labels(catalog: Catalog) -> dict[str, str]:
    """Key → label of every activity kind of a workshop's catalog (catalog_for): built-in
    kinds as the catalog translated them, the workshop's own by its admin's label."""
    return {key: kind.label for key, kind in catalog.activity_kinds.items()}


def number(value: float | int | Decimal | None, digits: int = 2) -> str:
    """In the reader's locale with thousands separators; whole floats lose their
    '.0' (4038.0 → '4,038'), others keep at most `digits` decimals; None is '—'."""
    if value is None:
        return "—"
    if isinstance(value, float | Decimal):
        if not value.is_finite() if isinstance(value, Decimal) else not math.isfinite(value):
            return "—"
        if value == int(value):
            value = int(value)
    if isinstance(value, int):
        return formats.number_format(value, 0, use_l10n=True, force_grouping=True)
    # floatformat rounds half up (number_format would cut the digits off).
    text = str(floatformat(value, f"{digits}g"))
    # Trailing zeros after the decimal separator carry no information.
    separator = formats.get_format("DECIMAL_SEPARATOR")
    return text.rstrip("0").rstrip(separator) if separator in text else text


def field_value(value: object, spec: FieldSpec | None = None) -> str:
    """A lead's field value as people read it: choices by their label, yes/no,
    localised numbers and dates, '—' for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, int | float | Decimal):
        return number(value)
    if isinstance(value, datetime.datetime):
        return formats.date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if spec is not None and spec.type == FieldType.CHOICE and isinstance(value, str):
        return gettext(spec.choice_label(value))
    return str(value)


# --------------------------------------------------------------------------- dates

# Nothing to show reads as a dash, never as "None"; it is markup like the rest.
NOTHING: SafeString = mark_safe("—")  # a constant, no user text

# A moment this many calendar days away or fewer reads relative ("yesterday at 14:05",
# "Monday at 09:30"); further away the weekday alone would be ambiguous.
_RELATIVE_DAYS = 6


def _aware(value: datetime.datetime) -> datetime.datetime:
    # A naive moment (from a stored JSON value, say) is taken to be in the current
    # time zone rather than refused: showing it beats a dash.
    return timezone.make_aware(value) if timezone.is_naive(value) else value


_AT_WEEKDAY: tuple[Promise, ...] = (
    pgettext_lazy("moment", "Monday at %(time)s"),
    pgettext_lazy("moment", "Tuesday at %(time)s"),
    pgettext_lazy("moment", "Wednesday at %(time)s"),
    pgettext_lazy("moment", "Thursday at %(time)s"),
    pgettext_lazy("moment", "Friday at %(time)s"),
    pgettext_lazy("moment", "Saturday at %(time)s"),
    pgettext_lazy("moment", "Sunday at %(time)s"),
)


def _relative(local: datetime.datetime, now: datetime.datetime) -> str | None:
    """Words for a moment close to now, or None when it is too far for words."""
    days = (local.date() - now.date()).days
    if days == 0 or abs(local - now) < datetime.timedelta(hours=1):
        return str(naturaltime(local))
    if abs(days) > _RELATIVE_DAYS:
        return None
    time = formats.date_format(local, "TIME_FORMAT")
    if days == -1:
        return pgettext("moment", "yesterday at %(time)s") % {"time": time}
    if days == 1:
        return pgettext("moment", "tomorrow at %(time)s") % {"time": time}
    # One sentence per weekday: languages differ in the weekday's case and article.
    return str(_AT_WEEKDAY[local.weekday()]) % {"time": time}


def moment(value: object, exact: bool = False) -> SafeString:
    """A point in time, one way on every screen: `<time>` with the machine-readable
    instant and the full local date and time as its title, reading relative when it is
    within a week ("3 minutes ago", "yesterday at 14:05") and as the locale's short
    date and time otherwise or when `exact` (a sentence such as "as it was at …", or
    paper, where a relative time would go stale). None or '' is a dash."""
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(_aware(value))
    elif isinstance(value, datetime.date):
        return day(value)
    else:
        return NOTHING if value is None or value == "" else format_html("{}", value)
    shown = None if exact else _relative(local, timezone.localtime())
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.replace(microsecond=0).isoformat(),
        formats.date_format(local, "DATETIME_FORMAT"),
        shown or formats.date_format(local, "SHORT_DATETIME_FORMAT"),
    )


def day_text(value: datetime.date) -> str:
    """A calendar day as plain text (a title, a PDF), as `day` shows it, in full."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(_aware(value)).date()
    return formats.date_format(value, "DATE_FORMAT")


def day(value: object) -> SafeString:
    """A calendar day: `<time>` with its ISO date, in the locale's short date format
    (the one `moment` uses), the long form as its title. None or '' is a dash."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(_aware(value)).date()
    if not isinstance(value, datetime.date):
        return NOTHING if value is None or value == "" else format_html("{}", value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        formats.date_format(value, "DATE_FORMAT"),
        formats.date_format(value, "SHORT_DATE_FORMAT"),
    )


# Notes and reasons the system stores (on revisions, versions, discoveries, webhook
# deliveries, often from a background task). They are stored in English (the
# writer's language is not the reader's) and translated here, parameters and all; a
# note somebody typed matches none of them and reads as written.
OPENED_FOR_VOTES = gettext_noop("Opened for votes")
AMENDMENT_ACCEPTED = gettext_noop("Amendment by %(author)s accepted")
REBASED_ONTO = gettext_noop("Rebased onto v%(n)s")
EMERGENCY_ROLLBACK = gettext_noop("Emergency rollback to v%(n)s: %(reason)s")
DISCOVERY_UNREADABLE = gettext_noop(
    "This version cannot be read with the workshop's current fields."
)
DISCOVERY_TOO_FEW = gettext_noop(
    "Too few leads with a known label to learn from: %(learning)s to learn from "
    "and %(validation)s to validate on, %(good)s good and %(bad)s bad. "
    "Discovery needs at least %(min_learning)s and %(min_validation)s, and "
    "%(min_each)s of each."
)
DISCOVERY_NOTHING_BETTER = gettext_noop(
    "Nothing improves this version on the validation part: every change tried "
    "was no better on leads it had not learned from."
)
DELIVERY_NO_CONNECTION = gettext_noop("Could not connect: %(error)s")
DELIVERY_HTTP_STATUS = gettext_noop("The receiver answered HTTP %(code)s.")
SYSTEM_NOTES: tuple[str, ...] = (
    OPENED_FOR_VOTES,
    AMENDMENT_ACCEPTED,
    REBASED_ONTO,
    EMERGENCY_ROLLBACK,
    DISCOVERY_UNREADABLE,
    DISCOVERY_TOO_FEW,
    DISCOVERY_NOTHING_BETTER,
    DELIVERY_NO_CONNECTION,
    DELIVERY_HTTP_STATUS,
)
_SYSTEM_NOTE_PATTERNS = tuple(
    (
        template,
        re.compile(
            "^"
            + "".join(
                f"(?P<{part[2:-2]}>.+?)" if part.startswith("%(") else re.escape(part)
                for part in re.split(r"(%\(\w+\)s)", template)
                if part
            )
            + "$",
            re.DOTALL,
        ),
    )
    for template in SYSTEM_NOTES
)


def system_note(note: str) -> str:
    for template, pattern in _SYSTEM_NOTE_PATTERNS:
        if found := pattern.match(note):
            return gettext(template) % found.groupdict()
    return note
