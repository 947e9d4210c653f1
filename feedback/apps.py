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

        from definitions.core.extensions import page_context
        from feedback.accuracy import panels as accuracy_panels
        from feedback.backtests import panels as backtest_panels
        from feedback.backtests import signals as backtest_signals
        from feedback.backtests.sql import register_sqlite_functions
        from feedback.imports.dispositions import verdicts_staged
        from feedback.ops import panels as ops_panels
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
        page_context.connect(backtest_panels.on_proposal_page, sender="proposal_detail")
        page_context.connect(backtest_panels.on_version_page, sender="version_detail")
        page_context.connect(backtest_panels.on_lead_page, sender="lead_detail")
        page_context.connect(verdict_panels.on_lead_page, sender="lead_detail")
        backtest_signals.run_done.connect(tallies.on_run_done, dispatch_uid="verdict_tallies")
        verdicts_staged.connect(
            imported_verdicts.on_verdicts_staged, dispatch_uid="imported_verdicts"
        )
        backtest_signals.run_settled.connect(
            accuracy_panels.on_run_settled, dispatch_uid="outcome_stats"
        )
