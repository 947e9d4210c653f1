"""The outbound webhooks in the OpenAPI document (its 3.1 `webhooks` section): what
each event's POST to a receiver carries. Documentation only: the integrations app
builds the payloads from definitions.core.events; docs/webhooks.md says the same for
people, with the signature check."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from definitions.core import events

REF = "#/components/schemas/{model}"


class WebhookWorkshop(BaseModel):
    slug: str
    name: str


class VersionPublishedData(BaseModel):
    workshop: str
    version: int
    note: str
    published_by: str
    published_at: datetime
    url: str


class ProposalData(BaseModel):
    workshop: str
    proposal: int
    title: str
    state: str
    revision: int
    closes_at: datetime | None
    url: str
    opened_by: str | None = Field(None, description="proposal.opened only")
    accepted: bool | None = Field(None, description="proposal.closed only")
    outcome: str | None = Field(None, description="proposal.closed only: the statement")
    closed_at: datetime | None = Field(None, description="proposal.closed only")
    closed_by: str | None = Field(
        None, description="proposal.closed only; null when closed at its time"
    )


class ProposalPublishedData(BaseModel):
    workshop: str
    proposal: int
    title: str
    version: int
    url: str


class ImportFinishedData(BaseModel):
    workshop: str
    import_: int = Field(alias="import")
    kind: Literal["leads", "activities"]
    state: Literal["done", "failed", "cancelled"]
    file: str
    imported: int
    updated: int
    unchanged: int
    errors: int
    message: str
    url: str


class BacktestFinishedData(BaseModel):
    workshop: str
    run: int
    state: Literal["done"]
    version: int | None
    proposal: int | None
    leads: int
    qualified: int
    stages: dict[str, int]
    finished_at: datetime | None
    url: str


class ReviewReadyData(BaseModel):
    workshop: str
    version: int
    url: str


class LeadClassifiedData(BaseModel):
    workshop: str
    email: str | None = Field(description="The e-mail sent with the lead, if any.")
    version: int
    qualified: bool
    junk: bool
    stage: str
    score: int


DATA: dict[str, tuple[type[BaseModel], str]] = {
    events.VERSION_PUBLISHED: (VersionPublishedData, "A version is published."),
    events.PROPOSAL_OPENED: (ProposalData, "A proposal is opened for votes."),
    events.PROPOSAL_CLOSED: (ProposalData, "Voting on a proposal closed (accepted or not)."),
    events.PROPOSAL_PUBLISHED: (ProposalPublishedData, "An accepted proposal is published."),
    events.IMPORT_FINISHED: (ImportFinishedData, "An import of leads or activities ended."),
    events.BACKTEST_FINISHED: (BacktestFinishedData, "A backtest finished."),
    events.REVIEW_READY: (ReviewReadyData, "A version's review is ready."),
    events.LEAD_CLASSIFIED: (LeadClassifiedData, "A lead was classified (high volume)."),
}

HEADERS = {
    "LeadWorkshop-Signature": (
        "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>' under the endpoint's "
        "secret>. Check it, and refuse a t older than 5 minutes."
    ),
    "LeadWorkshop-Event-Id": "The event's id (also the body's id); the same on every "
    "retry, so a receiver can ignore one it processed already.",
    "LeadWorkshop-Event": "The event's type, as in the body.",
}


def _envelope(event: str, data: type[BaseModel]) -> type[BaseModel]:
    name = "".join(part.capitalize() for part in event.replace(".", "_").split("_")) + "Event"

    class Envelope(BaseModel):
        id: str = Field(description="The event id (a UUID), as in LeadWorkshop-Event-Id.")
        type: Literal[event]  # type: ignore[valid-type]
        created_at: datetime
        workshop: WebhookWorkshop
        data: data  # type: ignore[valid-type]

    Envelope.__name__ = Envelope.__qualname__ = name
    return Envelope


def add_webhooks(schema: dict[str, Any]) -> None:
    """Add to `schema` a `webhooks` entry per event and their payload schemas."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    webhooks: dict[str, Any] = {}
    for event, (data, summary) in DATA.items():
        envelope = _envelope(event, data)
        generated = envelope.model_json_schema(ref_template=REF, by_alias=True)
        components.update(generated.pop("$defs", {}))
        components[envelope.__name__] = generated
        webhooks[event] = {
            "post": {
                "summary": summary,
                "operationId": f"webhook_{event.replace('.', '_')}",
                "tags": ["webhooks"],
                "parameters": [
                    {
                        "name": header,
                        "in": "header",
                        "required": True,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for header, text in HEADERS.items()
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": REF.format(model=envelope.__name__)}
                        }
                    },
                },
                "responses": {
                    "2XX": {"description": "Received. Anything else is retried with backoff."}
                },
            }
        }
    schema["webhooks"] = webhooks
