from __future__ import annotations

from django.urls import path

from definitions import views

app_name = "definitions"

urlpatterns = [
    path("workshops/new/", views.workshop_create, name="workshop_create"),
    path("w/<slug:slug>/", views.workshop_home, name="workshop_home"),
    path("w/<slug:slug>/members/", views.member_list, name="member_list"),
    path("w/<slug:slug>/members/add/", views.member_add, name="member_add"),
    path("w/<slug:slug>/members/create/", views.member_create, name="member_create"),
    path("w/<slug:slug>/members/<int:membership_id>/", views.member_update, name="member_update"),
    path(
        "w/<slug:slug>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("w/<slug:slug>/history/", views.workshop_history, name="workshop_history"),
]
