"""The periodic sweep that keeps background work honest: fail backtests that stopped
progressing, discovery runs that never finished and imports whose worker died, re-run
stale backtests people look at, recount the version reviews whose leads or verdicts
changed, prepare the builder preview's samples, forget spent form tokens, write down
why shadow runs stopped. Run every minute by
feedback.tasks.housekeeping."""

from __future__ import annotations

from definitions.core.once import submissions_forget
from feedback.accuracy.preview import samples_prepare
from feedback.backtests import services as backtest_services
from feedback.imports.run import imports_recover
from feedback.reviews.services import reviews_refresh
from feedback.shadows.services import shadows_settle
from feedback.suggestions.runs import discoveries_expire_overdue


def housekeeping_run() -> None:
    backtest_services.backtests_expire_overdue()
    discoveries_expire_overdue()
    imports_recover()
    backtest_services.backtests_refresh_stale()
    reviews_refresh()
    samples_prepare()
    submissions_forget()
    shadows_settle()
