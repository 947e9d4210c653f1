"""Writes for the ingestion API: API keys, and leads and activities by external id.

Views never save; they call these. Each is atomic. Lead writes are all or nothing:
one bad value anywhere in a batch and nothing is written, and every problem comes
back with its path (InvalidInput).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from api import keys, values
from api.models import ApiKey
from definitions import rules
from definitions.catalog.selectors import catalog_for
from definitions.core.audit import log_action
from definitions.models import Version, Workshop
from feedback.backtests.selectors import custom_for_evaluator
from feedback.imports import dispositions
from feedback.leads.services import leads_changed, search_text
from feedback.leads.signals import leads_arrived
from feedback.models import Lead, LeadActivity, Reason, Verdict
from feedback.shadows import services as shadow_services
from feedback.verdicts.imported import imported_verdicts_write

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NAME_MAX = 100
# last_used_at is for people ("is this key still in use?"), so minute precision is
# plenty and a busy client does not write a row on every call.
TOUCH_EVERY = timedelta(minutes=1)

BUILTIN_SPECS: dict[str, rules.FieldSpec] = {spec.key: spec for spec in rules.BUILTIN_FIELDS}
TEXT_LIMITS: dict[str, int] = {
    f.name: f.max_length for f in Lead._meta.concrete_fields if isinstance(f.max_length, int)
}
# Every column an upsert writes; the rest (id, workshop, external_id, imported_at) stay.
LEAD_COLUMNS: tuple[str, ...] = ("name", "email", *BUILTIN_SPECS)
UPDATE_FIELDS: list[str] = [*LEAD_COLUMNS, "custom", "search_text", "updated_at"]


# ------------------------------------------------------------------ keys


@transaction.atomic
def api_key_create(*, actor: User, workshop: Workshop, name: str) -> tuple[ApiKey, str]:
    """A new key for `workshop` and its token, which exists only in the return value:
    the database keeps its prefix and SHA-256, so show it to the person now or never."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name, such as the system using it.")})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": _("At most %(n)s characters.") % {"n": NAME_MAX}})
    prefix = keys.new_prefix()
    while ApiKey.objects.filter(prefix=prefix).exists():  # 48 random bits: almost never
        prefix = keys.new_prefix()
    token = keys.new_token(prefix)
    key = ApiKey.objects.create(
        workshop=workshop, name=name, prefix=prefix, digest=keys.digest(token), created_by=actor
    )
    log_action("api.key.created", actor=actor, workshop=workshop, name=name, prefix=prefix)
    return key, token


@transaction.atomic
def api_key_revoke(*, actor: User, key: ApiKey) -> ApiKey:
    """Revoke at once: the next request with this key gets 401. Kept (not deleted) so
    the list still says who made it, who revoked it and when."""
    now = timezone.now()
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor
    )
    if not revoked:
        raise ValidationError(_("This key was already revoked."), code="revoked")
    key.revoked_at, key.revoked_by = now, actor
    log_action(
        "api.key.revoked", actor=actor, workshop=key.workshop, name=key.name, prefix=key.prefix
    )
    return key


def api_key_touch(*, key: ApiKey) -> None:
    """Record that `key` was used, at most once a minute."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_EVERY:
        return
    ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOUCH_EVERY), pk=key.pk
    ).update(last_used_at=now)
    key.last_used_at = now


# ------------------------------------------------------------------ leads


@dataclass(frozen=True)
class Problem:
    """One value that cannot be written. `loc` is relative to the list of items the
    service was given: (index, field, …)."""

    loc: tuple[str | int, ...]
    msg: str
    type: str


class InvalidInput(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems


@dataclass(frozen=True)
class _Prepared:
    external_id: str
    columns: dict[str, Any]
    custom: dict[str, Any]  # None removes the key


def _prepare(
    index: int, item: Mapping[str, Any], catalog: rules.Catalog, problems: list[Problem]
) -> _Prepared:
    columns: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for key, raw in item.items():
        if key == "external_id":
            continue
        if key == "custom":
            _prepare_custom(index, raw, catalog, custom, problems)
            continue
        try:
            if key in ("name", "email"):
                # Not nullable columns: null clears them to "".
                columns[key] = "" if raw is None else values.check_text(raw, TEXT_LIMITS[key])
            elif key in BUILTIN_SPECS:
                columns[key] = (
                    None
                    if raw is None
                    else values.field_value(
                        BUILTIN_SPECS[key], raw, text_limit=TEXT_LIMITS.get(key, 0)
                    )
                )
            else:
                problems.append(Problem((index, key), _("Unknown field."), "extra_forbidden"))
        except values.ValueProblem as problem:
            problems.append(Problem((index, key), problem.message, problem.code))
    return _Prepared(str(item.get("external_id", "")), columns, custom)


def _prepare_custom(
    index: int,
    raw: object,
    catalog: rules.Catalog,
    custom: dict[str, Any],
    problems: list[Problem],
) -> None:
    if not isinstance(raw, Mapping):
        problems.append(
            Problem((index, "custom"), _("Send custom fields as an object."), "dict_type")
        )
        return
    for key, value in raw.items():
        spec = catalog.fields.get(key)
        if spec is not None and spec.builtin:
            problems.append(
                Problem(
                    (index, "custom", key),
                    _("“%(key)s” is a built-in field: send it next to “custom”, not in it.")
                    % {"key": key},
                    "builtin_in_custom",
                )
            )
        elif spec is None:
            problems.append(
                Problem(
                    (index, "custom", key),
                    _("This workshop has no custom field “%(key)s”.") % {"key": key},
                    "unknown_field",
                )
            )
        elif value is None:
            custom[key] = None
        else:
            try:
                custom[key] = values.field_value(spec, value, text_limit=values.CUSTOM_TEXT_LIMIT)
            except values.ValueProblem as problem:
                problems.append(Problem((index, "custom", key), problem.message, problem.code))


def _check_external_id(index: int, raw: object, problems: list[Problem]) -> None:
    if (
        not isinstance(raw, str)
        or not 1 <= len(raw) <= TEXT_LIMITS["external_id"]
        or any(ord(c) < 32 or ord(c) == 127 for c in raw)
    ):
        problems.append(
            Problem(
                (index, "external_id"),
                _("An external id is 1 to 200 characters without control characters."),
                "external_id",
            )
        )


@transaction.atomic
def leads_upsert(*, workshop: Workshop, leads: Sequence[Mapping[str, Any]]) -> list[bool]:
    """Create or update leads by external id; for each, in order, True if it was
    created. Each item is a lead's external id plus the fields to write: fields left
    out keep their stored value, None clears one, and `custom` is merged key by key
    (None removes a key). Built-in values are JSON-typed as the API receives them.

    Set-based: one query reads the existing leads (locked), one statement writes all.
    """
    catalog = catalog_for(workshop, translated=False)
    problems: list[Problem] = []
    prepared: list[_Prepared] = []
    first_seen: dict[str, int] = {}
    for index, item in enumerate(leads):
        _check_external_id(index, item.get("external_id"), problems)
        entry = _prepare(index, item, catalog, problems)
        if entry.external_id in first_seen:
            problems.append(
                Problem(
                    (index, "external_id"),
                    _("Lead %(n)s of this batch has the same external id; send each lead once.")
                    % {"n": first_seen[entry.external_id]},
                    "duplicate",
                )
            )
        first_seen.setdefault(entry.external_id, index)
        prepared.append(entry)
    if problems:
        raise InvalidInput(problems)

    # Two requests creating the same new lead at once would each think it new and
    # the later would blank what the earlier wrote: take the workshop's API write
    # lock first (a no-op on SQLite, whose IMMEDIATE transactions already queue).
    # NO KEY UPDATE still lets other transactions insert rows that refer to it.
    list(Workshop.objects.select_for_update(no_key=True).filter(pk=workshop.pk).values("pk"))
    existing = {
        lead.external_id: lead
        for lead in Lead.objects.select_for_update().filter(
            workshop=workshop, external_id__in=list(first_seen)
        )
    }
    now = timezone.now()
    rows: list[Lead] = []
    for entry in prepared:
        old = existing.get(entry.external_id)
        current: dict[str, Any] = {
            column: (getattr(old, column) if old is not None else None) for column in LEAD_COLUMNS
        }
        current["name"] = current["name"] or ""
        current["email"] = current["email"] or ""
        current.update(entry.columns)
        custom = dict(old.custom or {}) if old is not None else {}
        for key, value in entry.custom.items():
            if value is None:
                custom.pop(key, None)
            else:
                custom[key] = value
        rows.append(
            Lead(
                workshop=workshop,
                external_id=entry.external_id,
                custom=custom,
                search_text=search_text(
                    current["name"], current["email"], current["company"], entry.external_id, custom
                ),
                updated_at=now,
                **current,
            )
        )
    # INSERT … ON CONFLICT DO UPDATE on both SQLite and PostgreSQL: each row carries
    # its full merged state, so the statement is right for new and known leads alike.
    Lead.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["workshop", "external_id"],
        update_fields=UPDATE_FIELDS,
    )
    leads_changed(workshop_id=workshop.pk)
    leads_arrived.send(
        sender=Lead,
        workshop_id=workshop.pk,
        leads=Lead.objects.filter(workshop=workshop, external_id__in=list(first_seen)),
    )
    return [entry.external_id not in existing for entry in prepared]


@transaction.atomic
def lead_activities_add(*, lead: Lead, activities: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """Add activities ({"kind", "at"}) to `lead`: (added, ignored). The same kind at
    the same instant is one activity (the table's unique constraint), so sending a
    list again adds nothing."""
    catalog = catalog_for(lead.workshop, translated=False)
    problems: list[Problem] = []
    wanted: dict[tuple[str, Any], None] = {}
    for index, activity in enumerate(activities):
        kind = activity.get("kind")
        if not isinstance(kind, str) or kind not in catalog.activity_kinds:
            problems.append(
                Problem(
                    (index, "kind"),
                    _("This workshop has no activity kind “%(kind)s”.") % {"kind": kind},
                    "unknown_kind",
                )
            )
        try:
            at = values.parse_moment(activity.get("at"))
        except values.ValueProblem as problem:
            problems.append(Problem((index, "at"), problem.message, problem.code))
            continue
        if isinstance(kind, str):
            wanted[(kind, at)] = None
    if problems:
        raise InvalidInput(problems)
    stored = set(
        LeadActivity.objects.filter(lead=lead, at__in={at for _kind, at in wanted}).values_list(
            "kind", "at"
        )
    )
    new = [pair for pair in wanted if pair not in stored]
    # ignore_conflicts: a concurrent request adding the same activity is not an error.
    LeadActivity.objects.bulk_create(
        [LeadActivity(lead=lead, kind=kind, at=at) for kind, at in new], ignore_conflicts=True
    )
    if new:
        leads_changed(workshop_id=lead.workshop_id)
        leads_arrived.send(
            sender=Lead, workshop_id=lead.workshop_id, leads=Lead.objects.filter(pk=lead.pk)
        )
    return len(new), len(activities) - len(new)


def classify(
    *, workshop: Workshop, item: Mapping[str, Any], version: Version
) -> tuple[rules.Result, rules.Definition, rules.Catalog]:
    """Judge one lead that is not stored, with the reference evaluator: its values
    are checked and typed exactly as a write would (422 paths and all), nothing is
    written. The evaluation moment is now. The catalog comes back in the request's
    language, for the plain-language reasons."""
    catalog = catalog_for(workshop)
    problems: list[Problem] = []
    fields = {k: v for k, v in item.items() if k not in ("activities", "version")}
    prepared = _prepare(0, {"external_id": "-", **fields}, catalog, problems)
    activities: list[rules.Activity] = []
    for index, activity in enumerate(item.get("activities") or []):
        kind = activity.get("kind")
        if kind not in catalog.activity_kinds:
            problems.append(
                Problem((0, "activities", index, "kind"), _("Unknown activity kind."), "enum")
            )
            continue
        try:
            activities.append(rules.Activity(kind=kind, at=values.parse_moment(activity.get("at"))))
        except values.ValueProblem as problem:
            problems.append(Problem((0, "activities", index, "at"), problem.message, problem.code))
    definition = rules.parse(version.document, catalog).definition
    if definition is None:
        problems.append(
            Problem(
                (0, "version"),
                _("This version no longer fits the workshop's field catalog."),
                "value_error",
            )
        )
    if problems:
        raise InvalidInput(problems)
    assert definition is not None
    lead_fields: dict[str, object] = dict(prepared.columns)
    for key, raw in prepared.custom.items():
        spec = catalog.fields[key]
        lead_fields[key] = custom_for_evaluator(spec, raw)
    # One event of a kind per instant, as the lead table stores them.
    unique = {(a.kind, a.at): a for a in activities}
    lead = rules.LeadData(fields=lead_fields, activities=tuple(unique.values()))
    as_of = timezone.now()
    result = rules.evaluate(definition, lead, as_of=as_of)
    # Running shadows judge it too, at the same moment; the answer stays the version's.
    # Left out, "version" means the current one: the published verdict to compare.
    shadow_services.shadows_probe(
        workshop=workshop,
        lead=lead,
        as_of=as_of,
        published=result if item.get("version") is None else None,
        catalog=catalog,
    )
    return result, definition, catalog


@transaction.atomic
def verdicts_import(*, workshop: Workshop, source: str, items: list[dict[str, Any]]) -> int:
    """Sales verdicts from a CRM by external id, all or nothing: the same merge as an
    import's disposition column (feedback.verdicts.imported), recorded as imported from
    the API and `source`. Returns how many leads' imported verdict changed."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item["external_id"] in seen:
            problems.append(
                Problem(
                    (i, "external_id"), _("This external id is already in the list."), "duplicate"
                )
            )
        seen.setdefault(item["external_id"], i)
        reason = item.get("reason")
        if reason is not None and item["verdict"] != "bad":
            problems.append(
                Problem((i, "reason"), _("Only a bad verdict takes a reason."), "reason")
            )
        elif reason is not None and reason not in Reason.values:
            problems.append(Problem((i, "reason"), _("Not one of the reasons."), "enum"))
    leads = dict(
        Lead.objects.filter(workshop=workshop, external_id__in=list(seen)).values_list(
            "external_id", "pk"
        )
    )
    for external_id, i in seen.items():
        if external_id not in leads:
            problems.append(
                Problem((i, "external_id"), _("No lead with this external id."), "not_found")
            )
    if problems:
        raise InvalidInput(sorted(problems, key=lambda p: (int(p.loc[0]), str(p.loc[1]))))
    system = dispositions.system_rep().pk
    reps: dict[str, int] = {}
    for name in {item.get("rep") or "" for item in items} - {""}:
        rep = dispositions.rep_for(workshop, name)
        if rep is not None:
            reps[name] = rep
    rows: list[tuple[int, int, str | None, str, str]] = []
    for item in items:
        verdict = {"good": Verdict.GOOD, "bad": Verdict.NOT_A_LEAD}.get(item["verdict"])
        reason = (item.get("reason") or Reason.OTHER) if verdict == Verdict.NOT_A_LEAD else ""
        rep = reps.get(item.get("rep") or "", system)
        rows.append((leads[item["external_id"]], rep, verdict, reason, item.get("value") or ""))
    return imported_verdicts_write(workshop=workshop, rows=rows, file="API", column=source)
