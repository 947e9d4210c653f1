"""Membership by consent: invitations, their answers, and leaving a workshop.

Nobody is put into a workshop by someone else. An admin invites an e-mail address;
the person holding the account with that address accepts (and only then becomes a
member, with the role and department the admin chose) or declines. The admin's answer
is the same whether an account with the address exists or not, so inviting is no way
to find out who uses the app.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from definitions.accounts.selectors import email_language
from definitions.core.audit import log_action
from definitions.core.jobs import enqueue
from definitions.core.ratelimits import rate_limit_take
from definitions.models import Invitation, InvitationState, Membership, Notification, Workshop
from definitions.notifications.services import notify
from definitions.roles import Department, Role
from definitions.workshops import invite_tokens
from definitions.workshops.access import invitation_is_for
from definitions.workshops.services import (
    _check_admin_remains,
    _grant_role,
    _revoke_all,
    member_create_account,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

# How long a link stays good. Long enough for a holiday week, short enough that a
# forgotten e-mail stops being a key.
INVITATION_LIFETIME = timedelta(days=7)


def normalise_email(email: str) -> str:
    """The address as invitations store and compare it; ValidationError if it is none."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid e-mail address.")}) from None
    return email


def accounts_for_email(email: str) -> QuerySet[User]:
    """The active accounts an invitation to `email` is for (e-mail is not unique)."""
    if not email:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(email__iexact=email, is_active=True)


def invitation_path(invitation: Invitation) -> str:
    return reverse("definitions:invitation_detail", args=[invitation.pk])


def _email_invitation(
    *, invitation: Invitation, actor: User, token: str, accounts: list[User]
) -> None:
    """Write the e-mail now (it alone has the link) and send it once the invitation
    is committed. Written in the language of the account the address belongs to, if
    it chose one, else in the admin's."""
    link = settings.SITE_URL.rstrip("/") + reverse("definitions:invitation_link", args=[token])
    with translation.override(email_language(accounts, sender=actor)):
        params = {
            "actor": actor.get_full_name() or actor.get_username(),
            "workshop": invitation.workshop.name,
            "role": Role(invitation.role).label,
            "expires": formats.date_format(
                timezone.localtime(invitation.expires_at), "DATETIME_FORMAT"
            ),
            "link": link,
        }
        subject = _("You are invited to join “%(workshop)s” on Lead Workshop") % params
        # The expiry in parentheses: a sentence ending on "5 p.m." would end "p.m..".
        body = (
            _(
                "%(actor)s invited you to join the workshop “%(workshop)s” as %(role)s.\n\n"
                "Accept or decline here (log in with the account that has this e-mail "
                "address):\n"
                "%(link)s\n\n"
                "The link works once (until %(expires)s). "
                "If you have no account yet, ask your administrator for one with this e-mail "
                "address; the invitation waits for it. If you did not expect this, ignore it: "
                "nothing happens unless you accept."
            )
            % params
        )
    recipient = invitation.email
    transaction.on_commit(lambda: _send(subject, body, recipient))


def _send(subject: str, body: str, recipient: str) -> None:
    try:
        enqueue("definitions.tasks.send_invitation_email", subject, body, recipient)
    except Exception:  # any broker error: kombu raises several kinds
        # The link exists only in this message; without a broker, send it from here
        # rather than lose it (the admin can always invite again for a fresh link).
        logger.warning("Could not queue an invitation e-mail; sending it directly.", exc_info=True)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], fail_silently=False)
        except OSError:
            logger.exception("Could not send an invitation e-mail.")


@transaction.atomic
def invitation_send(
    *, actor: User, workshop: Workshop, email: str, role: str, department: str
) -> Invitation | None:
    """Invite `email` to `workshop` as `role` in `department`: an in-app notification
    to the accounts with that address and an e-mail with a link that works once and
    expires. Inviting an address again replaces its pending invitation (fresh link,
    the new role). An address whose account is already a member gets nothing, and
    the caller answers exactly as if it had been invited.

    The one write behind the invite form and the account form: rate limits wrap this."""
    email = normalise_email(email)
    if role not in Role.values or department not in Department.values:
        raise ValidationError(_("Choose a valid role and department."))
    # Counted before anything about the address is looked at, so that the limit
    # answers alike for members, accounts and unknown addresses.
    rate_limit_take(user=actor, action="invitation")
    accounts = list(accounts_for_email(email))
    if Membership.objects.filter(workshop=workshop, user__in=accounts).exists():
        return None
    token = invite_tokens.new_token()
    now = timezone.now()
    # Lock the pending invitation of this address, if any, so two admins inviting at
    # once refresh one row instead of racing to insert two.
    pending = (
        Invitation.objects.select_for_update()
        .filter(workshop=workshop, email=email, state=InvitationState.PENDING)
        .first()
    )
    if pending is not None:
        Invitation.objects.filter(pk=pending.pk).update(
            role=role,
            department=department,
            token_digest=invite_tokens.digest(token),
            invited_by=actor,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        pending.refresh_from_db()
        invitation = pending
    else:
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    workshop=workshop,
                    email=email,
                    role=role,
                    department=department,
                    token_digest=invite_tokens.digest(token),
                    invited_by=actor,
                    expires_at=now + INVITATION_LIFETIME,
                )
        except IntegrityError:  # a concurrent invitation of the same address won
            raise ValidationError(
                _("This address was invited a moment ago. Reload the page."), code="race"
            ) from None
    invitation.workshop = workshop
    notify(
        workshop=workshop,
        recipients=accounts,
        verb="invitation.received",
        url=invitation_path(invitation),
        email=False,  # the invitation e-mail below is the e-mail
        actor=actor.get_full_name() or actor.get_username(),
        name=workshop.name,
    )
    _email_invitation(invitation=invitation, actor=actor, token=token, accounts=accounts)
    log_action(
        "definitions.invitation.sent",
        actor=actor,
        workshop=workshop,
        email=email,
        role=role,
        department=department,
    )
    return invitation


def _decide(*, actor: User, invitation: Invitation, state: str) -> Invitation:
    """Move a pending, unexpired invitation meant for `actor` to `state`, once: the
    UPDATE's condition is what makes a link single-use even under a double click."""
    if not invitation_is_for(invitation, actor):
        raise ValidationError(_("This invitation is for another account."), code="wrong_account")
    now = timezone.now()
    moved = Invitation.objects.filter(
        pk=invitation.pk, state=InvitationState.PENDING, expires_at__gt=now
    ).update(state=state, decided_at=now, decided_by=actor)
    if not moved:
        invitation.refresh_from_db()
        if invitation.state != InvitationState.PENDING:
            raise ValidationError(_("This invitation was already used."), code="used")
        raise ValidationError(
            _("This invitation has expired. Ask an admin of the workshop to invite you again."),
            code="expired",
        )
    invitation.state, invitation.decided_at, invitation.decided_by = state, now, actor
    # The inbox item has done its job; nothing about the invitation stays unread.
    Notification.objects.filter(
        recipient=actor, verb="invitation.received", url=invitation_path(invitation)
    ).update(read_at=now)
    return invitation


@transaction.atomic
def invitation_accept(*, actor: User, invitation: Invitation) -> Membership:
    """Make `actor` a member with the role and department the admin chose."""
    invitation = _decide(actor=actor, invitation=invitation, state=InvitationState.ACCEPTED)
    existing = Membership.objects.filter(workshop=invitation.workshop, user=actor).first()
    if existing is not None:  # joined by another invitation since: keep that role
        return existing
    membership = Membership.objects.create(
        workshop=invitation.workshop,
        user=actor,
        role=invitation.role,
        department=invitation.department,
    )
    _grant_role(membership)
    log_action(
        "definitions.invitation.accepted",
        actor=actor,
        workshop=invitation.workshop,
        member=actor.get_username(),
        role=invitation.role,
        department=invitation.department,
    )
    return membership


@transaction.atomic
def invitation_decline(*, actor: User, invitation: Invitation) -> Invitation:
    """Say no: no membership and no rights, the invitation is marked declined."""
    invitation = _decide(actor=actor, invitation=invitation, state=InvitationState.DECLINED)
    log_action(
        "definitions.invitation.declined",
        actor=actor,
        workshop=invitation.workshop,
        email=invitation.email,
    )
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation: its link stops working and the invitee's inbox
    item goes away."""
    moved = Invitation.objects.filter(pk=invitation.pk, state=InvitationState.PENDING).update(
        state=InvitationState.REVOKED, decided_at=timezone.now(), decided_by=actor
    )
    if not moved:
        raise ValidationError(_("This invitation was already answered or withdrawn."))
    invitation.state = InvitationState.REVOKED
    Notification.objects.filter(
        verb="invitation.received", url=invitation_path(invitation)
    ).delete()
    log_action(
        "definitions.invitation.revoked",
        actor=actor,
        workshop=invitation.workshop,
        email=invitation.email,
    )
    return invitation


@transaction.atomic
def member_leave(*, actor: User, membership: Membership) -> None:
    """`actor` leaves the workshop of their own `membership`. The last admin cannot:
    a workshop without an admin could never be managed again."""
    if membership.user_id != actor.pk:
        raise ValidationError(_("You can only leave a workshop yourself."))
    if membership.role == Role.ADMIN:
        try:
            _check_admin_remains(membership.workshop, membership)
        except ValidationError:
            raise ValidationError(
                _(
                    "You are the last admin of this workshop, so you cannot leave it. "
                    "Make someone else admin first."
                ),
                code="last_admin",
            ) from None
    _revoke_all(membership)
    workshop = membership.workshop
    membership.delete()
    log_action(
        "definitions.member.left", actor=actor, workshop=workshop, member=actor.get_username()
    )


@transaction.atomic
def account_create_or_invite(
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
) -> Membership | None:
    """The account form (staff only): a brand-new account joins at once — nobody is
    pulled in, the person did not exist here before. If the username or the e-mail
    already belongs to an account, nothing about that account changes: the address
    is invited instead, and the caller answers as for an invitation."""
    users = get_user_model().objects
    # Inactive accounts count too: a new account must not share their address.
    taken = (
        users.filter(username__iexact=username).exists()
        or users.filter(email__iexact=email.strip()).exists()
    )
    if taken:
        invitation_send(
            actor=actor, workshop=workshop, email=email, role=role, department=department
        )
        return None
    return member_create_account(
        actor=actor,
        workshop=workshop,
        username=username,
        email=normalise_email(email),
        password=password,
        role=role,
        department=department,
        first_name=first_name,
        last_name=last_name,
    )
