"""Writes to workshops and memberships: create a workshop (its creator is its first
admin), add, change or remove a member, create an account. Rights are granted and
revoked only here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from definitions import roles
from definitions.core.audit import log_action
from definitions.core.ratelimits import rate_limit_take
from definitions.models import (
    MAX_DECISION_DAYS,
    MAX_REVIEW_LEADS,
    MAX_SHADOW_DAYS,
    MIN_REVIEW_LEADS,
    HandoffStage,
    Membership,
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
    rate_limited: bool = True,
) -> Workshop:
    """Create a workshop; its creator becomes its first admin. The per-account limit
    guards the web page; an operator's command (create_workshop) passes
    rate_limited=False."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the workshop a name.")})
    slug = slugify(slug) if slug else _unique_slug(name)
    if Workshop.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("This short name is already taken.")})
    if rate_limited:
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
    *,
    username: str,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    staff: bool = False,
) -> User:
    """Create a login. The password must pass the configured validators."""
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This username is taken.")})
    user = user_model(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=staff,
    )
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


@transaction.atomic
def workshop_evaluation_update(
    *,
    actor: User,
    workshop: Workshop,
    handoff_stage: str,
    decision_days: int,
    shadow_days: int | None = None,
    review_min_leads: int | None = None,
) -> Workshop:
    """Set the stage from which a lead goes to sales, the decision window (how many
    days after its creation a historical lead is judged), how long a shadow run lasts
    (it applies to runs started from now on) and how many decided leads make a
    version's review; the last two are left as they are when None. A changed window
    makes every earlier backtest stale; a changed stage only changes what is measured."""
    if review_min_leads is None:
        review_min_leads = workshop.review_min_leads
    errors: dict[str, str] = {}
    if handoff_stage not in HandoffStage.values:
        errors["handoff_stage"] = _("Choose qualified, MQL or SQL.")
    if isinstance(decision_days, bool) or not 0 <= decision_days <= MAX_DECISION_DAYS:
        errors["decision_days"] = _("From 0 to %(max)s days.") % {"max": MAX_DECISION_DAYS}
    if shadow_days is not None and (
        isinstance(shadow_days, bool) or not 1 <= shadow_days <= MAX_SHADOW_DAYS
    ):
        errors["shadow_days"] = _("From 1 to %(max)s days.") % {"max": MAX_SHADOW_DAYS}
    if (
        isinstance(review_min_leads, bool)
        or not MIN_REVIEW_LEADS <= review_min_leads <= MAX_REVIEW_LEADS
    ):
        errors["review_min_leads"] = _("From %(min)s to %(max)s leads.") % {
            "min": MIN_REVIEW_LEADS,
            "max": MAX_REVIEW_LEADS,
        }
    if errors:
        raise ValidationError(errors)
    before = (
        Workshop.objects.select_for_update()
        .values("handoff_stage", "decision_days", "shadow_days", "review_min_leads")
        .get(pk=workshop.pk)
    )
    if shadow_days is None:
        shadow_days = before["shadow_days"]
    after = {
        "handoff_stage": handoff_stage,
        "decision_days": decision_days,
        "shadow_days": shadow_days,
        "review_min_leads": review_min_leads,
    }
    Workshop.objects.filter(pk=workshop.pk).update(**after)
    workshop.handoff_stage, workshop.decision_days = handoff_stage, decision_days
    workshop.shadow_days = shadow_days
    workshop.review_min_leads = review_min_leads
    if before != after:
        log_action(
            "definitions.workshop.evaluation_updated",
            actor=actor,
            workshop=workshop,
            handoff_stage=handoff_stage,
            decision_days=decision_days,
            shadow_days=shadow_days,
            review_min_leads=review_min_leads,
            previous_handoff_stage=before["handoff_stage"],
            previous_decision_days=before["decision_days"],
            previous_shadow_days=before["shadow_days"],
            previous_review_min_leads=before["review_min_leads"],
        )
    return workshop
