"""Rates as people should read them: a percentage with its sample and interval, or
"not enough data" when the sample is too small to say anything."""

from __future__ import annotations

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

from definitions.core import labels
from feedback.accuracy.metrics import Rate
from feedback.backtests.comparison import CUT_LABELS
from feedback.backtests.selectors import STAGE_LABELS
from feedback.models import Reason

register = template.Library()


@register.filter
def pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.0f} %"


@register.filter
def rate(value: Rate) -> str:
    """'37 % (32 to 42 %, n = 263)' with an en dash, or 'not enough data (n = 4)'."""
    n = intcomma(value.n)
    if value.value is None or not value.enough:
        return _("not enough data (n = %(n)s)") % {"n": n}
    interval = value.interval
    assert interval is not None
    span = f"{100 * interval.low:.0f}\N{EN DASH}{pct(interval.high)}"
    return _("%(value)s (%(span)s, n = %(n)s)") % {"value": pct(value.value), "span": span, "n": n}


@register.filter
def number(value: float | None, digits: int = 2) -> str:
    """A fixed number of decimals in the reader's locale (0.62, or 0,62 in Italian)."""
    if value is None:
        return "—"
    return str(floatformat(value, f"{digits}g"))


@register.filter
def reason_label(code: str) -> str:
    """A "not a lead" reason code in the reader's language."""
    return str(Reason(code).label) if code in Reason.values else code


# A backtest's stages as people read them; the run pages and their filters use these.


@register.filter
def stage_label(stage: str) -> str:
    return str(STAGE_LABELS.get(stage, stage))


@register.filter
def signed(value: int | None) -> str:
    """+1,234 or -56 (with a real minus sign); 0 for no change."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    sign = "+" if value > 0 else "\N{MINUS SIGN}"
    return f"{sign}{intcomma(abs(value))}"


@register.filter
def points_change(value: float | None) -> str:
    """A change of a proportion in percentage points: +2.5 pp, -0.4 pp, 0 pp (no
    '0.0': a whole number shows as one), in the reader's locale."""
    if value is None:
        return "—"
    points = round(100 * value, 1)
    sign = "+" if points > 0 else ("\N{MINUS SIGN}" if points < 0 else "")
    return f"{sign}{labels.number(abs(points), 1)} pp"


@register.filter
def cut_label(cut: str) -> str:
    return str(CUT_LABELS.get(cut, cut))
