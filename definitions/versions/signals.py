"""Sent when a version becomes the current definition through a decision (a proposal
published, a restore, an emergency rollback). The feedback app listens and makes sure
the reps' queue has a backtest of it (reusing the restored version's run when the
leads have not changed since), without this package importing it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the publishing transaction with ``version`` (the new current version).
version_published = Signal()
