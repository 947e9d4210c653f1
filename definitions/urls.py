from __future__ import annotations

from django.urls import path

from definitions.authoring import views as authoring_views
from definitions.catalog import views as catalog_views
from definitions.deliberation import compare_views
from definitions.deliberation import views as deliberation_views
from definitions.home import views as home_views
from definitions.versions import views as version_views
from definitions.workshops import views as workshop_views

app_name = "definitions"

urlpatterns = [
    path("workshops/new/", workshop_views.workshop_create, name="workshop_create"),
    path("w/<slug:slug>/", home_views.workshop_home, name="workshop_home"),
    path("w/<slug:slug>/members/", workshop_views.member_list, name="member_list"),
    path("w/<slug:slug>/members/invite/", workshop_views.member_invite, name="member_invite"),
    path("w/<slug:slug>/members/create/", workshop_views.member_create, name="member_create"),
    path(
        "w/<slug:slug>/members/<int:membership_id>/",
        workshop_views.member_update,
        name="member_update",
    ),
    path(
        "w/<slug:slug>/members/<int:membership_id>/remove/",
        workshop_views.member_remove,
        name="member_remove",
    ),
    path("w/<slug:slug>/history/", workshop_views.workshop_history, name="workshop_history"),
    path("w/<slug:slug>/leave/", workshop_views.member_leave, name="member_leave"),
    path(
        "w/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        workshop_views.invitation_revoke,
        name="invitation_revoke",
    ),
    # The invitee's side: not a member yet, so these live outside the workshop's
    # URLs; the invitation is the key (permissions.get_invitation_for_*).
    path(
        "invitations/<int:invitation_id>/",
        workshop_views.invitation_detail,
        name="invitation_detail",
    ),
    path(
        "invitations/<int:invitation_id>/accept/",
        workshop_views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        workshop_views.invitation_decline,
        name="invitation_decline",
    ),
    path("invitations/link/<str:token>/", workshop_views.invitation_link, name="invitation_link"),
]

urlpatterns += [
    path("w/<slug:slug>/definition/", authoring_views.definition_home, name="definition_home"),
    path("w/<slug:slug>/drafts/new/", authoring_views.draft_create, name="draft_create"),
    path("w/<slug:slug>/drafts/import/", authoring_views.draft_import, name="draft_import"),
    path(
        "w/<slug:slug>/drafts/<int:proposal_id>/",
        authoring_views.draft_builder,
        name="draft_builder",
    ),
    path(
        "w/<slug:slug>/drafts/<int:proposal_id>/export.<str:fmt>",
        authoring_views.draft_export,
        name="draft_export",
    ),
    path(
        "w/<slug:slug>/drafts/<int:proposal_id>/print/",
        authoring_views.draft_print,
        name="draft_print",
    ),
    path(
        "w/<slug:slug>/versions/<int:number>/", version_views.version_detail, name="version_detail"
    ),
    path(
        "w/<slug:slug>/versions/<int:number>/export.<str:fmt>",
        version_views.version_export,
        name="version_export",
    ),
    path(
        "w/<slug:slug>/versions/<int:number>/print/",
        version_views.version_print,
        name="version_print",
    ),
    path("w/<slug:slug>/catalog/", catalog_views.catalog, name="catalog"),
    path(
        "w/<slug:slug>/catalog/fields/add/",
        catalog_views.catalog_field_add,
        name="catalog_field_add",
    ),
    path(
        "w/<slug:slug>/catalog/fields/<int:entry_id>/delete/",
        catalog_views.catalog_field_delete,
        name="catalog_field_delete",
    ),
    path(
        "w/<slug:slug>/catalog/kinds/add/", catalog_views.catalog_kind_add, name="catalog_kind_add"
    ),
    path(
        "w/<slug:slug>/catalog/kinds/<int:entry_id>/delete/",
        catalog_views.catalog_kind_delete,
        name="catalog_kind_delete",
    ),
]

P = "w/<slug:slug>/proposals/<int:proposal_id>/"

urlpatterns += [
    path("w/<slug:slug>/proposals/", deliberation_views.proposal_list, name="proposal_list"),
    path("w/<slug:slug>/compare/", compare_views.compare, name="compare"),
    path(P, deliberation_views.proposal_detail, name="proposal_detail"),
    path(P + "live/", deliberation_views.proposal_live, name="proposal_live"),
    path(P + "open/", deliberation_views.proposal_open, name="proposal_open"),
    path(P + "withdraw/", deliberation_views.proposal_withdraw, name="proposal_withdraw"),
    path(P + "close/", deliberation_views.proposal_close, name="proposal_close"),
    path(P + "publish/", deliberation_views.proposal_publish, name="proposal_publish"),
    path(P + "vote/", deliberation_views.vote_cast, name="vote_cast"),
    path(P + "comments/", deliberation_views.comment_add, name="comment_add"),
    path(
        P + "comments/<int:comment_id>/edit/", deliberation_views.comment_edit, name="comment_edit"
    ),
    path(
        P + "comments/<int:comment_id>/delete/",
        deliberation_views.comment_delete,
        name="comment_delete",
    ),
    path(
        P + "amend/<str:criterion_id>/",
        deliberation_views.amendment_suggest,
        name="amendment_suggest",
    ),
    path(
        P + "amendments/<int:amendment_id>/accept/",
        deliberation_views.amendment_accept,
        name="amendment_accept",
    ),
    path(
        P + "amendments/<int:amendment_id>/decline/",
        deliberation_views.amendment_decline,
        name="amendment_decline",
    ),
    path(P + "revisions/", deliberation_views.proposal_revisions, name="proposal_revisions"),
    path("w/<slug:slug>/versions/", version_views.version_history, name="version_history"),
    path(
        "w/<slug:slug>/versions/<int:number>/restore/",
        deliberation_views.version_restore,
        name="version_restore",
    ),
    path(P + "rebase/", deliberation_views.proposal_rebase, name="proposal_rebase"),
    path("w/<slug:slug>/policy/", deliberation_views.policy_edit, name="policy_edit"),
]
