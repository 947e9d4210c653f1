"""The one place that decides who may see and do what in a workshop.

Every view asks here (directly, or through the thin lookups of the layers above it:
feedback/access.py for leads, runs and imports, api/access.py for API keys, which
call get_workshop_for_user and one_or_404 from here). Rules:
- someone who may not see a workshop gets 404 for all of its URLs, so its existence
  does not leak;
- a member who may see it but lacks the right for an action gets 403;
- the rights themselves are django-guardian object permissions on the workshop,
  granted and revoked only by services (definitions.workshops.services);
- a program calling /api/v1/ is not a user: its API key stands for one workshop,
  and anything outside that workshop is 404 to it, exactly as to an outsider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Manager, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from guardian.core import ObjectPermissionChecker
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from definitions import roles
from definitions.models import (
    ActivityKind,
    Amendment,
    Comment,
    CustomField,
    Invitation,
    Membership,
    Proposal,
    Version,
    Workshop,
)
from definitions.workshops import invite_tokens

if TYPE_CHECKING:
    from definitions.core.http import AnyUser


def _perms_sql(workshop_id: str) -> str:
    """The codenames a user holds on the workshop whose id is the SQL expression
    `workshop_id` (parameters: user, content type, twice), as one text separated by
    spaces: what guardian's checker reads in two queries (the user's own grants and
    their groups'), in one, so that it rides along with the query that loads the
    workshop. Every page asks this."""
    user_table = UserObjectPermission._meta.db_table
    group_table = GroupObjectPermission._meta.db_table
    joined = (
        "string_agg(codename, ' ')"
        if connection.vendor == "postgresql"
        else "group_concat(codename, ' ')"
    )
    same_object = f"o.content_type_id = %s AND o.object_pk = CAST({workshop_id} AS TEXT)"
    return (
        f"SELECT {joined} FROM ("  # noqa: S608  (table and column names, no input)
        f"SELECT p.codename FROM {user_table} o"
        " JOIN auth_permission p ON p.id = o.permission_id"
        f" WHERE o.user_id = %s AND {same_object}"
        " UNION"
        f" SELECT p.codename FROM {group_table} o"
        " JOIN auth_user_groups g ON g.group_id = o.group_id"
        " JOIN auth_permission p ON p.id = o.permission_id"
        f" WHERE g.user_id = %s AND {same_object}"
        ") perms"
    )


def _with_perms(workshops: QuerySet[Workshop], user: AnyUser) -> QuerySet[Workshop]:
    """`workshops`, each with `perm_codes`: the user's rights on it."""
    content_type = ContentType.objects.get_for_model(Workshop).pk  # cached per process
    column = f'"{Workshop._meta.db_table}"."id"'
    return workshops.annotate(
        perm_codes=RawSQL(  # noqa: S611  (the user's values are parameters)
            _perms_sql(column), [user.pk, content_type, user.pk, content_type]
        )
    )


def _as_perms(codes: str | None) -> frozenset[str]:
    return frozenset((codes or "").split())


def workshop_perms(user: AnyUser, workshop: Workshop) -> frozenset[str]:
    """All permission codenames `user` holds on `workshop`, in one query."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(ObjectPermissionChecker(user).get_perms(workshop))
    codes = (
        _with_perms(Workshop.objects.filter(pk=workshop.pk), user)
        .values_list("perm_codes", flat=True)  # type: ignore[misc]
        .first()
    )
    return _as_perms(codes)


def get_workshop_for_user(user: AnyUser, slug: str, perm: str | None = None) -> Workshop:
    """The workshop `slug` if `user` may see it (else 404) and holds `perm` (else 403).

    The returned instance carries `user_perms` so templates and later checks in the
    same request need no further queries.
    """
    found = Workshop.objects.filter(slug=slug)
    ordinary = user.is_authenticated and user.is_active and not user.is_superuser
    if ordinary:
        found = _with_perms(found, user)  # the rights in the same query as the workshop
    workshop = found.first()
    if workshop is None:
        raise Http404
    perms = (
        _as_perms(workshop.perm_codes)  # type: ignore[attr-defined]
        if ordinary
        else workshop_perms(user, workshop)
    )
    if roles.VIEW not in perms:
        raise Http404
    if perm is not None and perm not in perms:
        raise PermissionDenied
    workshop.user_perms = perms
    return workshop


def require(workshop: Workshop, perm: str) -> None:
    """403 unless the perms loaded by get_workshop_for_user include `perm`."""
    if perm not in workshop.user_perms:
        raise PermissionDenied


def one_or_404(qs: QuerySet[Any] | Manager[Any], **lookup: Any) -> Any:
    """The object the lookup names within an already authorised scope, else 404: an
    id from another workshop looks exactly like an id that does not exist."""
    found = qs.filter(**lookup).first()
    if found is None:
        raise Http404
    return found


def get_membership_for_user(
    user: AnyUser, slug: str, membership_id: int, perm: str | None = None
) -> Membership:
    """A membership of workshop `slug`; ids of other workshops' members are 404."""
    workshop = get_workshop_for_user(user, slug, perm)
    membership: Membership = one_or_404(
        Membership.objects.select_related("user"), pk=membership_id, workshop=workshop
    )
    membership.workshop = workshop
    return membership


def get_own_membership_for_user(user: AnyUser, slug: str) -> Membership:
    """The user's own membership of workshop `slug` (to leave it); 404 if they may not
    see the workshop or are not a member of it (a superuser who never joined)."""
    workshop = get_workshop_for_user(user, slug)
    membership: Membership = one_or_404(
        Membership.objects.select_related("user"), workshop=workshop, user_id=user.pk
    )
    membership.workshop = workshop
    return membership


def require_staff(user: AnyUser) -> None:
    """403 unless `user` is staff. Creating accounts is theirs: staff see every
    account in Django's admin anyway, so what the account form answers tells them
    nothing new, whereas any user can become a workshop admin."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        raise PermissionDenied


def get_workshop_invitation_for_user(user: AnyUser, slug: str, invitation_id: int) -> Invitation:
    """An invitation of workshop `slug`, for those who manage its members."""
    workshop = get_workshop_for_user(user, slug, roles.MANAGE_MEMBERS)
    invitation: Invitation = one_or_404(Invitation.objects, pk=invitation_id, workshop=workshop)
    invitation.workshop = workshop
    return invitation


def invitation_is_for(invitation: Invitation, user: AnyUser) -> bool:
    """Whether `user` is an account the invitation was sent to: an active account
    whose e-mail is the invited address."""
    email = (getattr(user, "email", "") or "").strip().lower()
    return bool(user.is_authenticated and user.is_active and email and email == invitation.email)


def get_invitation_for_user(user: AnyUser, invitation_id: int) -> Invitation:
    """The invitation `invitation_id` if `user` is its invitee, else 404: the invitee
    is not a member yet, so the invitation itself is the key, and to anyone else
    (its workshop's members and admins included) the URL does not exist."""
    invitation = (
        Invitation.objects.select_related("workshop", "invited_by").filter(pk=invitation_id).first()
    )
    if invitation is None or not invitation_is_for(invitation, user):
        raise Http404
    return invitation


def get_invitation_for_token(token: str) -> Invitation:
    """The invitation an e-mailed link names, whatever its state (the page says
    whether it is used, expired or for another account); 404 for any other text."""
    if not token or len(token) > invite_tokens.MAX_TOKEN_LENGTH:
        raise Http404
    invitation: Invitation = one_or_404(
        Invitation.objects.select_related("workshop", "invited_by"),
        token_digest=invite_tokens.digest(token),
    )
    return invitation


def visible_workshops(user: AnyUser) -> QuerySet[Workshop]:
    if not user.is_authenticated:
        return Workshop.objects.none()
    return get_objects_for_user(
        user, f"definitions.{roles.VIEW}", klass=Workshop, accept_global_perms=False
    )


def get_proposal_for_user(
    user: AnyUser, slug: str, proposal_id: int, perm: str | None = None
) -> Proposal:
    """A proposal of workshop `slug`; ids of other workshops' proposals are 404."""
    workshop = get_workshop_for_user(user, slug, perm)
    proposal: Proposal = one_or_404(Proposal.objects, pk=proposal_id, workshop=workshop)
    proposal.workshop = workshop
    return proposal


def get_version_for_user(user: AnyUser, slug: str, number: int) -> Version:
    workshop = get_workshop_for_user(user, slug)
    version: Version = one_or_404(Version.objects, workshop=workshop, number=number)
    version.workshop = workshop
    return version


def get_catalog_entry_for_user(
    user: AnyUser, slug: str, model: type[CustomField] | type[ActivityKind], entry_id: int
) -> CustomField | ActivityKind:
    workshop = get_workshop_for_user(user, slug, roles.CHANGE)
    entry: CustomField | ActivityKind = one_or_404(
        model.objects.all(), pk=entry_id, workshop=workshop
    )
    entry.workshop = workshop
    return entry


def get_comment_for_user(
    user: AnyUser, slug: str, proposal_id: int, comment_id: int, perm: str | None = None
) -> Comment:
    proposal = get_proposal_for_user(user, slug, proposal_id, perm)
    comment: Comment = one_or_404(Comment.objects, pk=comment_id, proposal=proposal)
    comment.proposal = proposal
    return comment


def get_amendment_for_user(
    user: AnyUser, slug: str, proposal_id: int, amendment_id: int, perm: str | None = None
) -> Amendment:
    proposal = get_proposal_for_user(user, slug, proposal_id, perm)
    amendment: Amendment = one_or_404(Amendment.objects, pk=amendment_id, proposal=proposal)
    amendment.proposal = proposal
    return amendment


def require_author_or_admin(user: AnyUser, workshop: Workshop, author_id: int | None) -> None:
    """403 unless `user` wrote the object or administers the workshop."""
    if author_id is not None and author_id == user.pk:
        return
    if roles.CHANGE not in workshop.user_perms:
        raise PermissionDenied


def get_own_proposal_for_user(
    user: AnyUser, slug: str, proposal_id: int, perm: str | None = None
) -> Proposal:
    """A proposal the user may steer: its author, or an admin."""
    proposal = get_proposal_for_user(user, slug, proposal_id, perm)
    require_author_or_admin(user, proposal.workshop, proposal.author_id)
    return proposal
