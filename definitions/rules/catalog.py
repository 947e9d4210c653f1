"""The lead field catalog and the activity-kind catalog a definition is checked against.

A workshop's catalog is the built-in fields below plus custom fields it adds.  The
Django side builds a :class:`Catalog` from the database (usually through
:meth:`Catalog.translated` so labels are already in the reader's language); this
module only describes the shape and the built-ins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType

from .i18n import Translate, _, identity, ngettext_lazy


class FieldType(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


class Category(StrEnum):
    FORMAT = "format"
    DEMOGRAPHIC = "demographic"
    FIRMOGRAPHIC = "firmographic"
    BEHAVIOURAL = "behavioural"
    BANT = "bant"
    # Outcome fields are the truth a definition is measured against (did the lead
    # convert?), so a criterion may never test them: it would grade its own homework.
    OUTCOME = "outcome"


CRITERION_CATEGORIES: tuple[Category, ...] = tuple(c for c in Category if c != Category.OUTCOME)

CATEGORY_LABELS: Mapping[Category, str] = MappingProxyType(
    {
        Category.FORMAT: _("Format"),
        Category.DEMOGRAPHIC: _("Demographic"),
        Category.FIRMOGRAPHIC: _("Firmographic"),
        Category.BEHAVIOURAL: _("Behavioural"),
        Category.BANT: _("BANT"),
        Category.OUTCOME: _("Outcome"),
    }
)


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: FieldType
    category: Category
    choices: tuple[str, ...] = ()
    builtin: bool = True
    # (value, label) pairs; a choice without a label renders as its raw value.  Kept
    # as a tuple of pairs (not a dict) so the spec stays hashable.
    choice_labels: tuple[tuple[str, str], ...] = ()

    def choice_label(self, value: str) -> str:
        for choice, label in self.choice_labels:
            if choice == value:
                return label
        return value


@dataclass(frozen=True)
class ActivityKindSpec:
    key: str
    label: str
    # Optional "{count} product page view" / "{count} product page views" pair, so the
    # written definition reads naturally; kinds without one use a generic phrase.
    count_template: tuple[str, str] | None = None


@dataclass(frozen=True)
class Catalog:
    fields: Mapping[str, FieldSpec]
    activity_kinds: Mapping[str, ActivityKindSpec]

    @classmethod
    def build(
        cls,
        fields: Iterable[FieldSpec] = (),
        activity_kinds: Iterable[ActivityKindSpec] = (),
    ) -> Catalog:
        """Build a catalog from lists, refusing duplicate keys (a silent overwrite of a
        built-in by a custom field would change what existing definitions mean)."""
        field_map: dict[str, FieldSpec] = {}
        for spec in fields:
            if spec.key in field_map:
                raise ValueError(f"duplicate field key {spec.key!r}")
            field_map[spec.key] = spec
        kind_map: dict[str, ActivityKindSpec] = {}
        for kind in activity_kinds:
            if kind.key in kind_map:
                raise ValueError(f"duplicate activity kind {kind.key!r}")
            kind_map[kind.key] = kind
        return cls(MappingProxyType(field_map), MappingProxyType(kind_map))

    def translated(self, translate: Translate = identity) -> Catalog:
        """The same catalog with built-in labels passed through ``translate``.

        Custom fields keep their labels: they were typed by the workshop in its own
        language and are not in any message catalog.
        """
        fields = [
            replace(
                spec,
                label=translate(spec.label),
                choice_labels=tuple((v, translate(lbl)) for v, lbl in spec.choice_labels),
            )
            if spec.builtin
            else spec
            for spec in self.fields.values()
        ]
        kinds = [
            replace(kind, label=translate(kind.label)) if kind.key in _DEFAULT_KIND_KEYS else kind
            for kind in self.activity_kinds.values()
        ]
        return Catalog.build(fields, kinds)


# Human labels for every built-in choice value, per field: the same raw value can need
# different words in different fields ("confirmed" budget vs "confirmed" need).
CHOICE_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "source": MappingProxyType(
            {
                "web_form_price_request": _("Price-request form"),
                "web_form_contact": _("Contact form"),
                "white_paper_download": _("White paper download"),
                "high_value_white_paper": _("High-value white paper"),
                "webinar": _("Webinar"),
                "trusted_referral": _("Trusted referral"),
                "referral": _("Referral"),
                "handwritten_list": _("Handwritten list"),
                "business_card": _("Business card"),
                "spreadsheet": _("Spreadsheet"),
                "chat": _("Chat"),
                "phone_call": _("Phone call"),
                "social_media": _("Social media"),
                "trade_show": _("Trade show"),
                "other": _("Other"),
            }
        ),
        "channel": MappingProxyType(
            {
                "organic_search": _("Organic search"),
                "paid_search": _("Paid search"),
                "email": _("Email"),
                "social": _("Social"),
                "event": _("Event"),
                "partner": _("Partner"),
                "direct": _("Direct"),
                "other": _("Other"),
            }
        ),
        "seniority": MappingProxyType(
            {
                "intern": _("Intern"),
                "entry": _("Entry level"),
                "senior": _("Senior"),
                "manager": _("Manager"),
                "director": _("Director"),
                "vp": _("VP"),
                "c_level": _("C-level"),
                "owner": _("Owner"),
            }
        ),
        "email_domain_kind": MappingProxyType(
            {
                "business": _("Business"),
                "free": _("Free email provider"),
                "edu": _("Education"),
            }
        ),
        "budget": MappingProxyType(
            {
                "confirmed": _("Confirmed"),
                "planned": _("Planned"),
                "none": _("No budget"),
                "unknown": _("Unknown"),
            }
        ),
        "authority": MappingProxyType(
            {
                "decision_maker": _("Decision maker"),
                "influencer": _("Influencer"),
                "gatekeeper": _("Gatekeeper"),
                "unknown": _("Unknown"),
            }
        ),
        "need": MappingProxyType(
            {
                "confirmed": _("Confirmed"),
                "possible": _("Possible"),
                "none": _("No need"),
                "unknown": _("Unknown"),
            }
        ),
        "reached_stage": MappingProxyType(
            {
                "lead": _("Lead"),
                "opportunity": _("Opportunity"),
                "customer": _("Customer"),
            }
        ),
    }
)


def _builtin(
    key: str, label: str, type_: FieldType, category: Category, choices: tuple[str, ...] = ()
) -> FieldSpec:
    labels = CHOICE_LABELS.get(key, {})
    return FieldSpec(
        key=key,
        label=label,
        type=type_,
        category=category,
        choices=choices,
        builtin=True,
        choice_labels=tuple((c, labels[c]) for c in choices if c in labels),
    )


_T, _C, _N, _B, _D = (
    FieldType.TEXT,
    FieldType.CHOICE,
    FieldType.NUMBER,
    FieldType.BOOLEAN,
    FieldType.DATE,
)

BUILTIN_FIELDS: tuple[FieldSpec, ...] = (
    _builtin("source", _("Source"), _C, Category.FORMAT, tuple(CHOICE_LABELS["source"])),
    _builtin("channel", _("Channel"), _C, Category.FORMAT, tuple(CHOICE_LABELS["channel"])),
    _builtin("company", _("Company"), _T, Category.FIRMOGRAPHIC),
    _builtin("industry", _("Industry"), _T, Category.FIRMOGRAPHIC),
    # ISO 3166-1 alpha-2 ("US", "CA"); compared case-insensitively like all text.
    _builtin("country", _("Country"), _T, Category.FIRMOGRAPHIC),
    _builtin("region", _("Region"), _T, Category.FIRMOGRAPHIC),
    _builtin("employees", _("Employees"), _N, Category.FIRMOGRAPHIC),
    _builtin("annual_revenue", _("Annual revenue"), _N, Category.FIRMOGRAPHIC),
    _builtin("email_domain", _("Email domain"), _T, Category.FIRMOGRAPHIC),
    _builtin("job_title", _("Job title"), _T, Category.DEMOGRAPHIC),
    _builtin(
        "seniority", _("Seniority"), _C, Category.DEMOGRAPHIC, tuple(CHOICE_LABELS["seniority"])
    ),
    _builtin(
        "email_domain_kind",
        _("Email domain kind"),
        _C,
        Category.DEMOGRAPHIC,
        tuple(CHOICE_LABELS["email_domain_kind"]),
    ),
    _builtin("budget", _("Budget"), _C, Category.BANT, tuple(CHOICE_LABELS["budget"])),
    _builtin("authority", _("Authority"), _C, Category.BANT, tuple(CHOICE_LABELS["authority"])),
    _builtin("need", _("Need"), _C, Category.BANT, tuple(CHOICE_LABELS["need"])),
    _builtin("timeline_days", _("Timeline (days)"), _N, Category.BANT),
    _builtin("created_at", _("Created at"), _D, Category.BEHAVIOURAL),
    _builtin(
        "reached_stage",
        _("Reached stage"),
        _C,
        Category.OUTCOME,
        tuple(CHOICE_LABELS["reached_stage"]),
    ),
    _builtin("converted", _("Converted"), _B, Category.OUTCOME),
    _builtin("deal_value", _("Deal value"), _N, Category.OUTCOME),
    _builtin("closed_at", _("Closed at"), _D, Category.OUTCOME),
)

DEFAULT_ACTIVITY_KINDS: tuple[ActivityKindSpec, ...] = (
    ActivityKindSpec(
        "page_view", _("Page view"), ngettext_lazy("{count} page view", "{count} page views")
    ),
    ActivityKindSpec(
        "product_page_view",
        _("Product page view"),
        ngettext_lazy("{count} product page view", "{count} product page views"),
    ),
    ActivityKindSpec(
        "download", _("Download"), ngettext_lazy("{count} download", "{count} downloads")
    ),
    ActivityKindSpec(
        "high_value_download",
        _("High-value download"),
        ngettext_lazy("{count} high-value download", "{count} high-value downloads"),
    ),
    ActivityKindSpec(
        "demo_request",
        _("Demo request"),
        ngettext_lazy("{count} demo request", "{count} demo requests"),
    ),
    ActivityKindSpec(
        "trial_start",
        _("Trial start"),
        ngettext_lazy("{count} trial start", "{count} trial starts"),
    ),
    ActivityKindSpec(
        "email_open", _("Email open"), ngettext_lazy("{count} email open", "{count} email opens")
    ),
    ActivityKindSpec(
        "webinar_attended",
        _("Webinar attended"),
        ngettext_lazy("{count} webinar attended", "{count} webinars attended"),
    ),
    ActivityKindSpec(
        "price_request",
        _("Price request"),
        ngettext_lazy("{count} price request", "{count} price requests"),
    ),
    ActivityKindSpec(
        "call_request",
        _("Call request"),
        ngettext_lazy("{count} call request", "{count} call requests"),
    ),
)

_DEFAULT_KIND_KEYS = frozenset(kind.key for kind in DEFAULT_ACTIVITY_KINDS)

# The catalog every workshop starts with (English labels; see Catalog.translated).
DEFAULT_CATALOG: Catalog = Catalog.build(BUILTIN_FIELDS, DEFAULT_ACTIVITY_KINDS)
