"""Writes to workshops and memberships. Views, tasks and commands call these; they
never save domain objects themselves. Every service is atomic and audited."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from definitions import roles, rules
from definitions.catalog import catalog_for
from definitions.core.audit import log_action
from definitions.core.ratelimits import rate_limit_take
from definitions.models import (
    ActivityKind,
    CustomField,
    Membership,
    Proposal,
    ProposalState,
    Version,
    Workshop,
)
from definitions.roles import Department, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _unique_slug(base: str) -> str:
    root = (slugify(base) or "workshop")[:50]
    slug, n = root, 1
    while Workshop.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{root}-{n}"
    return slug


def _grant_role(membership: Membership) -> None:
    """Make the user's guardian permissions on the workshop exactly their role's."""
    wanted = roles.ROLE_PERMISSIONS[membership.role]
    for codename in roles.ALL_PERMISSIONS:
        if codename in wanted:
            assign_perm(f"definitions.{codename}", membership.user, membership.workshop)
        else:
            remove_perm(f"definitions.{codename}", membership.user, membership.workshop)


def _revoke_all(membership: Membership) -> None:
    for codename in roles.ALL_PERMISSIONS:
        remove_perm(f"definitions.{codename}", membership.user, membership.workshop)


def _check_admin_remains(workshop: Workshop, leaving: Membership) -> None:
    # Lock the workshop's admin rows so two concurrent demotions cannot both pass.
    admins = list(
        Membership.objects.select_for_update()
        .filter(workshop=workshop, role=Role.ADMIN)
        .values_list("pk", flat=True)
    )
    if admins == [leaving.pk]:
        raise ValidationError(
            _("A workshop needs at least one admin. Make someone else admin first."),
            code="last_admin",
        )


@transaction.atomic
def workshop_create(
    *,
    actor: User,
    name: str,
    slug: str = "",
    description: str = "",
    department: str = Department.OTHER,
) -> Workshop:
    """Create a workshop; its creator becomes its first admin."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the workshop a name.")})
    slug = slugify(slug) if slug else _unique_slug(name)
    if Workshop.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This short name is already taken.")})
    rate_limit_take(user=actor, action="workshop")
    workshop = Workshop.objects.create(
        name=name, slug=slug, description=description.strip(), created_by=actor
    )
    membership = Membership.objects.create(
        workshop=workshop, user=actor, role=Role.ADMIN, department=department
    )
    _grant_role(membership)
    log_action("definitions.workshop.created", actor=actor, workshop=workshop, name=name)
    return workshop


@transaction.atomic
def member_add(
    *, actor: User, workshop: Workshop, user: User, role: str, department: str
) -> Membership:
    if Membership.objects.filter(workshop=workshop, user=user).exists():
        raise ValidationError(
            _("%(user)s is already a member of this workshop.") % {"user": user.get_username()},
            code="already_member",
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                workshop=workshop, user=user, role=role, department=department
            )
    except IntegrityError:  # a concurrent add of the same person won the race
        raise ValidationError(
            _("%(user)s is already a member of this workshop.") % {"user": user.get_username()},
            code="already_member",
        ) from None
    _grant_role(membership)
    log_action(
        "definitions.member.added",
        actor=actor,
        workshop=workshop,
        member=user.get_username(),
        role=role,
        department=department,
    )
    return membership


@transaction.atomic
def user_create(
    *, username: str, email: str, password: str, first_name: str = "", last_name: str = ""
) -> User:
    """Create a login. The password must pass the configured validators."""
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    user = user_model(username=username, email=email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def member_create_account(
    *,
    actor: User,
    workshop: Workshop,
    username: str,
    email: str,
    password: str,
    role: str,
    department: str,
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Create a login for someone new and add them to the workshop in one step."""
    user = user_create(
        username=username,
        email=email,
        password=password,
        first_name=first_name,
        last_name=last_name,
    )
    membership = Membership.objects.create(
        workshop=workshop, user=user, role=role, department=department
    )
    _grant_role(membership)
    log_action(
        "definitions.member.account_created",
        actor=actor,
        workshop=workshop,
        member=username,
        role=role,
        department=department,
    )
    return membership


@transaction.atomic
def member_update(*, actor: User, membership: Membership, role: str, department: str) -> Membership:
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        _check_admin_remains(membership.workshop, membership)
    changed = membership.role != role or membership.department != department
    if not changed:
        return membership
    Membership.objects.filter(pk=membership.pk).update(role=role, department=department)
    membership.role, membership.department = role, department
    _grant_role(membership)
    log_action(
        "definitions.member.changed",
        actor=actor,
        workshop=membership.workshop,
        member=membership.user.get_username(),
        role=role,
        department=department,
    )
    return membership


@transaction.atomic
def member_remove(*, actor: User, membership: Membership) -> None:
    if membership.role == Role.ADMIN:
        _check_admin_remains(membership.workshop, membership)
    _revoke_all(membership)
    username = membership.user.get_username()
    workshop = membership.workshop
    membership.delete()
    log_action("definitions.member.removed", actor=actor, workshop=workshop, member=username)


# ------------------------------------------------------------------ definitions


class DefinitionInvalid(Exception):
    """A document failed validation; `errors` are the rules' errors with their paths."""

    def __init__(self, errors: tuple[rules.ValidationError, ...]) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors


class DocumentRefused(DefinitionInvalid):
    """The JSON text broke a document limit (size, nesting, a number's length or range)
    before it could be read as a definition; `errors` name the JSON path of each."""


class StaleRevision(Exception):
    """Someone saved the draft since this editor loaded it."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the draft is at revision {current}")
        self.current = current


# The largest JSON document accepted from an upload or the command line. A 200-criterion
# definition with long texts is well under 300 kB; anything bigger is not a definition.
MAX_DOCUMENT_BYTES = 1_000_000

# What a brand-new draft starts from when there is no published version to derive from:
# the smallest valid definition, one placeholder criterion to edit.
BLANK_DOCUMENT: dict[str, object] = {
    "schema_version": rules.SCHEMA_VERSION,
    "rationale": "",
    "qualify": {
        "id": "g-root",
        "any": [
            {
                "id": "c-source",
                "category": "format",
                "field": "source",
                "op": "is_set",
                "value": None,
                "points": None,
            }
        ],
    },
    "disqualify": [],
    "scoring": [],
    "stages": {"mql": 0, "sql": 0, "sales_ready": []},
}


def validated_document(workshop: Workshop, document: object) -> dict[str, object]:
    """The canonical JSON of a valid definition, or DefinitionInvalid."""
    result = rules.parse(document, catalog_for(workshop, translated=False))
    if result.definition is None:
        raise DefinitionInvalid(result.errors)
    return rules.to_json(result.definition)  # type: ignore[return-value]


def load_json_document(raw: bytes | str) -> object:
    """Decode uploaded JSON, turning every way it can be broken into a clear error:
    ValidationError for bytes that are not JSON text, DocumentRefused for JSON beyond
    the document limits of definitions.rules."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_DOCUMENT_BYTES:
        raise ValidationError(
            _("The file is %(size)s bytes; a definition may be at most %(max)s bytes.")
            % {"size": size, "max": MAX_DOCUMENT_BYTES},
            code="too_large",
        )
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ValidationError(_("The file is not UTF-8 text."), code="encoding") from None
    try:
        loaded = rules.load(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            _("The file is not valid JSON: %(error)s (line %(line)s, column %(column)s).")
            % {"error": exc.msg, "line": exc.lineno, "column": exc.colno},
            code="json",
        ) from None
    if loaded.errors:
        raise DocumentRefused(loaded.errors)
    return loaded.data


def _uses(document: object, key: str, value: str) -> bool:
    """Whether any object in the JSON document has `key` == `value` (iteratively, so a
    hostile document cannot exhaust the stack)."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get(key) == value:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _documents_of(workshop: Workshop) -> list[object]:
    return [
        *Version.objects.filter(workshop=workshop).values_list("document", flat=True),
        *Proposal.objects.filter(workshop=workshop).values_list("document", flat=True),
    ]


@transaction.atomic
def custom_field_add(
    *,
    actor: User,
    workshop: Workshop,
    key: str,
    label: str,
    type: str,
    category: str,
    choices: list[str] | None = None,
) -> CustomField:
    key = key.strip()
    errors: dict[str, str] = {}
    if key in rules.DEFAULT_CATALOG.fields:
        errors["key"] = _("“%(key)s” is a built-in field.") % {"key": key}
    elif CustomField.objects.filter(workshop=workshop, key=key).exists():
        errors["key"] = _("This workshop already has a field “%(key)s”.") % {"key": key}
    if type not in {t.value for t in rules.FieldType}:
        errors["type"] = _("Unknown field type.")
    if category not in {c.value for c in rules.Category}:
        errors["category"] = _("Unknown category.")
    clean_choices = list(dict.fromkeys(c.strip() for c in (choices or []) if c.strip()))
    if type == rules.FieldType.CHOICE and not clean_choices:
        errors["choices"] = _("A choice field needs at least one allowed value.")
    if len(clean_choices) > 200:
        errors["choices"] = _("At most 200 allowed values.")
    if any(len(c) > 200 for c in clean_choices):
        errors["choices"] = _("Each allowed value may be at most 200 characters.")
    if errors:
        raise ValidationError(errors)
    field = CustomField.objects.create(
        workshop=workshop,
        key=key,
        label=label.strip(),
        type=type,
        category=category,
        choices=clean_choices if type == rules.FieldType.CHOICE else [],
    )
    log_action(
        "definitions.field.added", actor=actor, workshop=workshop, key=key, label=field.label
    )
    return field


@transaction.atomic
def activity_kind_add(*, actor: User, workshop: Workshop, key: str, label: str) -> ActivityKind:
    key = key.strip()
    if key in rules.DEFAULT_CATALOG.activity_kinds:
        raise ValidationError({"key": _("“%(key)s” is a built-in activity kind.") % {"key": key}})
    if ActivityKind.objects.filter(workshop=workshop, key=key).exists():
        raise ValidationError(
            {"key": _("This workshop already has an activity kind “%(key)s”.") % {"key": key}}
        )
    kind = ActivityKind.objects.create(workshop=workshop, key=key, label=label.strip())
    log_action("definitions.activity_kind.added", actor=actor, workshop=workshop, key=key)
    return kind


@transaction.atomic
def catalog_entry_delete(*, actor: User, entry: CustomField | ActivityKind) -> None:
    """Delete a custom field or activity kind that no version or draft uses: a
    definition must never name something the catalog no longer has."""
    is_field = isinstance(entry, CustomField)
    if any(
        _uses(doc, "field" if is_field else "activity", entry.key)
        for doc in _documents_of(entry.workshop)
    ):
        raise ValidationError(
            _("“%(label)s” is used by a version or a draft and cannot be deleted.")
            % {"label": entry.label},
            code="in_use",
        )
    action = "definitions.field.deleted" if is_field else "definitions.activity_kind.deleted"
    log_action(action, actor=actor, workshop=entry.workshop, key=entry.key)
    entry.delete()


@transaction.atomic
def proposal_create(
    *,
    actor: User,
    workshop: Workshop,
    title: str,
    document: object | None = None,
    parent: Version | None = None,
) -> Proposal:
    """A new draft. Without a document it starts from `parent` (the current version by
    default) or, in a workshop with no version yet, from a one-criterion skeleton."""
    if parent is None:
        parent = Version.objects.filter(workshop=workshop).order_by("-number").first()
    if document is None:
        document = parent.document if parent is not None else BLANK_DOCUMENT
    canonical = validated_document(workshop, document)
    title = title.strip() or _("Untitled draft")
    proposal = Proposal.objects.create(
        workshop=workshop,
        title=title[:200],
        document=canonical,
        parent=parent,
        author=actor,
        updated_by=actor,
    )
    log_action(
        "definitions.proposal.created",
        actor=actor,
        workshop=workshop,
        proposal=proposal.pk,
        title=proposal.title,
    )
    return proposal


@transaction.atomic
def proposal_save_document(
    *,
    actor: User,
    proposal: Proposal,
    document: object,
    expected_revision: int,
    title: str | None = None,
) -> Proposal:
    """Save the builder's document. Refused (StaleRevision) when someone else saved
    since `expected_revision`; the conditional UPDATE makes the check and the write
    one atomic step, so two simultaneous saves cannot both pass."""
    if proposal.state != ProposalState.DRAFT:
        raise ValidationError(
            _("Only a draft can be edited; this proposal is %(state)s.")
            % {"state": proposal.get_state_display()},
            code="not_draft",
        )
    canonical = validated_document(proposal.workshop, document)
    new_title = (title or proposal.title).strip()[:200] or proposal.title
    updated = Proposal.objects.filter(
        pk=proposal.pk, revision=expected_revision, state=ProposalState.DRAFT
    ).update(
        document=canonical,
        title=new_title,
        revision=F("revision") + 1,
        updated_by=actor,
        updated_at=timezone.now(),
    )
    if updated == 0:
        current = Proposal.objects.values_list("revision", flat=True).get(pk=proposal.pk)
        raise StaleRevision(current)
    proposal.refresh_from_db()
    log_action(
        "definitions.proposal.saved",
        actor=actor,
        workshop=proposal.workshop,
        proposal=proposal.pk,
        title=proposal.title,
        revision=proposal.revision,
    )
    return proposal


def proposal_import(*, actor: User, workshop: Workshop, raw: bytes | str, title: str) -> Proposal:
    """Create a draft from a JSON file: ValidationError for unreadable JSON,
    DefinitionInvalid with every error for an invalid definition; nothing is saved
    in either case."""
    document = load_json_document(raw)
    return proposal_create(actor=actor, workshop=workshop, title=title, document=document)


@transaction.atomic
def version_publish_document(
    *,
    actor: User,
    workshop: Workshop,
    document: object,
    parent: Version | None,
    note: str = "",
) -> Version:
    """Make `document` the workshop's next version and its current definition.

    The workshop row is locked so two publishers get consecutive numbers, never the same
    one (the unique constraint is the second line of defence)."""
    Workshop.objects.select_for_update().filter(pk=workshop.pk).first()
    canonical = validated_document(workshop, document)
    last = Version.objects.filter(workshop=workshop).aggregate(n=Max("number"))["n"] or 0
    version = Version.objects.create(
        workshop=workshop,
        number=last + 1,
        document=canonical,
        parent=parent,
        author=actor,
        published_by=actor,
        note=note[:300],
    )
    log_action(
        "definitions.version.published",
        actor=actor,
        workshop=workshop,
        version=version.number,
    )
    return version
