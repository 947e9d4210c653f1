from __future__ import annotations

from django.urls import path

from feedback.accuracy import views as accuracy_views
from feedback.backtests import views as backtest_views
from feedback.imports import views as import_views
from feedback.leads import views as lead_views
from feedback.reviews import views as review_views
from feedback.shadows import views as shadow_views
from feedback.suggestions import views as suggestion_views
from feedback.verdicts import views as verdict_views

app_name = "feedback"

urlpatterns = [
    path("w/<slug:slug>/feedback/", verdict_views.feedback_queue, name="feedback_queue"),
    path("w/<slug:slug>/feedback/undo/", verdict_views.verdict_undo, name="verdict_undo"),
    path(
        "w/<slug:slug>/feedback/<int:lead_id>/verdict/",
        verdict_views.verdict_record,
        name="verdict_record",
    ),
    path("w/<slug:slug>/feedback/<int:lead_id>/bant/", verdict_views.lead_bant, name="lead_bant"),
    path("w/<slug:slug>/accuracy/", accuracy_views.accuracy, name="accuracy"),
    path(
        "w/<slug:slug>/versions/<int:number>/record/",
        review_views.decision_record,
        name="decision_record",
    ),
    path(
        "w/<slug:slug>/versions/<int:number>/record.pdf",
        review_views.decision_record_pdf,
        name="decision_record_pdf",
    ),
    path(
        "w/<slug:slug>/versions/<int:number>/record.md",
        review_views.decision_record_md,
        name="decision_record_md",
    ),
    path("w/<slug:slug>/decisions.csv", review_views.decision_log_csv, name="decision_log_csv"),
    path("w/<slug:slug>/accuracy/print/", accuracy_views.accuracy_print, name="accuracy_print"),
    path("w/<slug:slug>/suggestions/", suggestion_views.suggestions, name="suggestions"),
    path(
        "w/<slug:slug>/suggestions/start/",
        suggestion_views.discovery_start,
        name="discovery_start",
    ),
    path(
        "w/<slug:slug>/suggestions/<int:discovery_id>/",
        suggestion_views.discovery_detail,
        name="discovery_detail",
    ),
    path(
        "w/<slug:slug>/suggestions/<int:discovery_id>/apply/",
        suggestion_views.discovery_apply,
        name="discovery_apply",
    ),
    path(
        "w/<slug:slug>/suggestions/<int:discovery_id>/retry/",
        suggestion_views.discovery_retry,
        name="discovery_retry",
    ),
    path(
        "w/<slug:slug>/suggestions/leakage/clear/",
        suggestion_views.leakage_clear,
        name="leakage_clear",
    ),
    path(
        "w/<slug:slug>/suggestions/leakage/restore/",
        suggestion_views.leakage_restore,
        name="leakage_restore",
    ),
    path("w/<slug:slug>/feedback/verdicts.csv", accuracy_views.verdicts_csv, name="verdicts_csv"),
    path(
        "w/<slug:slug>/backtests/<int:run_id>/results.csv",
        accuracy_views.run_results_csv,
        name="run_results_csv",
    ),
    path("w/<slug:slug>/backtests/", backtest_views.run_list, name="run_list"),
    path("w/<slug:slug>/backtests/start/", backtest_views.backtest_start, name="backtest_start"),
    path("w/<slug:slug>/backtests/<int:run_id>/", backtest_views.run_detail, name="run_detail"),
    path("w/<slug:slug>/backtests/<int:run_id>/leads/", backtest_views.run_leads, name="run_leads"),
    path(
        "w/<slug:slug>/backtests/<int:run_id>/cancel/",
        backtest_views.run_cancel,
        name="run_cancel",
    ),
    path("w/<slug:slug>/backtests/<int:run_id>/retry/", backtest_views.run_retry, name="run_retry"),
    path("w/<slug:slug>/shadows/start/", shadow_views.shadow_start, name="shadow_start"),
    path(
        "w/<slug:slug>/shadows/<int:shadow_id>/", shadow_views.shadow_report, name="shadow_report"
    ),
    path(
        "w/<slug:slug>/shadows/<int:shadow_id>/stop/",
        shadow_views.shadow_stop,
        name="shadow_stop",
    ),
    path(
        "w/<slug:slug>/shadows/disagreements/",
        shadow_views.disagreement_queue,
        name="disagreement_queue",
    ),
    path(
        "w/<slug:slug>/shadows/disagreements/<int:lead_id>/verdict/",
        shadow_views.disagreement_verdict,
        name="disagreement_verdict",
    ),
    path("w/<slug:slug>/leads/", lead_views.lead_list, name="lead_list"),
    path("w/<slug:slug>/leads/<int:lead_id>/", lead_views.lead_detail, name="lead_detail"),
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
        "w/<slug:slug>/imports/<int:job_id>/remap/",
        import_views.import_remap,
        name="import_remap",
    ),
    path(
        "w/<slug:slug>/imports/<int:job_id>/errors.csv",
        import_views.import_errors,
        name="import_errors",
    ),
]
