from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Leads and feedback")

    def ready(self) -> None:
        # Imported here, as Django asks for signal receivers: these modules need the
        # models, which are not loaded when this module is.
        from django.db.backends.signals import connection_created

        from definitions.core.extensions import page_context, version_created
        from definitions.versions.signals import version_published
        from feedback.accuracy import compare_panel
        from feedback.accuracy import panels as accuracy_panels
        from feedback.accuracy import preview as accuracy_preview
        from feedback.backtests import panels as backtest_panels
        from feedback.backtests import services as backtest_services
        from feedback.backtests import signals as backtest_signals
        from feedback.backtests.sql import register_sqlite_functions
        from feedback.imports.dispositions import verdicts_staged
        from feedback.leads.signals import leads_arrived
        from feedback.ops import panels as ops_panels
        from feedback.reviews import panels as review_panels
        from feedback.reviews import services as review_services
        from feedback.shadows import panels as shadow_panels
        from feedback.shadows import services as shadow_services
        from feedback.verdicts import imported as imported_verdicts
        from feedback.verdicts import panels as verdict_panels
        from feedback.verdicts import tallies

        def sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
            if connection.vendor == "sqlite":
                register_sqlite_functions(connection.connection)

        connection_created.connect(
            sqlite_functions, dispatch_uid="feedback_sqlite_functions", weak=False
        )
        page_context.connect(accuracy_panels.on_workshop_home, sender="workshop_home")
        page_context.connect(ops_panels.on_workshop_home, sender="workshop_home")
        page_context.connect(review_panels.on_workshop_home, sender="workshop_home")
        page_context.connect(accuracy_preview.on_draft_builder, sender="draft_builder")
        page_context.connect(compare_panel.on_compare_page, sender="compare")
        page_context.connect(backtest_panels.on_proposal_page, sender="proposal_detail")
        page_context.connect(shadow_panels.on_proposal_page, sender="proposal_detail")
        page_context.connect(backtest_panels.on_version_page, sender="version_detail")
        page_context.connect(backtest_panels.on_restore_page, sender="version_restore")
        page_context.connect(backtest_panels.on_lead_page, sender="lead_detail")
        page_context.connect(verdict_panels.on_lead_page, sender="lead_detail")
        version_published.connect(
            backtest_services.on_version_published, dispatch_uid="backtest_published_version"
        )
        backtest_signals.run_done.connect(tallies.on_run_done, dispatch_uid="verdict_tallies")
        verdicts_staged.connect(
            imported_verdicts.on_verdicts_staged, dispatch_uid="imported_verdicts"
        )
        backtest_signals.run_settled.connect(
            accuracy_panels.on_run_settled, dispatch_uid="outcome_stats"
        )
        leads_arrived.connect(shadow_services.on_leads_arrived, dispatch_uid="shadow_classify")
        backtest_signals.run_settled.connect(
            review_services.on_run_settled, dispatch_uid="version_reviews"
        )
        version_created.connect(
            review_services.on_version_published, dispatch_uid="version_review_promise"
        )
