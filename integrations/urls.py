from __future__ import annotations

from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("w/<slug:slug>/webhooks/", views.webhook_list, name="webhook_list"),
    path("w/<slug:slug>/webhooks/<int:endpoint_id>/", views.webhook_detail, name="webhook_detail"),
    path(
        "w/<slug:slug>/webhooks/<int:endpoint_id>/delete/",
        views.webhook_delete,
        name="webhook_delete",
    ),
    path("w/<slug:slug>/chat/", views.chat_settings, name="chat_settings"),
]
