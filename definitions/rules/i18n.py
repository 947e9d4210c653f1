"""Translation markers for a module that may not import Django.

The rules package is pure Python, yet every sentence it produces is shown to users
in their own language.  So the package never translates anything itself: it marks
English *templates* for extraction and lets the caller pass the real functions
(``gettext`` / ``ngettext``) into every rendering function.

Two rules keep translations possible in languages with another word order:

* a template is always a whole sentence (or a whole self-contained noun phrase) with
  named brace placeholders, e.g. ``_("{field} is at least {value}")``;
* the template is translated *before* ``.format(**params)``, so the translator moves
  the placeholders wherever the grammar wants them.
"""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[str], str]
NTranslate = Callable[[str, str, int], str]
# (context, message) -> translation: Django's ``pgettext``.
PTranslate = Callable[[str, str], str]
PluralTemplate = tuple[str, str]


def _(message: str) -> str:
    """Mark a template for extraction; returns it untouched.

    ``makemessages``/``xgettext`` extract every ``_("...")`` literal, and the caller's
    ``translate`` (Django's ``gettext``) translates the template at render time.
    """
    return message


def ngettext_lazy(singular: str, plural: str) -> PluralTemplate:
    """Mark a singular/plural template pair for extraction; returns the pair.

    This is NOT Django's lazy object.  It is named like Django's function only because
    ``makemessages`` passes ``--keyword=ngettext_lazy:1,2`` to xgettext, so both forms
    are extracted without a custom keyword.  Use it as
    ``ntranslate(*ngettext_lazy("{count} day", "{count} days"), count)``.
    """
    return (singular, plural)


def pgettext_lazy(context: str, message: str) -> tuple[str, str]:
    """Mark a message with a context for extraction; returns ``(context, message)``.

    Like ``ngettext_lazy`` above, named after Django's function only so that
    ``makemessages`` (``--keyword=pgettext_lazy:1c,2``) extracts it with its context.
    Use it as ``ptranslate(*pgettext_lazy("ordinal of a group", "first"))``: the context
    lets a language word the same English differently ("first" group vs "first" page).
    """
    return (context, message)


def identity(message: str) -> str:
    """Default ``translate``: English, i.e. the template itself."""
    return message


def english_ngettext(singular: str, plural: str, number: int) -> str:
    """Default ``ntranslate``: English plural rule (only exactly one is singular)."""
    return singular if number == 1 else plural


def english_pgettext(context: str, message: str) -> str:
    """Default ``ptranslate``: English, the message itself whatever its context."""
    return message
