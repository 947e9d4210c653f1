from __future__ import annotations

from django.urls import path

from definitions import definition_views as dv
from definitions import proposal_views as pv
from definitions import views

app_name = "definitions"

urlpatterns = [
    path("workshops/new/", views.workshop_create, name="workshop_create"),
    path("w/<slug:slug>/", views.workshop_home, name="workshop_home"),
    path("w/<slug:slug>/members/", views.member_list, name="member_list"),
    path("w/<slug:slug>/members/invite/", views.member_invite, name="member_invite"),
    path("w/<slug:slug>/members/create/", views.member_create, name="member_create"),
    path("w/<slug:slug>/members/<int:membership_id>/", views.member_update, name="member_update"),
    path(
        "w/<slug:slug>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("w/<slug:slug>/history/", views.workshop_history, name="workshop_history"),
    path("w/<slug:slug>/leave/", views.member_leave, name="member_leave"),
    path(
        "w/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    # The invitee's side: not a member yet, so these live outside the workshop's
    # URLs; the invitation is the key (permissions.get_invitation_for_*).
    path("invitations/<int:invitation_id>/", views.invitation_detail, name="invitation_detail"),
    path(
        "invitations/<int:invitation_id>/accept/",
        views.invitation_accept,
        name="invitation_accept",
    ),
    path(
        "invitations/<int:invitation_id>/decline/",
        views.invitation_decline,
        name="invitation_decline",
    ),
    path("invitations/link/<str:token>/", views.invitation_link, name="invitation_link"),
]

urlpatterns += [
    path("w/<slug:slug>/definition/", dv.definition_home, name="definition_home"),
    path("w/<slug:slug>/drafts/new/", dv.draft_create, name="draft_create"),
    path("w/<slug:slug>/drafts/import/", dv.draft_import, name="draft_import"),
    path("w/<slug:slug>/drafts/<int:proposal_id>/", dv.draft_builder, name="draft_builder"),
    path(
        "w/<slug:slug>/drafts/<int:proposal_id>/export.<str:fmt>",
        dv.draft_export,
        name="draft_export",
    ),
    path("w/<slug:slug>/drafts/<int:proposal_id>/print/", dv.draft_print, name="draft_print"),
    path("w/<slug:slug>/versions/<int:number>/", dv.version_detail, name="version_detail"),
    path(
        "w/<slug:slug>/versions/<int:number>/export.<str:fmt>",
        dv.version_export,
        name="version_export",
    ),
    path("w/<slug:slug>/versions/<int:number>/print/", dv.version_print, name="version_print"),
    path("w/<slug:slug>/catalog/", dv.catalog, name="catalog"),
    path("w/<slug:slug>/catalog/fields/add/", dv.catalog_field_add, name="catalog_field_add"),
    path(
        "w/<slug:slug>/catalog/fields/<int:entry_id>/delete/",
        dv.catalog_field_delete,
        name="catalog_field_delete",
    ),
    path("w/<slug:slug>/catalog/kinds/add/", dv.catalog_kind_add, name="catalog_kind_add"),
    path(
        "w/<slug:slug>/catalog/kinds/<int:entry_id>/delete/",
        dv.catalog_kind_delete,
        name="catalog_kind_delete",
    ),
]

P = "w/<slug:slug>/proposals/<int:proposal_id>/"

urlpatterns += [
    path("w/<slug:slug>/proposals/", pv.proposal_list, name="proposal_list"),
    path(P, pv.proposal_detail, name="proposal_detail"),
    path(P + "live/", pv.proposal_live, name="proposal_live"),
    path(P + "open/", pv.proposal_open, name="proposal_open"),
    path(P + "withdraw/", pv.proposal_withdraw, name="proposal_withdraw"),
    path(P + "close/", pv.proposal_close, name="proposal_close"),
    path(P + "publish/", pv.proposal_publish, name="proposal_publish"),
    path(P + "vote/", pv.vote_cast, name="vote_cast"),
    path(P + "comments/", pv.comment_add, name="comment_add"),
    path(P + "comments/<int:comment_id>/edit/", pv.comment_edit, name="comment_edit"),
    path(P + "comments/<int:comment_id>/delete/", pv.comment_delete, name="comment_delete"),
    path(P + "amend/<str:criterion_id>/", pv.amendment_suggest, name="amendment_suggest"),
    path(P + "amendments/<int:amendment_id>/accept/", pv.amendment_accept, name="amendment_accept"),
    path(
        P + "amendments/<int:amendment_id>/decline/",
        pv.amendment_decline,
        name="amendment_decline",
    ),
    path(P + "revisions/", pv.proposal_revisions, name="proposal_revisions"),
    path("w/<slug:slug>/versions/", pv.version_history, name="version_history"),
    path(
        "w/<slug:slug>/versions/<int:number>/rollback/",
        pv.version_rollback,
        name="version_rollback",
    ),
    path("w/<slug:slug>/policy/", pv.policy_edit, name="policy_edit"),
]
