"""Workshop, member and history pages. Each view: authorise, bind, call a service, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from definitions import roles, selectors, services
from definitions.audit import describe
from definitions.forms import MemberAddForm, MemberCreateForm, MemberUpdateForm, WorkshopForm
from definitions.http import AuthedRequest
from definitions.models import ProposalState, Workshop
from definitions.once import submit_once
from definitions.permissions import get_membership_for_user, get_workshop_for_user
from feedback.accuracy_selectors import current_accuracy
from feedback.selectors import worker_status


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError at the field it names, else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_not_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "definitions/landing.html")
    workshops = selectors.workshops_for_user(request.user)
    return render(request, "definitions/workshop_list.html", {"workshops": workshops})


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_http_methods(["GET", "POST"])
@submit_once
def workshop_create(request: AuthedRequest) -> HttpResponse:
    form = WorkshopForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workshop = services.workshop_create(actor=request.user, **form.cleaned_data)
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


@require_GET
def workshop_home(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    members = selectors.members_of(workshop)
    context = {
        "workshop": workshop,
        "membership": selectors.membership_of(request.user, workshop),
        "member_count": members.count(),
        "recent": [(e, describe(e)) for e in selectors.audit_entries(workshop)[:5]],
        "current": selectors.current_version(workshop),
        "draft_count": selectors.drafts_of(workshop).count(),
        "open_count": selectors.proposals_of(workshop, ProposalState.OPEN).count(),
        "accuracy": current_accuracy(workshop, _),
        "worker": worker_status(),
    }
    return render(request, "definitions/workshop_home.html", context)


def _members_page(
    request: AuthedRequest,
    workshop: Workshop,
    *,
    add_form: MemberAddForm | None = None,
    create_form: MemberCreateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    members = selectors.members_of(workshop)
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
        "add_form": add_form or MemberAddForm(prefix="add"),
        "create_form": create_form or MemberCreateForm(prefix="new"),
    }
    return render(request, "definitions/members.html", context, status=status)


@require_GET
def member_list(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug)
    return _members_page(request, workshop)


@require_POST
def member_add(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, perm=roles.MANAGE_MEMBERS)
    form = MemberAddForm(request.POST, prefix="add")
    if form.is_valid():
        try:
            services.member_add(
                actor=request.user,
                workshop=workshop,
                user=form.cleaned_data["user"],
                role=form.cleaned_data["role"],
                department=form.cleaned_data["department"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(user)s was added.") % {"user": form.cleaned_data["user"].get_username()},
            )
            return redirect("definitions:member_list", slug=slug)
    return _members_page(request, workshop, add_form=form, status=400)


@require_POST
@submit_once
def member_create(request: AuthedRequest, slug: str) -> HttpResponse:
    workshop = get_workshop_for_user(request.user, slug, perm=roles.MANAGE_MEMBERS)
    form = MemberCreateForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            services.member_create_account(
                actor=request.user, workshop=workshop, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Account %(user)s created and added.") % {"user": form.cleaned_data["username"]},
            )
            return redirect("definitions:member_list", slug=slug)
    return _members_page(request, workshop, create_form=form, status=400)


@require_POST
def member_update(request: AuthedRequest, slug: str, membership_id: int) -> HttpResponse:
    membership = get_membership_for_user(
        request.user, slug, membership_id, perm=roles.MANAGE_MEMBERS
    )
    form = MemberUpdateForm(request.POST, prefix=f"m{membership.pk}")
    error: str | None = None
    if form.is_valid():
        try:
            services.member_update(actor=request.user, membership=membership, **form.cleaned_data)
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
            services.member_remove(actor=request.user, membership=membership)
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
    page = Paginator(selectors.audit_entries(workshop), 50).get_page(request.GET.get("page"))
    entries = [(e, describe(e)) for e in page.object_list]
    return render(
        request,
        "definitions/history.html",
        {"workshop": workshop, "page": page, "entries": entries},
    )
