"""Where other capabilities add to a decision record without this package importing them.

``shadow_evidence``: the shadow runs (a proposal's definition classifying live leads
beside the published version) as they stood when the version was published. Sent with
sender=Version and keyword arguments ``version`` and ``proposal`` (or None); a receiver
returns a dict with "summary" (one sentence) and "rows" (a list of (label, value)
pairs), or None. Nothing is connected yet: shadow runs are built elsewhere, and until a
receiver answers the record says "no shadow run"."""

from __future__ import annotations

from typing import Any, cast

from django.dispatch import Signal

from definitions.models import Proposal, Version

shadow_evidence = Signal()


def shadow_evidence_at_publish(
    version: Version, proposal: Proposal | None
) -> dict[str, Any] | None:
    """The first answer of a connected receiver, or None (no shadow run)."""
    for _receiver, answer in shadow_evidence.send(
        sender=Version, version=version, proposal=proposal
    ):
        if answer:
            return cast(dict[str, Any], answer)
    return None
