"""Which events webhooks and chat offer, and how people read their names."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from definitions.core import events

# The events an endpoint may choose, in the order the form lists them.
WEBHOOK_EVENTS: dict[str, Promise] = {
    events.VERSION_PUBLISHED: _("A version is published"),
    events.PROPOSAL_OPENED: _("A proposal is opened for votes"),
    events.PROPOSAL_CLOSED: _("Voting on a proposal closes"),
    events.PROPOSAL_PUBLISHED: _("An accepted proposal is published"),
    events.REVIEW_READY: _("A version review is ready"),
    events.IMPORT_FINISHED: _("An import finishes"),
    events.BACKTEST_FINISHED: _("A backtest finishes"),
    events.LEAD_CLASSIFIED: _("A lead is classified through the API (high volume)"),
}

# What reaches the chat channels: "needs your vote", "closing in 24 h", "published",
# "review ready".
CHAT_EVENTS = frozenset(
    {
        events.PROPOSAL_OPENED,
        events.PROPOSAL_CLOSING_SOON,
        events.VERSION_PUBLISHED,
        events.REVIEW_READY,
    }
)
