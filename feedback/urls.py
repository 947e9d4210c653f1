from __future__ import annotations

from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("w/<slug:slug>/leads/", views.lead_list, name="lead_list"),
    path("w/<slug:slug>/leads/<int:lead_id>/", views.lead_detail, name="lead_detail"),
]
