"""Workshop pages: create one, the members page (invite, change, remove, leave), the
invitee's side of an invitation, and the workshop's history."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from definitions import roles
from definitions.core.audit import describe
from definitions.core.forms import apply_errors
from definitions.core.http import AuthedRequest
from definitions.core.once import submit_once
from definitions.models import Invitation, InvitationState, Workshop
from definitions.workshops import invitations
from definitions.workshops import selectors as workshop_selectors
from definitions.workshops import services as workshop_services
from definitions.workshops.access import (
    get_invitation_for_token,
    get_invitation_for_user,
    get_membership_for_user,
    get_own_membership_for_user,
    get_workshop_for_user,
    get_workshop_invitation_for_user,
    invitation_is_for,
    require_staff,
)
from definitions.workshops.forms import InviteForm, MemberCreateForm, MemberUpdateForm, WorkshopForm


@require_http_methods(["GET", "POST"])
@submit_once
def workshop_create(request: AuthedRequest) -> HttpResponse:
    form = WorkshopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workshop = workshop_services.workshop_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Workshop created. You are its admin."))
            return redirect("definitions:workshop_home", slug=workshop.slug)
    return render(
        request,
        "definitions/workshop_create.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _members_page(
    request: AuthedRequest,
    workshop: Workshop,
    *,
    invite_form: InviteForm | None = None,
    create_form: MemberCreateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    members = workshop_selectors.members_of(workshop)
    manages = roles.MANAGE_MEMBERS in workshop.user_perms
    context = {
        "workshop": workshop,
        "members": [
            (
                m,
                MemberUpdateForm(
                    initial={"role": m.role, "department": m.department}, prefix=f"m{m.pk}"
                ),
            )
            for m in members
        ],
        "membership": workshop_selectors.membership_of(request.user, workshop),
        "invitations": list(workshop_selectors.pending_invitations_of(workshop)) if manages else [],
        "now": timezone.now(),
        "invite_form": invite_form or InviteForm(prefix="invite"),
        # Creating accounts is for staff only (see permissions.require_staff).
        "create_form": (create_form or MemberCreateForm(prefix="new"))
        if request.user.is_staff
        else None,
    }
    return render(request, "definitions/members.html", context, status=status)


@require_GET
def member_list(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    return _members_page(request, workshop)


def _invited_message(email: str) -> str:
    # The same words whether or not an account uses the address: an admin learns
    # nothing about who has an account here.
    return _(
        "If %(email)s can receive an invitation, we sent one. They become a member "
        "when they accept; until then it is listed under pending invitations."
    ) % {"email": email}


@require_POST
@submit_once
def member_invite(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, perm=roles.MANAGE_MEMBERS)
    form = InviteForm(request.POST, prefix="invite")
    if form.is_valid():
        try:
            invitations.invitation_send(actor=request.user, workshop=workshop, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _invited_message(form.cleaned_data["email"].lower()))
            return redirect("definitions:member_list", slug=slug)
    return _members_page(request, workshop, invite_form=form, status=400)


@require_POST
@submit_once
def member_create(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, perm=roles.MANAGE_MEMBERS)
    require_staff(request.user)
    form = MemberCreateForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            created = invitations.account_create_or_invite(
                actor=request.user, workshop=workshop, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if created is None:
                messages.success(request, _invited_message(form.cleaned_data["email"].lower()))
            else:
                messages.success(
                    request,
                    _("Account %(user)s created and added.")
                    % {"user": form.cleaned_data["username"]},
                )
            return redirect("definitions:member_list", slug=slug)
    return _members_page(request, workshop, create_form=form, status=400)


@require_POST
def invitation_revoke(request: AuthedRequest, slug: str, invitation_id: int) -> HttpResponse:
    invitation = get_workshop_invitation_for_user(request.user, slug, invitation_id)
    try:
        invitations.invitation_revoke(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The invitation of %(email)s was withdrawn.") % {"email": invitation.email}
        )
    return redirect("definitions:member_list", slug=slug)


@require_http_methods(["GET", "POST"])
def member_leave(request: AuthedRequest, slug: str) -> HttpResponse:
    membership = get_own_membership_for_user(request.user, slug)
    if request.method == "POST":
        try:
            invitations.member_leave(actor=request.user, membership=membership)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("definitions:member_list", slug=slug)
        messages.success(
            request, _("You left the workshop “%(name)s”.") % {"name": membership.workshop.name}
        )
        return redirect("home")
    return render(
        request,
        "definitions/member_leave.html",
        {"workshop": membership.workshop, "membership": membership},
    )


def _invitation_page(
    request: AuthedRequest, invitation: Invitation, *, wrong_account: bool = False
) -> HttpResponse:
    expired = invitation.expires_at <= timezone.now()
    answerable = not wrong_account and invitation.state == InvitationState.PENDING and not expired
    # 403: the link is real but not this account's; 410: it was used or has expired.
    status = 403 if wrong_account else 200 if answerable else 410
    return render(
        request,
        "definitions/invitation.html",
        {
            "invitation": invitation,
            "wrong_account": wrong_account,
            "expired": expired,
            "answerable": answerable,
        },
        status=status,
    )


@require_GET
def invitation_detail(request: AuthedRequest, invitation_id: int) -> HttpResponse:
    return _invitation_page(request, get_invitation_for_user(request.user, invitation_id))


@require_GET
def invitation_link(request: AuthedRequest, token: str) -> HttpResponse:
    """Where the e-mailed link leads. The token finds the invitation; the answer
    still needs the invited account logged in."""
    invitation = get_invitation_for_token(token)
    wrong = not invitation_is_for(invitation, request.user)
    return _invitation_page(request, invitation, wrong_account=wrong)


@require_POST
def invitation_accept(request: AuthedRequest, invitation_id: int) -> HttpResponse:
    invitation = get_invitation_for_user(request.user, invitation_id)
    try:
        invitations.invitation_accept(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("definitions:invitation_detail", invitation_id=invitation.pk)
    messages.success(
        request,
        _("Welcome to “%(name)s”. You joined as %(role)s.")
        % {"name": invitation.workshop.name, "role": invitation.get_role_display()},
    )
    return redirect("definitions:workshop_home", slug=invitation.workshop.slug)


@require_POST
def invitation_decline(request: AuthedRequest, invitation_id: int) -> HttpResponse:
    invitation = get_invitation_for_user(request.user, invitation_id)
    try:
        invitations.invitation_decline(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("definitions:invitation_detail", invitation_id=invitation.pk)
    messages.success(
        request,
        _("You declined the invitation to “%(name)s”.") % {"name": invitation.workshop.name},
    )
    return redirect("home")


@require_POST
def member_update(request: AuthedRequest, slug: str, membership_id: int) -> HttpResponse:
    membership = get_membership_for_user(
        request.user, slug, membership_id, perm=roles.MANAGE_MEMBERS
    )
    form = MemberUpdateForm(request.POST, prefix=f"m{membership.pk}")
    error: str | None = None
    if form.is_valid():
        try:
            workshop_services.member_update(
                actor=request.user, membership=membership, **form.cleaned_data
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = _("Choose a valid role and department.")
    if request.htmx:
        context = {
            "workshop": membership.workshop,
            "m": membership,
            "form": form
            if error
            else MemberUpdateForm(
                initial={"role": membership.role, "department": membership.department},
                prefix=f"m{membership.pk}",
            ),
            "row_error": error,
            "saved": error is None,
        }
        return render(
            request, "definitions/members.html#member-row", context, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Changes saved."))
    return redirect("definitions:member_list", slug=slug)


@require_http_methods(["GET", "POST"])
def member_remove(request: AuthedRequest, slug: str, membership_id: int) -> HttpResponse:
    membership = get_membership_for_user(
        request.user, slug, membership_id, perm=roles.MANAGE_MEMBERS
    )
    if request.method == "POST":
        try:
            workshop_services.member_remove(actor=request.user, membership=membership)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("%(user)s was removed.") % {"user": membership.user.get_username()}
            )
            if membership.user == request.user:
                return redirect("home")
        return redirect("definitions:member_list", slug=slug)
    return render(
        request,
        "definitions/member_remove.html",
        {"workshop": membership.workshop, "membership": membership},
    )


@require_GET
def workshop_history(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    page = Paginator(workshop_selectors.audit_entries(workshop), 50).get_page(
        request.GET.get("page")
    )
    entries = [(e, describe(e)) for e in page.object_list]
    return render(
        request,
        "definitions/history.html",
        {"workshop": workshop, "page": page, "entries": entries},
    )
