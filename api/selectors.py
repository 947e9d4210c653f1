"""Reads for the API pages and the API itself."""

from __future__ import annotations

import json
import math
from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext, ngettext

from api.models import ApiKey
from definitions import rules
from definitions.models import Version, Workshop
from feedback.models import Lead, LeadActivity

RECENT_ACTIVITIES = 50


def api_keys_of(workshop: Workshop) -> QuerySet[ApiKey]:
    """Every key of the workshop, active first, newest first."""
    return (
        ApiKey.objects.filter(workshop=workshop)
        .select_related("created_by", "revoked_by")
        .order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-id")
    )


def _scalar(value: Any) -> Any:
    """A stored value as the API's response schema promises it: text, a finite
    number, true/false or null. Anything else (never written by the API or the
    importer) is returned as its JSON text rather than breaking the response."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    return json.dumps(value, default=str)


def lead_document(lead: Lead) -> dict[str, Any]:
    """A lead as GET /api/v1/leads/{external_id} returns it: the fields in the shape
    they are written, plus its latest activities."""
    document: dict[str, Any] = {
        "external_id": lead.external_id,
        "name": lead.name,
        "email": lead.email,
    }
    for spec in rules.BUILTIN_FIELDS:
        value = getattr(lead, spec.key)
        document[spec.key] = _scalar(value) if spec.type == rules.FieldType.NUMBER else value
    custom = lead.custom if isinstance(lead.custom, dict) else {}
    document["custom"] = {str(k): _scalar(v) for k, v in custom.items()}
    activities = LeadActivity.objects.filter(lead=lead).order_by("-at", "-id")
    document["activity_count"] = activities.count()
    document["activities"] = [
        {"kind": kind, "at": at}
        for kind, at in activities.values_list("kind", "at")[:RECENT_ACTIVITIES]
    ]
    document["imported_at"] = lead.imported_at
    document["updated_at"] = lead.updated_at
    return document


def classification(
    result: rules.Result, definition: rules.Definition, catalog: rules.Catalog, version: Version
) -> dict[str, Any]:
    """The classify answer: the verdict and each matched criterion, in document order,
    in the request's language."""
    matched = [
        {
            "id": located.node.id,
            "section": str(located.section),
            "text": rules.render_criterion(located.node, catalog, gettext, ngettext),
        }
        for located in rules.walk(definition)
        if not isinstance(located.node, rules.Group) and located.node.id in result.matched
    ]
    return {
        "version": version.number,
        "qualified": result.qualified,
        "junk": result.junk,
        "score": result.score,
        "stage": str(result.stage),
        "matched": matched,
    }
