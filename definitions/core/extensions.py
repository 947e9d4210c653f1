"""Extension points: pages of the definitions app that show what a higher layer knows.

The proposal and version pages show a backtest, the workshop home shows accuracy and
the worker's state; those come from the feedback app, which this app must not import.
Each such page asks ``page_context`` for more context; the feedback app connects its
receivers when it starts (feedback/apps.py). Without it the pages render without
those panels, as the templates already allow."""

from __future__ import annotations

from typing import Any, cast

from django.dispatch import Signal

# Sent with sender=<page name> ("workshop_home", "proposal_detail", "version_detail")
# and the page's objects as keyword arguments; each receiver returns a dict of context.
page_context = Signal()

# Sent for every new version (a first version, a proposal published, a restore or an
# emergency rollback; definitions.versions.signals.version_published is only for the
# last three), inside the publishing transaction, with sender=Version and keyword arguments
# version, proposal (the accepted proposal, or None) and source (the version a restore
# republishes, or None): the feedback app snapshots what the vote was promised (the
# backtest at publish time) before later runs replace it.
version_created = Signal()


def extra_context(page: str, **objects: Any) -> dict[str, Any]:
    """The context every receiver adds to `page`, merged in the order they connected."""
    context: dict[str, Any] = {}
    for _receiver, extra in page_context.send(sender=page, **objects):
        context.update(cast(dict[str, Any], extra))
    return context
