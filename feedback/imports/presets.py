"""What common CRM exports call things, as data: header names (API names and the
labels exports and reports use) → where the column goes, and the values CRMs write →
the codes of our fields. HubSpot and Salesforce in full, the cheap common headers of
Zoho, Pipedrive and Dynamics. mapping.suggested_mapping reads these tables; nothing
else decides from a header's name.

Headers are compared after `header_key` (camelCase split, punctuation and case
ignored), so "NumberOfEmployees", "No. of Employees" and "number_of_employees" meet;
values after `value_key` (case and spaces ignored)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


def header_key(header: str) -> str:
    """'LeadSource', 'Lead Source', 'lead_source' → 'lead source'."""
    text = re.sub(r"__c$", "", header.strip())  # Salesforce custom-field suffix
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def value_key(value: str) -> str:
    """'Closed - Won', ' closed-won ', 'CLOSED_WON' → 'closed won'."""
    return " ".join(re.sub(r"[\s_\-]+", " ", value.strip().casefold()).split())


@dataclass(frozen=True)
class Rule:
    """A column whose header is one of `headers` goes to `target` (a mapping entry
    without the value map). When several columns claim one slot, the lowest `rank`
    wins; the others become custom fields. `unmapped`/`default` say what a value with
    no code becomes (see docs/import-mapping.md)."""

    headers: tuple[str, ...]
    target: Mapping[str, object]
    rank: int = 0
    unmapped: str = "reject"
    default: str = ""
    # Written by sales once the outcome is known: never a fair criterion.
    after_outcome: bool = False
    # A part of the name ("First Name", "Last Name"): parts are joined in file order.
    name_part: bool = False
    # The rule holds only if one of the column's sampled values is one of these (as
    # value_key): a "Status" column is the outcome in Salesforce, not in HubSpot.
    needs_values: tuple[str, ...] = ()


def _to(target: str, **extra: object) -> Mapping[str, object]:
    return MappingProxyType({"target": target, **extra})


def _field(key: str) -> Mapping[str, object]:
    return _to("field", field=key)


def _custom(key: str, label: str, type_: str) -> Mapping[str, object]:
    return _to("new_field", key=key, label=label, type=type_, category="demographic")


RULES: tuple[Rule, ...] = (
    # Identity
    Rule(
        (
            "id", "record id", "contact id", "lead id", "prospect id", "lead number",
            "external id", "hubspot id", "hs object id", "person id", "do not modify lead",
            "lead guid", "deal id", "opportunity id",
        ),
        _to("external_id"),
    ),
    Rule(("email", "e mail", "email address", "mail", "person email", "primary email"),
         _to("email")),
    Rule(("name", "full name", "lead name", "contact name", "contact", "person name"),
         _to("name")),
    Rule(("first name", "firstname", "given name"), _to("name"), rank=1, name_part=True),
    Rule(("last name", "lastname", "surname", "family name"), _to("name"), rank=1,
         name_part=True),
    # Firmographics and demographics
    Rule(("company", "company name", "account name", "organization", "organization name",
          "person organization", "organisation", "account"), _field("company")),
    Rule(("title", "job title", "jobtitle", "position", "person job title"), _field("job_title")),
    Rule(("industry", "organization industry"), _field("industry")),
    Rule(("country", "country region", "country code", "mailing country", "billing country",
          "address 1 country region", "organization country"), _field("country")),
    Rule(("state", "state region", "region", "state province", "address 1 state province",
          "mailing state", "billing state"), _field("region")),
    Rule(("employees", "number of employees", "no of employees", "numberofemployees",
          "numemployees", "company size", "headcount", "organization number of employees"),
         _field("employees")),
    Rule(("annual revenue", "annualrevenue", "revenue"), _field("annual_revenue")),
    Rule(("created date", "create date", "createdate", "created", "created at",
          "created time", "created on", "lead created", "person add time"),
         _field("created_at")),
    # Where the lead came from: Salesforce/Zoho "Lead Source" is a source; HubSpot's
    # "Original Source" is the channel it came through.
    Rule(("lead source", "source"), _field("source"), unmapped="default", default="other"),
    # "Lead Origin" (the form or import it came in by) only when there is no source.
    Rule(("lead origin", "origin"), _field("source"), rank=1, unmapped="default",
         default="other"),
    Rule(("original source", "hs analytics source", "original source type", "channel",
          "lead channel"), _field("channel"), unmapped="default", default="other"),
    # The outcome
    Rule(("is converted", "converted", "won"), _field("converted"), unmapped="empty"),
    Rule(("status", "lead status"), _field("converted"), rank=2, unmapped="empty",
         needs_values=("closed converted", "closed not converted")),
    Rule(("deal stage", "dealstage", "stage", "opportunity stage"), _field("converted"),
         rank=1, unmapped="empty", needs_values=("closed won", "closed lost")),
    Rule(("lifecycle stage", "lifecyclestage"), _field("reached_stage"), unmapped="empty"),
    Rule(("converted date", "became a customer date", "hs lifecyclestage customer date",
          "close date", "closed date", "closedate", "won time"), _field("closed_at")),
    Rule(("amount", "deal value", "deal amount", "opportunity amount"), _field("deal_value")),
    # What sales wrote after the outcome: kept, but marked so no criterion leans on it.
    Rule(("hs lead status", "lead status"), _custom("lead_status", "Lead Status", "text"), rank=5,
         after_outcome=True),
    Rule(("status",), _custom("status", "Status", "text"), rank=5, after_outcome=True),
    Rule(("rating", "lead rating"), _custom("rating", "Rating", "text"), after_outcome=True),
    Rule(("lost reason", "closed lost reason", "disqualification reason",
          "unqualified reason", "lead status reason", "status reason"),
         _custom("lost_reason", "Lost reason", "text"), after_outcome=True),
    Rule(("tags", "lead quality", "lead profile", "quality"), _custom("lead_quality", "Quality",
         "text"), after_outcome=True),
    Rule(("converted account id", "converted contact id", "converted opportunity id",
          "associated deal", "associated deals"), _to("ignore"), after_outcome=True),
)  # fmt: skip


def rules_for(header: str, samples: list[str]) -> list[Rule]:
    """Every rule naming this header that its sampled values allow, best first."""
    key = header_key(header)
    seen = {value_key(v) for v in samples}
    return sorted(
        (
            r
            for r in RULES
            if key in r.headers and (not r.needs_values or seen & set(r.needs_values))
        ),
        key=lambda r: r.rank,
    )


# The values CRMs write → our codes, per field. A choice's own code and label match
# without being listed here. `None`: known, and means "no value" (left empty).
VALUES: Mapping[str, Mapping[str, object]] = MappingProxyType(
    {
        "source": {
            "olark chat": "chat", "live chat": "chat", "chat": "chat",
            "web": "web_form_contact", "website": "web_form_contact",
            "web form": "web_form_contact", "landing page submission": "web_form_contact",
            "contact form": "web_form_contact", "form": "web_form_contact",
            "phone inquiry": "phone_call", "phone": "phone_call", "click2call": "phone_call",
            "cold call": "phone_call", "inbound call": "phone_call",
            "partner referral": "trusted_referral", "partner": "trusted_referral",
            "employee referral": "referral", "external referral": "referral",
            "referral": "referral", "referral sites": "referral", "reference": "referral",
            "word of mouth": "referral", "customer referral": "referral",
            "purchased list": "spreadsheet", "list import": "spreadsheet",
            "lead import": "spreadsheet", "import": "spreadsheet",
            "trade show": "trade_show", "tradeshow": "trade_show", "event": "trade_show",
            "seminar internal": "webinar", "seminar partner": "webinar",
            "webinar": "webinar", "facebook": "social_media", "linkedin": "social_media",
            "twitter": "social_media", "social media": "social_media",
            "social": "social_media", "white paper": "white_paper_download",
            "ebook": "white_paper_download", "content download": "white_paper_download",
            "business card": "business_card", "other": "other",
            # Search engines, ads and direct visits are channels, not sources.
            "google": "other", "organic search": "other", "direct traffic": "other",
            "bing": "other", "paid search": "other", "advertisement": "other",
        },
        "channel": {
            "organic search": "organic_search", "google": "organic_search",
            "bing": "organic_search", "seo": "organic_search",
            "paid search": "paid_search", "google ads": "paid_search", "ppc": "paid_search",
            "adwords": "paid_search", "email marketing": "email", "email": "email",
            "social media": "social", "organic social": "social", "paid social": "social",
            "referrals": "partner", "referral": "partner", "direct traffic": "direct",
            "direct": "direct", "offline sources": "event", "offline": "event",
            "other campaigns": "other", "ai referrals": "other",
        },
        "reached_stage": {
            "subscriber": "lead", "lead": "lead", "marketingqualifiedlead": "lead",
            "marketing qualified lead": "lead", "salesqualifiedlead": "lead",
            "sales qualified lead": "lead", "mql": "lead", "sql": "lead",
            "opportunity": "opportunity", "customer": "customer", "evangelist": "customer",
            "closed won": "customer", "won": "customer", "other": None,
        },
        # The outcome from a status or stage column: converted, not, or unknown.
        "converted": {
            "closed converted": True, "closed won": True, "won": True, "converted": True,
            "customer": True, "closed not converted": False, "closed lost": False,
            "lost": False, "unqualified": False, "disqualified": False, "junk lead": False,
            "open not contacted": None, "working contacted": None, "open": None,
            "working": None, "new": None, "qualified": None,
        },
        "seniority": {
            "ceo": "c_level", "cfo": "c_level", "cto": "c_level", "c suite": "c_level",
            "vice president": "vp", "head": "director", "intern": "intern",
            "entry": "entry", "owner": "owner", "founder": "owner",
        },
    }
)  # fmt: skip


# Disposition columns: what sales decided about a lead, as the CRMs write it. A column
# with one of these headers whose sampled values include a known disposition also
# gives sales verdicts (dispositions.parse_code: "good", "bad:<reason>", None for no
# verdict yet); any other value is no verdict.
VERDICT_HEADERS = (
    "status", "lead status", "hs lead status", "lead status reason", "status reason",
    "disposition", "lead disposition", "call disposition", "lead stage",
)  # fmt: skip

VERDICT_VALUES: Mapping[str, str | None] = MappingProxyType(
    {
        # Salesforce Lead Status (the default picklist)
        "open not contacted": None, "working contacted": None,
        "closed converted": "good", "closed not converted": "bad:other",
        # HubSpot hs_lead_status
        "new": None, "open": None, "in progress": None, "attempted to contact": None,
        "connected": "good", "open deal": "good", "unqualified": "bad:other",
        "bad timing": "bad:bad_timing",
        # Zoho CRM Lead Status
        "contacted": None, "not contacted": None, "attempted to contact later": None,
        "contact in future": "bad:bad_timing", "pre qualified": "good", "qualified": "good",
        "not qualified": "bad:other", "junk lead": "bad:other", "lost lead": "bad:other",
        # Dynamics 365 status reasons, common dispositions
        "cannot contact": "bad:bad_contact", "no longer interested": "bad:no_need",
        "canceled": "bad:other", "cancelled": "bad:other", "lost": "bad:other",
        "disqualified": "bad:other", "duplicate": "bad:duplicate",
        "wrong number": "bad:bad_contact", "invalid number": "bad:bad_contact",
        "not interested": "bad:no_need", "no budget": "bad:no_budget",
        "student": "bad:student", "competitor": "bad:competitor",
        "interested": "good", "converted": "good", "won": "good", "closed won": "good",
        "closed lost": "bad:other",
    }
)  # fmt: skip

# The owner of a lead in an export: the rep an imported verdict is attributed to.
REP_HEADERS = (
    "lead owner", "owner", "contact owner", "record owner", "owner name",
    "hubspot owner", "lead owner name", "owner email", "assigned to", "sales rep",
)  # fmt: skip


def verdict_values(samples: list[str]) -> dict[str, str | None] | None:
    """The suggested value map of a disposition column's sampled values, or None when
    none of them is a known disposition."""
    found = {
        raw: VERDICT_VALUES[value_key(raw)] for raw in samples if value_key(raw) in VERDICT_VALUES
    }
    return found if any(code is not None for code in found.values()) else None
