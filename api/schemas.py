"""The API's request and response shapes. They ARE the OpenAPI document, so every
rule a request must follow is written here where a schema can say it (types, lengths,
the allowed codes of each built-in choice field, no NUL characters, batch sizes),
strictly: "12" is not a number and 1 is not true. What only the workshop's catalog
can say (which custom fields and activity kinds exist, and their types) is checked by
the services and reported the same way, as 422 with the path to the value.

The built-in fields mirror definitions.rules.catalog.BUILTIN_FIELDS one for one
(tests/api/test_schema.py holds them to it); text lengths come from the Lead columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictBool,
    WithJsonSchema,
    create_model,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from api import values
from definitions import rules
from feedback.models import Lead, Reason

MAX_BATCH = 1000
MAX_CUSTOM_VALUES = 200
NUL_FREE = r"^[^\x00]*$"
# No control characters: an id is a name a CRM printed, and NUL cannot be stored.
EXTERNAL_ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"
# Custom field keys and activity kind keys, as the catalog forms allow them.
KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


def _limit(column: str) -> int:
    limit = getattr(Lead._meta.get_field(column), "max_length", None)
    assert isinstance(limit, int)
    return limit


def text(column: str) -> Any:
    """Field constraints of a text column of Lead: its length, no NUL."""
    return Field(strict=True, max_length=_limit(column), pattern=NUL_FREE)


def _moment(raw: object) -> datetime:
    try:
        return values.parse_moment(raw)
    except values.ValueProblem as problem:
        raise PydanticCustomError(problem.code, problem.message) from None


@dataclass(frozen=True)
class OneOf:
    """A built-in choice field: exactly one of its catalog codes (an enum in the
    OpenAPI document)."""

    key: str

    @property
    def choices(self) -> tuple[str, ...]:
        return rules.DEFAULT_CATALOG.fields[self.key].choices

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        spec = rules.DEFAULT_CATALOG.fields[self.key]

        def check(value: str) -> str:
            if value not in spec.choices:
                raise PydanticCustomError("enum", values.choice_message(spec))
            return value

        return core_schema.no_info_after_validator_function(
            check, core_schema.str_schema(strict=True)
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "enum": list(self.choices)}


def _custom_scalar(raw: object) -> Any:
    """Any JSON scalar; whether it fits the field is the catalog's call (services)."""
    if raw is None or isinstance(raw, bool):
        return raw
    if values.is_number(raw):
        try:
            number = float(raw)  # type: ignore[arg-type]
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise PydanticCustomError("finite_number", "Input should be a finite number")
        return raw
    if isinstance(raw, str):
        if len(raw) > values.CUSTOM_TEXT_LIMIT:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": values.CUSTOM_TEXT_LIMIT},
            )
        if "\x00" in raw:
            raise PydanticCustomError("string_nul", values.nul_message())
        return raw
    raise PydanticCustomError(
        "scalar_type", "Input should be a string, a number, a boolean or null"
    )


ExternalId = Annotated[
    str,
    Field(
        strict=True,
        min_length=1,
        max_length=200,
        pattern=EXTERNAL_ID_PATTERN,
        description="The lead's id in your CRM; unique within the workshop.",
        examples=["00Q5e00000AbCdE"],
    ),
]
Number = Annotated[
    float,
    Field(strict=True, allow_inf_nan=False, ge=-values.MAX_ABS_NUMBER, le=values.MAX_ABS_NUMBER),
]
Moment = Annotated[
    datetime,
    BeforeValidator(_moment),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601; without an offset the time is taken as UTC.",
        }
    ),
]
CustomKey = Annotated[str, Field(strict=True, pattern=KEY_PATTERN)]
CustomValue = Annotated[
    Any,
    BeforeValidator(_custom_scalar),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": values.CUSTOM_TEXT_LIMIT, "pattern": NUL_FREE},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "null"},
            ]
        }
    ),
]
KindKey = Annotated[str, Field(strict=True, pattern=KEY_PATTERN, examples=["demo_request"])]


class LeadFields(BaseModel):
    """A lead's values. Every field is optional: a field you leave out keeps its
    stored value, `null` clears it. `custom` holds the workshop's custom fields by
    key and is merged the same way (a key set to `null` is removed)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, text("name")] | None = None
    email: Annotated[str, text("email")] | None = None
    source: Annotated[str, OneOf("source")] | None = None
    channel: Annotated[str, OneOf("channel")] | None = None
    company: Annotated[str, text("company")] | None = None
    industry: Annotated[str, text("industry")] | None = None
    country: Annotated[str, text("country")] | None = None
    region: Annotated[str, text("region")] | None = None
    employees: Number | None = None
    annual_revenue: Number | None = None
    email_domain: Annotated[str, text("email_domain")] | None = None
    job_title: Annotated[str, text("job_title")] | None = None
    seniority: Annotated[str, OneOf("seniority")] | None = None
    email_domain_kind: Annotated[str, OneOf("email_domain_kind")] | None = None
    budget: Annotated[str, OneOf("budget")] | None = None
    authority: Annotated[str, OneOf("authority")] | None = None
    need: Annotated[str, OneOf("need")] | None = None
    timeline_days: Number | None = None
    created_at: Moment | None = None
    reached_stage: Annotated[str, OneOf("reached_stage")] | None = None
    converted: StrictBool | None = None
    deal_value: Number | None = None
    closed_at: Moment | None = None
    custom: dict[CustomKey, CustomValue] = Field(
        default_factory=dict,
        max_length=MAX_CUSTOM_VALUES,
        json_schema_extra={"additionalProperties": False},
        description="The workshop's custom fields by key (see its Fields page).",
    )


class LeadIn(LeadFields):
    """The body of PUT /leads/{external_id}."""


class LeadBatchItem(LeadFields):
    external_id: ExternalId


class LeadBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leads: list[LeadBatchItem] = Field(min_length=1, max_length=MAX_BATCH)


ReasonCode = Literal[
    "no_budget", "no_authority", "no_need", "bad_timing", "wrong_industry", "too_small",
    "student", "competitor", "b2c", "duplicate", "bad_contact", "other",
]  # fmt: skip
# The OpenAPI enum is written out; it must be the reasons the app knows, no more.
assert set(get_args(ReasonCode)) == set(Reason.values)


class VerdictItem(BaseModel):
    """One lead's disposition in your CRM, as a sales verdict."""

    model_config = ConfigDict(extra="forbid")

    external_id: ExternalId
    verdict: Literal["good", "bad", "none"] = Field(
        description="good lead, not a lead (bad), or none (takes back an imported verdict)"
    )
    reason: ReasonCode | None = Field(
        None, description="why it is not a lead (only with bad; default other)"
    )
    rep: str | None = Field(
        None,
        strict=True,
        max_length=150,
        pattern=NUL_FREE,
        description="the rep who decided: a member's username, e-mail or full name; "
        "otherwise the system rep",
    )
    value: str | None = Field(
        None,
        strict=True,
        max_length=200,
        pattern=NUL_FREE,
        description="the disposition as your CRM wrote it (shown on the lead page)",
    )


class VerdictBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        "API",
        strict=True,
        min_length=1,
        max_length=200,
        pattern=NUL_FREE,
        description='where the verdicts come from, e.g. "Salesforce Lead Status"',
    )
    verdicts: list[VerdictItem] = Field(min_length=1, max_length=MAX_BATCH)


class VerdictBatchResult(BaseModel):
    changed: int = Field(
        description="leads whose imported verdict was given, changed or taken back"
    )
    unchanged: int


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: KindKey
    at: Moment


class ActivitiesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activities: list[ActivityIn] = Field(min_length=1, max_length=MAX_BATCH)


# ------------------------------------------------------------------ responses


class ActivityOut(BaseModel):
    kind: str
    at: datetime


_OUT_TYPES: dict[rules.FieldType, Any] = {
    rules.FieldType.TEXT: str | None,
    rules.FieldType.CHOICE: str | None,
    rules.FieldType.NUMBER: float | None,
    rules.FieldType.BOOLEAN: bool | None,
    rules.FieldType.DATE: datetime | None,
}

# The stored lead, in the shape it is written (flat built-in fields, `custom`), plus
# what only the server knows. Built from the catalog, so a new built-in field shows.
_lead_out_fields: dict[str, Any] = {
    "external_id": (str, ...),
    "name": (str, ...),
    "email": (str, ...),
    **{spec.key: (_OUT_TYPES[spec.type], ...) for spec in rules.BUILTIN_FIELDS},
    "custom": (dict[str, str | float | bool | None], ...),
    "activity_count": (int, Field(description="How many activities the lead has.")),
    "activities": (
        list[ActivityOut],
        Field(description="The latest activities (at most 50), newest first."),
    ),
    "imported_at": (datetime, Field(description="When the lead first reached the workshop.")),
    "updated_at": (datetime, Field(description="When the lead last changed.")),
}
LeadOut: type[BaseModel] = create_model("LeadOut", **_lead_out_fields)


class BatchItemResult(BaseModel):
    external_id: str
    status: Literal["created", "updated"]


class BatchResult(BaseModel):
    created: int
    updated: int
    results: list[BatchItemResult] = Field(description="One per lead sent, in order.")


class ActivitiesResult(BaseModel):
    added: int = Field(description="Activities stored now.")
    ignored: int = Field(
        description="Activities the lead already had (same kind at the same time), "
        "or that appeared twice in this request."
    )


class Message(BaseModel):
    detail: str


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(
        description='Where the problem is, e.g. ["body", "leads", 3, "custom", "budget_eur"].'
    )
    msg: str
    type: str = Field(description="A stable code for the kind of problem.")


class ValidationErrors(BaseModel):
    detail: list[ErrorItem]


# ------------------------------------------------------------------ classification


class ClassifyIn(LeadFields):
    """One lead, not stored: its fields and its activities, judged by a definition."""

    activities: list[ActivityIn] = Field(default_factory=list, max_length=MAX_BATCH)
    version: int | None = Field(
        default=None,
        ge=1,
        description="A version number; the current published version when left out.",
    )


class MatchedCriterion(BaseModel):
    id: str
    section: str
    text: str


class ClassifyOut(BaseModel):
    version: int
    qualified: bool
    junk: bool
    score: int
    stage: str = Field(description="junk, subscriber, lead, mql or sql")
    matched: list[MatchedCriterion]
