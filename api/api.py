"""The versioned ingestion API, /api/v1/ (django-ninja).

Programs authenticate with a workshop's API key (`Authorization: Bearer lw_…`) and
see that workshop only. Every answer is JSON and documented in /api/v1/openapi.json:
200/201 with the result; 401 for a missing, malformed, unknown or revoked key; 404 for
a lead the key's workshop does not have; 422 with a list of {loc, msg, type} for
anything invalid, whether the schema (types, lengths, choices) or the workshop's
catalog (custom fields, activity kinds) says so; 413 for a body over the size limit.
Reference for people: docs/api.md.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn, cast

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, register_converter
from django.utils.translation import gettext as _
from ninja import NinjaAPI, P, PathEx, Status, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from api import reads, schemas, selectors, services, values, webhooks_doc
from api.access import get_api_key_for_token, get_lead_for_api_key, get_version_for_api_key
from api.models import ApiKey
from definitions.core import events

BODY = "payload"  # the name every operation gives its JSON body parameter

DESCRIPTION = """\
Write and read one workshop's leads by their external id (the id in your CRM).

**Authentication**: `Authorization: Bearer <key>` with an API key a workshop admin
created on the workshop's *API keys* page. A key belongs to one workshop and sees
nothing else.

**Errors**: `401` no, malformed, unknown or revoked key; `404` no lead with this
external id in the key's workshop; `422` a list of `{loc, msg, type}`, one per invalid
value, `loc` being the path to it (`["body", "leads", 3, "custom", "budget_eur"]`);
`413` a body over the size limit. Writes are all or nothing: with any error nothing
is written.
"""


class _BodyNotJson(ValueError):
    pass


class StrictJsonParser(Parser):
    """JSON as RFC 8259 defines it: no NaN or Infinity (Python's json accepts them),
    and text that is valid Unicode (a lone surrogate like "\\ud800" cannot be stored)."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            data = json.loads(request.body, parse_constant=_reject_constant)
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except Exception as exc:  # decoding, syntax, nesting depth, surrogates
            raise _BodyNotJson(str(exc)) from exc
        return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class ApiKeyAuth(HttpBearer):
    openapi_bearerFormat = "lw_<prefix>_<secret>"
    openapi_description = "A workshop's API key, created by an admin on its API keys page."

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = get_api_key_for_token(token)
        if key is not None:
            services.api_key_touch(key=key)
        return key


class LeadWorkshopApi(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        # The outbound webhooks belong in the same document (OpenAPI 3.1 `webhooks`).
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        webhooks_doc.add_webhooks(schema)
        return schema


api = LeadWorkshopApi(
    title="Lead Workshop API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    parser=StrictJsonParser(),
    # No validator badge: it would load an image from another site, which the CSP
    # (rightly) refuses.
    docs=Swagger(settings={"validatorUrl": None, "tryItOutEnabled": False}),
)


def _error(loc: list[str | int], msg: str, type_: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": type_}


def _invalid(request: HttpRequest, errors: list[dict[str, Any]]) -> HttpResponse:
    return api.create_response(request, {"detail": errors}, status=422)


@api.exception_handler(ValidationError)
def _schema_errors(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        loc = list(error.get("loc", ()))
        # ninja nests the body under its parameter name; clients never see that name.
        if loc[:2] == ["body", BODY]:
            del loc[1]
        type_ = str(error.get("type", "invalid"))
        msg = str(error.get("msg", ""))
        if type_ == "extra_forbidden":
            msg = _("Unknown field.")
        elif type_ == "string_pattern_mismatch":
            pattern = (error.get("ctx") or {}).get("pattern")
            if pattern == schemas.NUL_FREE:
                msg, type_ = values.nul_message(), "string_nul"
            elif pattern == schemas.EXTERNAL_ID_PATTERN:
                msg = _("An external id must not contain control characters.")
        errors.append(_error(loc, msg, type_))
    return _invalid(request, errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, _BodyNotJson):
        # ninja reports an unreadable body as 400; it is invalid input like any other.
        return _invalid(
            request, [_error(["body"], _("The body is not valid JSON."), "json_invalid")]
        )
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": _("Send a valid API key: Authorization: Bearer <key>.")},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(
        request, {"detail": _("No lead with this external id in this workshop.")}, status=404
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": _("The body is larger than the upload limit; send fewer leads at a time.")},
        status=413,
    )


def _raise_invalid(
    exc: services.InvalidInput, prefix: tuple[str | int, ...], *, single: bool
) -> NoReturn:
    """Service problems (paths relative to the items) as ninja's ValidationError."""
    errors = []
    for problem in exc.problems:
        loc = problem.loc[1:] if single else problem.loc
        errors.append({"loc": ["body", *prefix, *loc], "msg": problem.msg, "type": problem.type})
    raise ValidationError(errors) from None


def _key(request: HttpRequest) -> ApiKey:
    return cast(ApiKey, request.auth)  # type: ignore[attr-defined]


class _LeadKeyConverter:
    """Any text at all, even empty or with "/" (also sent as %2F) or a newline: what
    an external id may be is the schema's call, answered as 422 with its path, never
    as Django's HTML 404 for a URL that did not resolve."""

    regex = r"[\s\S]*"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(_LeadKeyConverter, "lead_key")

ExternalIdPath = PathEx[
    str,
    P(
        min_length=1,
        max_length=200,
        pattern=schemas.EXTERNAL_ID_PATTERN,
        description="The lead's id in your CRM.",
    ),
]
ERRORS = {401: schemas.Message, 422: schemas.ValidationErrors}
WRITE_ERRORS = {**ERRORS, 413: schemas.Message}


# Since an external id may contain "/", the activities URL is declared first: Django
# tries the patterns in order, and ".../x/activities" must reach it rather than name a
# lead "x/activities".
@api.post(
    "/leads/{lead_key:external_id}/activities",
    response={200: schemas.ActivitiesResult, 404: schemas.Message, **WRITE_ERRORS},
    operation_id="lead_activities_add",
    summary="Add activities to a lead",
    tags=["leads"],
)
def lead_activities_add(
    request: HttpRequest, external_id: ExternalIdPath, payload: schemas.ActivitiesIn
) -> dict[str, int]:
    """Up to 1,000 activities. One already stored (same kind at the same instant) is
    ignored, so sending the same list twice adds nothing the second time."""
    lead = get_lead_for_api_key(_key(request), external_id)
    activities = [a.model_dump(mode="json") for a in payload.activities]
    try:
        added, ignored = services.lead_activities_add(lead=lead, activities=activities)
    except services.InvalidInput as exc:
        _raise_invalid(exc, ("activities",), single=False)
    return {"added": added, "ignored": ignored}


@api.put(
    "/leads/{lead_key:external_id}",
    response={200: schemas.LeadOut, 201: schemas.LeadOut, **WRITE_ERRORS},
    operation_id="lead_upsert",
    summary="Create or update one lead",
    tags=["leads"],
)
def lead_upsert(
    request: HttpRequest, external_id: ExternalIdPath, payload: schemas.LeadIn
) -> Status[dict[str, Any]]:
    """Creates the lead (201) or updates it (200). Only the fields you send change;
    `null` clears a field; `custom` is merged key by key. Returns the stored lead."""
    key = _key(request)
    item = {"external_id": external_id, **payload.model_dump(mode="json", exclude_unset=True)}
    try:
        [created] = services.leads_upsert(workshop=key.workshop, leads=[item])
    except services.InvalidInput as exc:
        _raise_invalid(exc, (), single=True)
    lead = get_lead_for_api_key(key, external_id)
    return Status(201 if created else 200, selectors.lead_document(lead))


@api.post(
    "/leads",
    response={200: schemas.BatchResult, **WRITE_ERRORS},
    operation_id="leads_upsert_batch",
    summary="Create or update up to 1,000 leads",
    tags=["leads"],
)
def leads_upsert_batch(request: HttpRequest, payload: schemas.LeadBatchIn) -> dict[str, Any]:
    """The same as PUT for each lead, in one transaction: all are written or, if any
    value is invalid (or an external id appears twice), none is."""
    key = _key(request)
    items = [lead.model_dump(mode="json", exclude_unset=True) for lead in payload.leads]
    try:
        created = services.leads_upsert(workshop=key.workshop, leads=items)
    except services.InvalidInput as exc:
        _raise_invalid(exc, ("leads",), single=False)
    results = [
        {"external_id": item["external_id"], "status": "created" if new else "updated"}
        for item, new in zip(items, created, strict=True)
    ]
    return {
        "created": sum(created),
        "updated": len(created) - sum(created),
        "results": results,
    }


@api.post(
    "/verdicts",
    response={200: schemas.VerdictBatchResult, **WRITE_ERRORS},
    operation_id="verdicts_import",
    summary="Bring in up to 1,000 sales verdicts by external id",
    tags=["verdicts"],
)
def verdicts_import(request: HttpRequest, payload: schemas.VerdictBatchIn) -> dict[str, int]:
    """What sales decided in your CRM (a lead status or disposition) as imported sales
    verdicts, one per lead: `good`, `bad` with a reason, or `none` to take an imported
    verdict back. Sending the same verdicts again changes nothing; they count in the
    accuracy against verdicts (filter: imported). All or nothing: an unknown external
    id is a 422 at its path."""
    key = _key(request)
    items = [item.model_dump(mode="json") for item in payload.verdicts]
    try:
        changed = services.verdicts_import(
            workshop=key.workshop, source=payload.source, items=items
        )
    except services.InvalidInput as exc:
        _raise_invalid(exc, ("verdicts",), single=False)
    return {"changed": changed, "unchanged": len(items) - changed}


@api.get(
    "/leads/{lead_key:external_id}",
    response={200: schemas.LeadOut, 404: schemas.Message, **ERRORS},
    operation_id="lead_get",
    summary="Read one lead",
    tags=["leads"],
)
def lead_get(request: HttpRequest, external_id: ExternalIdPath) -> dict[str, Any]:
    """The lead's fields, custom fields, outcome and its latest 50 activities."""
    lead = get_lead_for_api_key(_key(request), external_id)
    return selectors.lead_document(lead)


@api.post(
    "/workshops/{slug}/classify",
    response={200: schemas.ClassifyOut, 404: schemas.Message, **WRITE_ERRORS},
    operation_id="lead_classify",
    summary="Classify one lead under the current (or a given) version",
    tags=["definitions"],
)
def lead_classify(request: HttpRequest, slug: str, payload: schemas.ClassifyIn) -> dict[str, Any]:
    """Judges a lead you send (nothing is stored) the way a backtest would, at this
    moment: qualified, junk, score, stage, and every matched criterion in plain
    language. 404 when the slug is not the key's workshop or it has no such version."""
    key = _key(request)
    version = get_version_for_api_key(key, slug, payload.version)
    item = payload.model_dump(mode="json", exclude_unset=True)
    try:
        result, definition, catalog = services.classify(
            workshop=key.workshop, item=item, version=version
        )
    except services.InvalidInput as exc:
        _raise_invalid(exc, (), single=True)
    answer = selectors.classification(result, definition, catalog, version)
    events.emit(
        events.LEAD_CLASSIFIED,
        workshop_id=key.workshop_id,
        data={
            "workshop": key.workshop.slug,
            "email": item.get("email"),
            "version": version.number,
            "qualified": answer["qualified"],
            "junk": answer["junk"],
            "stage": answer["stage"],
            "score": answer["score"],
        },
    )
    return answer


# Reads for integrations (versions, proposals, accuracy), kept in their own module.
api.add_router("", reads.router)


def urls() -> tuple[list[URLPattern | URLResolver], str, str]:
    """The API's URL patterns for include(). Programs have no session, so every API
    view is exempt from LoginRequiredMiddleware (ninja 1.7 does not mark them): the
    key is the check. The interactive docs page alone stays behind the login."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern) and pattern.name != "openapi-view":
            login_not_required(pattern.callback)
    return patterns, app_name, namespace
