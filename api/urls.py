from __future__ import annotations

from django.urls import path

from api import views

app_name = "api"

urlpatterns = [
    path("w/<slug:slug>/api-keys/", views.key_list, name="key_list"),
    path("w/<slug:slug>/api-keys/<int:key_id>/revoke/", views.key_revoke, name="key_revoke"),
]
