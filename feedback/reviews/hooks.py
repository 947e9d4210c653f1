"""The shadow evidence a decision record shows: the proposal's shadow run (its
definition classifying live leads beside the published version, feedback.shadows) as
it stood when the version was published. A run stops when its proposal is published,
so its summary read later is the summary at publish time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from definitions.models import Proposal, Version
from feedback.shadows.selectors import shadow_summary


def _f1(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def shadow_evidence_at_publish(
    version: Version, proposal: Proposal | None
) -> dict[str, Any] | None:
    """{"summary": one sentence, "rows": [(label, value), …]}, or None when the
    version's proposal never ran in shadow."""
    if proposal is None:
        return None
    summary = shadow_summary(proposal)
    if summary is None:
        return None
    agreement = summary["agreement"]
    published, shadow = summary["definitions"]
    sentence = _(
        "Run in shadow for %(days)s days on %(seen)s live leads; the published version "
        "and this proposal agreed on %(agree)s of the %(compared)s leads both judged."
    ) % {
        "days": summary["days"],
        "seen": summary["leads_seen"],
        "agree": agreement["agree"],
        "compared": summary["compared"],
    }
    rows: list[tuple[str, str]] = [
        (_("Leads to sales, published version"), str(published["to_sales"])),
        (_("Leads to sales, this proposal"), str(shadow["to_sales"])),
        (
            _("Disagreements judged by reps"),
            f"{agreement['judged_disagreements']} / {agreement['disagree']}",
        ),
        (
            _("F1 against outcomes known so far (published / proposal)"),
            f"{_f1(published['outcomes']['f1'])} / {_f1(shadow['outcomes']['f1'])}"
            f" (n = {shadow['outcomes']['n']})",
        ),
        (
            _("F1 against verdicts known so far (published / proposal)"),
            f"{_f1(published['verdicts']['f1'])} / {_f1(shadow['verdicts']['f1'])}"
            f" (n = {shadow['verdicts']['n']})",
        ),
    ]
    return {"summary": sentence, "rows": rows}
