"""The permission table: every URL by every role. A new URL without a row here fails
`test_every_url_is_in_the_permission_table`, so no view ships without a check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from api import services as api_services
from definitions import roles, rules
from definitions.authoring import services as authoring_services
from definitions.catalog import services as catalog_services
from definitions.deliberation import services as deliberation_services
from definitions.models import Membership, Workshop
from definitions.versions import services as version_services
from definitions.workshops import invitations
from feedback.backtests import services as backtest_services
from feedback.imports.services import import_upload
from feedback.models import Lead
from feedback.shadows import services as shadow_services
from feedback.suggestions import runs as discovery_runs
from feedback.suggestions.types import Goal
from integrations import services as integration_services

# Views outside any workshop: who may see them without logging in.
PUBLIC = {"home", "healthz", "favicon", "login", "set_language"}
LOGIN_ONLY = {
    "logout",
    "password_change",
    "password_change_done",
    "definitions:workshop_create",
    "inbox",
    "inbox_read",
}
# Single sign-on's way to the provider and back: public, and 404 while no provider is
# configured (tests/sso/test_sign_in.py).
SSO = {"sso_start", "sso_callback"}
# The API for programs (/api/v1/) has no session: an API key is its check, and every
# operation in the namespace must refuse a request without one (see the API test
# below; tests/api covers keys, scoping and revocation). These are its exceptions.
API_NAMESPACE = "api-v1"
API_PUBLIC = {"api-v1:openapi-json", "api-v1:api-root"}
API_LOGIN_ONLY = {"api-v1:openapi-view"}
# The invitee's side of an invitation (see test_only_the_invited_account_reaches_…):
# outside any workshop, the invitation is the key.
INVITEE_ONLY = {
    "definitions:invitation_detail",
    "definitions:invitation_accept",
    "definitions:invitation_decline",
    "definitions:invitation_link",
}


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    perm: str  # the workshop permission codename the request needs
    needs_membership_id: bool = False
    # Further URL arguments, filled from the `objects` fixture (one of each kind).
    extra: tuple[str, ...] = ()
    # Only the author of the object (the admin, in the fixture) or an admin may act:
    # other members holding `perm` still get 403.
    owner_only: bool = False
    # Also needs a staff account (creating accounts): members who are not get 403.
    staff_only: bool = False


TABLE: tuple[Row, ...] = (
    Row("definitions:workshop_home", "get", roles.VIEW),
    Row("definitions:member_list", "get", roles.VIEW),
    Row("definitions:member_invite", "post", roles.MANAGE_MEMBERS),
    Row("definitions:member_create", "post", roles.MANAGE_MEMBERS, staff_only=True),
    Row("definitions:member_update", "post", roles.MANAGE_MEMBERS, needs_membership_id=True),
    Row("definitions:member_remove", "get", roles.MANAGE_MEMBERS, needs_membership_id=True),
    Row("definitions:member_remove", "post", roles.MANAGE_MEMBERS, needs_membership_id=True),
    Row("definitions:workshop_history", "get", roles.VIEW),
    Row("definitions:member_leave", "get", roles.VIEW),
    Row("definitions:member_leave", "post", roles.VIEW),
    Row("definitions:invitation_revoke", "post", roles.MANAGE_MEMBERS, extra=("invitation_id",)),
    Row("definitions:definition_home", "get", roles.VIEW),
    Row("definitions:draft_create", "post", roles.PROPOSE),
    Row("definitions:draft_import", "get", roles.PROPOSE),
    Row("definitions:draft_import", "post", roles.PROPOSE),
    Row("definitions:draft_builder", "get", roles.VIEW, extra=("proposal_id",)),
    Row("definitions:draft_builder", "post", roles.PROPOSE, extra=("proposal_id",)),
    Row("definitions:draft_export", "get", roles.VIEW, extra=("proposal_id", "fmt")),
    Row("definitions:draft_print", "get", roles.VIEW, extra=("proposal_id",)),
    Row("definitions:version_detail", "get", roles.VIEW, extra=("number",)),
    Row("definitions:version_export", "get", roles.VIEW, extra=("number", "fmt")),
    Row("definitions:version_print", "get", roles.VIEW, extra=("number",)),
    Row("definitions:catalog", "get", roles.VIEW),
    Row("definitions:catalog_field_add", "post", roles.CHANGE),
    Row("definitions:catalog_field_delete", "post", roles.CHANGE, extra=("field_id",)),
    Row("definitions:catalog_kind_add", "post", roles.CHANGE),
    Row("definitions:catalog_kind_delete", "post", roles.CHANGE, extra=("kind_id",)),
    Row("definitions:proposal_list", "get", roles.VIEW),
    Row("definitions:compare", "get", roles.VIEW),
    Row("definitions:proposal_detail", "get", roles.VIEW, extra=("proposal_id",)),
    Row("definitions:proposal_live", "get", roles.VIEW, extra=("proposal_id",)),
    Row("definitions:proposal_revisions", "get", roles.VIEW, extra=("proposal_id",)),
    Row("definitions:proposal_open", "post", roles.PROPOSE, extra=("draft_id",), owner_only=True),
    Row(
        "definitions:proposal_withdraw", "post", roles.PROPOSE, extra=("draft_id",), owner_only=True
    ),
    Row("definitions:proposal_close", "post", roles.CHANGE, extra=("proposal_id",)),
    Row("definitions:proposal_publish", "post", roles.PUBLISH, extra=("proposal_id",)),
    Row("definitions:vote_cast", "post", roles.VOTE, extra=("proposal_id",)),
    Row("definitions:comment_add", "post", roles.COMMENT, extra=("proposal_id",)),
    Row(
        "definitions:comment_edit",
        "get",
        roles.COMMENT,
        extra=("proposal_id", "comment_id"),
        owner_only=True,
    ),
    Row(
        "definitions:comment_edit",
        "post",
        roles.COMMENT,
        extra=("proposal_id", "comment_id"),
        owner_only=True,
    ),
    Row(
        "definitions:comment_delete",
        "post",
        roles.COMMENT,
        extra=("proposal_id", "comment_id"),
        owner_only=True,
    ),
    Row(
        "definitions:amendment_suggest", "get", roles.PROPOSE, extra=("proposal_id", "criterion_id")
    ),
    Row(
        "definitions:amendment_suggest",
        "post",
        roles.PROPOSE,
        extra=("proposal_id", "criterion_id"),
    ),
    Row(
        "definitions:amendment_accept",
        "post",
        roles.PROPOSE,
        extra=("proposal_id", "amendment_id"),
        owner_only=True,
    ),
    Row(
        "definitions:amendment_decline",
        "post",
        roles.PROPOSE,
        extra=("proposal_id", "amendment_id"),
        owner_only=True,
    ),
    Row("definitions:version_history", "get", roles.VIEW),
    Row("definitions:version_restore", "get", roles.PROPOSE, extra=("number",)),
    Row("definitions:version_restore", "post", roles.PROPOSE, extra=("number",)),
    # Only the author or an admin rebases (needs_membership_id, extra, owner_only):
    Row("definitions:proposal_rebase", "get", roles.PROPOSE, False, ("proposal_id",), True),
    Row("definitions:proposal_rebase", "post", roles.PROPOSE, False, ("proposal_id",), True),
    Row("definitions:policy_edit", "get", roles.VIEW),
    Row("definitions:policy_edit", "post", roles.CHANGE),
    Row("feedback:lead_list", "get", roles.VIEW),
    Row("feedback:lead_detail", "get", roles.VIEW, extra=("lead_id",)),
    Row("feedback:import_list", "get", roles.IMPORT_LEADS),
    Row("feedback:import_list", "post", roles.IMPORT_LEADS),
    Row("feedback:import_mapping", "get", roles.IMPORT_LEADS, extra=("job_id",)),
    Row("feedback:import_mapping", "post", roles.IMPORT_LEADS, extra=("job_id",)),
    Row("feedback:import_detail", "get", roles.IMPORT_LEADS, extra=("job_id",)),
    Row("feedback:import_cancel", "post", roles.IMPORT_LEADS, extra=("job_id",)),
    Row("feedback:import_retry", "post", roles.IMPORT_LEADS, extra=("job_id",)),
    Row("feedback:import_remap", "post", roles.IMPORT_LEADS, extra=("job_id",)),
    Row("feedback:import_errors", "get", roles.IMPORT_LEADS, extra=("job_id",)),
    Row("feedback:run_list", "get", roles.VIEW),
    Row("feedback:backtest_start", "post", roles.PROPOSE),
    Row("feedback:run_detail", "get", roles.VIEW, extra=("run_id",)),
    Row("feedback:run_leads", "get", roles.VIEW, extra=("run_id",)),
    Row("feedback:run_cancel", "post", roles.PROPOSE, extra=("run_id",)),
    Row("feedback:run_retry", "post", roles.PROPOSE, extra=("run_id",)),
    Row("feedback:feedback_queue", "get", roles.GIVE_FEEDBACK),
    Row("feedback:verdict_undo", "post", roles.GIVE_FEEDBACK),
    Row("feedback:verdict_record", "post", roles.GIVE_FEEDBACK, extra=("lead_id",)),
    Row("feedback:lead_bant", "post", roles.GIVE_FEEDBACK, extra=("lead_id",)),
    Row("feedback:accuracy", "get", roles.VIEW),
    Row("feedback:accuracy_print", "get", roles.VIEW),
    Row("feedback:suggestions", "get", roles.VIEW),
    Row("feedback:discovery_start", "post", roles.PROPOSE),
    Row("feedback:discovery_detail", "get", roles.VIEW, extra=("discovery_id",)),
    Row("feedback:discovery_apply", "post", roles.PROPOSE, extra=("discovery_id",)),
    Row("feedback:discovery_retry", "post", roles.PROPOSE, extra=("discovery_id",)),
    Row("feedback:leakage_clear", "post", roles.CHANGE),
    Row("feedback:leakage_restore", "post", roles.CHANGE),
    Row("feedback:verdicts_csv", "get", roles.VIEW),
    Row("feedback:run_results_csv", "get", roles.VIEW, extra=("run_id",)),
    Row("feedback:shadow_start", "post", roles.PROPOSE),
    Row("feedback:shadow_report", "get", roles.VIEW, extra=("shadow_id",)),
    Row("feedback:shadow_stop", "post", roles.PROPOSE, extra=("shadow_id",)),
    Row("feedback:disagreement_queue", "get", roles.GIVE_FEEDBACK),
    Row("feedback:disagreement_verdict", "post", roles.GIVE_FEEDBACK, extra=("lead_id",)),
    Row("feedback:decision_record", "get", roles.VIEW, extra=("number",)),
    Row("feedback:decision_record_pdf", "get", roles.VIEW, extra=("number",)),
    Row("feedback:decision_record_md", "get", roles.VIEW, extra=("number",)),
    Row("feedback:decision_log_csv", "get", roles.VIEW),
    Row("api:key_list", "get", roles.IMPORT_LEADS),
    Row("api:key_list", "post", roles.IMPORT_LEADS),
    Row("api:key_revoke", "get", roles.IMPORT_LEADS, extra=("key_id",)),
    Row("api:key_revoke", "post", roles.IMPORT_LEADS, extra=("key_id",)),
    Row("integrations:webhook_list", "get", roles.CHANGE),
    Row("integrations:webhook_list", "post", roles.CHANGE),
    Row("integrations:webhook_detail", "get", roles.CHANGE, extra=("endpoint_id",)),
    Row("integrations:webhook_detail", "post", roles.CHANGE, extra=("endpoint_id",)),
    Row("integrations:webhook_delete", "get", roles.CHANGE, extra=("endpoint_id",)),
    Row("integrations:webhook_delete", "post", roles.CHANGE, extra=("endpoint_id",)),
    Row("integrations:chat_settings", "get", roles.CHANGE),
    Row("integrations:chat_settings", "post", roles.CHANGE),
)

# Fixture objects whose URL argument has another name.
ALIASES = {"field_id": "entry_id", "kind_id": "entry_id", "draft_id": "proposal_id"}

ROLES = ("admin", "marketer", "rep", "viewer", "outsider", "anonymous")
ROLE_OF = {
    "admin": roles.Role.ADMIN,
    "marketer": roles.Role.STAKEHOLDER,
    "rep": roles.Role.SALES_REP,
    "viewer": roles.Role.VIEWER,
}


def _url_names(resolver: URLResolver, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # Django's admin: staff only, guarded by Django itself
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= _url_names(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(prefix + entry.name)
    return names


def _api_url_names() -> set[str]:
    return {n for n in _url_names(get_resolver()) if n.startswith(f"{API_NAMESPACE}:")}


def test_every_url_is_in_the_permission_table() -> None:
    covered = (
        {row.name for row in TABLE} | PUBLIC | LOGIN_ONLY | INVITEE_ONLY | SSO | _api_url_names()
    )
    missing = _url_names(get_resolver()) - covered
    assert not missing, f"URLs without a row in the permission table: {sorted(missing)}"


def expected_status(role: str, row: Row) -> str:
    if role == "anonymous":
        return "login"
    if role == "outsider":
        return "404"
    if row.perm not in roles.ROLE_PERMISSIONS[ROLE_OF[role]]:
        return "403"
    if row.owner_only and role != "admin":
        return "403"
    if row.staff_only:  # none of the fixture users is staff
        return "403"
    return "allowed"


@pytest.fixture
def everyone(admin: Any, marketer: Any, rep: Any, viewer: Any, outsider: Any) -> dict[str, Any]:
    return {
        "admin": admin,
        "marketer": marketer,
        "rep": rep,
        "viewer": viewer,
        "outsider": outsider,
    }


@pytest.fixture
def objects(admin: Any, workshop: Workshop) -> dict[str, Any]:
    """One object of each kind a URL can name, in the acme workshop."""
    return make_objects(admin, workshop)


def make_objects(admin: Any, workshop: Workshop) -> dict[str, Any]:
    """One object of each kind a URL can name, in ``workshop``, made by its admin."""
    version = version_services.version_publish_document(
        actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
    )
    proposal = authoring_services.proposal_create(actor=admin, workshop=workshop, title="Draft")
    field = catalog_services.custom_field_add(
        actor=admin,
        workshop=workshop,
        key="shoe",
        label="Shoe",
        type="number",
        category="demographic",
    )
    kind = catalog_services.activity_kind_add(
        actor=admin, workshop=workshop, key="visit", label="Visit"
    )
    deliberation_services.policy_update(
        actor=admin,
        workshop=workshop,
        quorum_percent=0,
        required_departments=[],
        majority_percent=0,
        block_vetoes=False,
        default_voting_days=7,
    )
    open_one = authoring_services.proposal_create(actor=admin, workshop=workshop, title="Open one")
    open_one = deliberation_services.proposal_open(
        actor=admin,
        proposal=open_one,
        closes_at=timezone.now() + timedelta(days=3),
        rationale="Because.",
    )
    comment = deliberation_services.comment_add(actor=admin, proposal=open_one, body="Hello")
    amendment = deliberation_services.amendment_suggest(
        actor=admin,
        proposal=open_one,
        criterion_id="revenue",
        replacement={"field": "annual_revenue", "op": "gte", "value": 1, "points": 1},
        reason="Lower.",
    )
    lead = Lead.objects.create(workshop=workshop, external_id="x1", name="Lead One")
    key, _token = api_services.api_key_create(actor=admin, workshop=workshop, name="Key")
    # A public address literal: it passes the address check without a DNS lookup.
    endpoint, _secret = integration_services.endpoint_create(
        actor=admin,
        workshop=workshop,
        url="https://93.184.216.34/hook",
        description="",
        events=["version.published"],
    )
    job, _shape = import_upload(
        actor=admin,
        workshop=workshop,
        upload=SimpleUploadedFile("l.csv", b"ID,Name\nA1,Ann\n"),
    )
    run = backtest_services.backtest_start(
        actor=admin, workshop=workshop, version=version, enqueue=False
    )
    invitation = invitations.invitation_send(
        actor=admin, workshop=workshop, email="guest@example.com", role="viewer", department="sales"
    )
    assert invitation is not None
    discovery = discovery_runs.discovery_start(
        actor=admin, workshop=workshop, version=version, goal=Goal()
    )
    shadow = shadow_services.shadow_start(actor=admin, proposal=proposal)
    return {
        "shadow_id": shadow.pk,
        "discovery_id": discovery.pk,
        "invitation_id": invitation.pk,
        "run_id": run.pk,
        "job_id": job.pk,
        "lead_id": lead.pk,
        "draft_id": proposal.pk,
        "comment_id": comment.pk,
        "amendment_id": amendment.pk,
        "criterion_id": "revenue",
        "proposal_id": open_one.pk,
        "number": version.number,
        "fmt": "json",
        "field_id": field.pk,
        "kind_id": kind.pk,
        "key_id": key.pk,
        "endpoint_id": endpoint.pk,
    }


# URL arguments that name an object by its database id. (A version number, a criterion
# id or a format only mean something inside the workshop that the slug names.)
OBJECT_IDS = {
    "run_id", "job_id", "lead_id", "draft_id", "comment_id", "amendment_id",
    "proposal_id", "field_id", "kind_id", "key_id", "invitation_id", "discovery_id",
    "shadow_id",
    "endpoint_id",
}  # fmt: skip
FOREIGN_ID_CASES = [(row, arg) for row in TABLE for arg in row.extra if arg in OBJECT_IDS]


INVITEE_ROWS = (
    Row("definitions:invitation_detail", "get", ""),
    Row("definitions:invitation_accept", "post", ""),
    Row("definitions:invitation_decline", "post", ""),
    Row("definitions:invitation_link", "get", ""),
)


def test_the_invitee_rows_are_exactly_the_invitee_urls() -> None:
    assert {row.name for row in INVITEE_ROWS} == INVITEE_ONLY


@pytest.mark.django_db
@pytest.mark.parametrize("role", (*ROLES, "invitee"))
@pytest.mark.parametrize("row", INVITEE_ROWS, ids=lambda r: f"{r.method}-{r.name}")
def test_only_the_invited_account_reaches_an_invitation(
    row: Row, role: str, everyone: dict[str, Any], workshop: Workshop
) -> None:
    """The invitee is not a member yet, so the invitation is the key: its invited
    account acts; everyone else, the admin who sent it included, gets 404 (an e-mailed
    link followed by another account says so, with 403, and changes nothing)."""
    from django.contrib.auth import get_user_model

    from definitions.models import Invitation
    from definitions.workshops import invitations, invite_tokens

    invitee = get_user_model().objects.create_user("invitee", "Invitee@Example.com", "x" * 12)
    invitation = invitations.invitation_send(
        actor=everyone["admin"],
        workshop=workshop,
        email="invitee@example.com",
        role="viewer",
        department="sales",
    )
    assert invitation is not None
    token = invite_tokens.new_token()  # the mailed token is not kept; set a known one
    Invitation.objects.filter(pk=invitation.pk).update(token_digest=invite_tokens.digest(token))
    kwargs: dict[str, Any] = (
        {"token": token} if row.name.endswith("_link") else {"invitation_id": invitation.pk}
    )
    client = Client()
    if role == "invitee":
        client.force_login(invitee)
    elif role != "anonymous":
        client.force_login(everyone[role])
    response = getattr(client, row.method)(reverse(row.name, kwargs=kwargs))

    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif role == "invitee":
        assert response.status_code in (200, 302)
    elif row.name.endswith("_link"):
        assert response.status_code == 403
        assert b"another e-mail address" in response.content
    else:
        assert response.status_code == 404
    invitation.refresh_from_db()
    if role != "invitee":
        assert invitation.state == "pending"
        assert not Membership.objects.filter(workshop=workshop, user=invitee).exists()


@pytest.mark.django_db
def test_a_membership_id_of_another_workshop_is_not_found_even_for_an_admin(
    admin: Any, outsider: Any, workshop: Workshop
) -> None:
    foreign = Membership.objects.get(workshop__slug="other", user=outsider)
    client = Client()
    client.force_login(admin)
    for name in ("definitions:member_update", "definitions:member_remove"):
        url = reverse(name, kwargs={"slug": workshop.slug, "membership_id": foreign.pk})
        assert client.post(url, {f"m{foreign.pk}-role": "viewer"}).status_code == 404
    assert Membership.objects.filter(pk=foreign.pk, role="admin").exists()


@pytest.mark.django_db
def test_ids_of_another_workshops_drafts_versions_and_fields_are_not_found(
    admin: Any, outsider: Any, workshop: Workshop
) -> None:
    other = Workshop.objects.get(slug="other")
    version_services.version_publish_document(
        actor=outsider, workshop=other, document=rules.WORKED_EXAMPLE, parent=None
    )
    foreign_draft = authoring_services.proposal_create(
        actor=outsider, workshop=other, title="Theirs"
    )
    foreign_field = catalog_services.custom_field_add(
        actor=outsider, workshop=other, key="x", label="X", type="text", category="demographic"
    )
    client = Client()
    client.force_login(admin)
    slug = workshop.slug
    urls = [
        ("get", reverse("definitions:draft_builder", args=[slug, foreign_draft.pk])),
        ("post", reverse("definitions:draft_builder", args=[slug, foreign_draft.pk])),
        ("get", reverse("definitions:draft_export", args=[slug, foreign_draft.pk, "json"])),
        ("get", reverse("definitions:version_detail", args=[slug, 1])),
        ("post", reverse("definitions:catalog_field_delete", args=[slug, foreign_field.pk])),
    ]
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 404, url
    assert Workshop.objects.get(slug="other").custom_fields.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(_api_url_names() - API_PUBLIC - API_LOGIN_ONLY))
def test_every_api_operation_refuses_a_request_without_a_key(name: str, admin: Any) -> None:
    """Even with a logged-in session: the API answers programs with keys only."""
    pattern = str(next(p.pattern for p in _api_patterns() if f"{API_NAMESPACE}:{p.name}" == name))
    kwargs = {"external_id": "x1"} if "external_id" in pattern else {}
    if "slug" in pattern:
        kwargs["slug"] = "acme"
    for numeric in ("number", "proposal_id"):
        if numeric in pattern:
            kwargs[numeric] = "1"
    url = reverse(name, kwargs=kwargs)
    client = Client()
    client.force_login(admin)
    answers = {
        method: client.generic(method.upper(), url, "{}", content_type="application/json")
        for method in ("get", "put", "post", "patch", "delete")
    }
    assert {r.status_code for r in answers.values()} <= {401, 405}
    assert any(r.status_code == 401 for r in answers.values())


def _api_patterns() -> list[URLPattern]:
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == API_NAMESPACE:
            return [p for p in entry.url_patterns if isinstance(p, URLPattern)]
    return []


@pytest.mark.django_db
def test_the_openapi_document_is_public_and_the_docs_page_needs_a_login() -> None:
    assert Client().get(reverse("api-v1:openapi-json")).status_code == 200
    docs = Client().get(reverse("api-v1:openapi-view"))
    assert docs.status_code == 302 and docs["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PUBLIC - {"set_language"}))
def test_public_pages_answer_without_a_login(name: str) -> None:
    assert Client().get(reverse(name)).status_code == 200


@pytest.mark.django_db
def test_a_missing_workshop_and_a_hidden_one_look_the_same(
    outsider: Any, workshop: Workshop
) -> None:
    client = Client()
    client.force_login(outsider)
    hidden = client.get(reverse("definitions:workshop_home", kwargs={"slug": workshop.slug}))
    missing = client.get(reverse("definitions:workshop_home", kwargs={"slug": "no-such-thing"}))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.templates[0].name == missing.templates[0].name == "404.html"
    assert workshop.name.encode() not in hidden.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "row", [r for r in TABLE if r.method == "post"], ids=lambda r: f"post-{r.name}"
)
def test_every_state_change_without_a_csrf_token_is_refused(
    row: Row, admin: Any, workshop: Workshop, objects: dict[str, Any]
) -> None:
    """The admin may do everything, yet a POST without the CSRF token does nothing."""
    kwargs: dict[str, Any] = {"slug": workshop.slug}
    for name in row.extra:
        kwargs[ALIASES.get(name, name)] = objects[name]
    if row.needs_membership_id:
        kwargs["membership_id"] = Membership.objects.get(workshop=workshop, user=admin).pk
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(reverse(row.name, kwargs=kwargs)).status_code == 403


def test_no_view_outside_the_key_authenticated_api_is_exempt_from_csrf() -> None:
    def views(resolver: URLResolver) -> Iterator[tuple[str, Any]]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace != API_NAMESPACE:
                    yield from views(entry)
            elif isinstance(entry, URLPattern):
                yield str(entry.pattern), entry.callback

    exempt = [p for p, view in views(get_resolver()) if getattr(view, "csrf_exempt", False)]
    assert exempt == []


@pytest.mark.django_db
def test_rights_granted_through_a_group_count_like_rights_granted_to_the_user(
    workshop: Workshop, outsider: Any
) -> None:
    from django.contrib.auth.models import Group
    from guardian.shortcuts import assign_perm

    from definitions.workshops.access import get_workshop_for_user, workshop_perms

    group = Group.objects.create(name="visitors")
    assign_perm(f"definitions.{roles.VIEW}", group, workshop)
    outsider.groups.add(group)

    assert workshop_perms(outsider, workshop) == frozenset({roles.VIEW})
    assert get_workshop_for_user(outsider, workshop.slug).user_perms == frozenset({roles.VIEW})


@pytest.mark.django_db
def test_the_workshop_and_the_users_rights_load_in_one_query(
    workshop: Workshop, marketer: Any, django_assert_num_queries: Any
) -> None:
    from definitions.workshops.access import get_workshop_for_user, workshop_perms

    with django_assert_num_queries(1):
        loaded = get_workshop_for_user(marketer, workshop.slug, roles.PROPOSE)
    assert loaded.user_perms == workshop_perms(marketer, workshop)
    assert {roles.VIEW, roles.PROPOSE, roles.VOTE} <= loaded.user_perms
    assert roles.MANAGE_MEMBERS not in loaded.user_perms


@pytest.mark.django_db
def test_a_superuser_holds_every_right_on_every_workshop(workshop: Workshop) -> None:
    from django.contrib.auth import get_user_model

    from definitions.workshops.access import get_workshop_for_user

    root = get_user_model().objects.create_superuser("root", password="x" * 12)
    loaded = get_workshop_for_user(root, workshop.slug, roles.MANAGE_MEMBERS)
    assert {roles.VIEW, roles.CHANGE, roles.MANAGE_MEMBERS} <= loaded.user_perms
