from __future__ import annotations

from django.urls import path

from feedback import import_views, views

app_name = "feedback"

urlpatterns = [
    path("w/<slug:slug>/leads/", views.lead_list, name="lead_list"),
    path("w/<slug:slug>/leads/<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path("w/<slug:slug>/imports/", import_views.import_list, name="import_list"),
    path(
        "w/<slug:slug>/imports/<int:job_id>/mapping/",
        import_views.import_mapping,
        name="import_mapping",
    ),
    path("w/<slug:slug>/imports/<int:job_id>/", import_views.import_detail, name="import_detail"),
    path(
        "w/<slug:slug>/imports/<int:job_id>/cancel/",
        import_views.import_cancel,
        name="import_cancel",
    ),
    path(
        "w/<slug:slug>/imports/<int:job_id>/retry/", import_views.import_retry, name="import_retry"
    ),
    path(
        "w/<slug:slug>/imports/<int:job_id>/errors.csv",
        import_views.import_errors,
        name="import_errors",
    ),
]
