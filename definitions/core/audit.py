"""The audit log: every state change records who did what, with a dotted action name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from definitions.core import labels
from definitions.models import AuditLogEntry, Workshop
from definitions.roles import Department, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def log_action(
    action: str,
    *,
    actor: User | None,
    workshop: Workshop | None = None,
    **data: Any,
) -> AuditLogEntry:
    """Append one entry. Call it inside the service's transaction so the entry and
    the change it describes commit (or roll back) together."""
    return AuditLogEntry.objects.create(
        action=action,
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        workshop=workshop,
        data=data,
    )


# How each action reads on the history page. Parameters come from the entry's data
# plus `actor`; unknown actions fall back to their dotted name.
MESSAGES: dict[str, Promise] = {
    "definitions.workshop.created": _("%(actor)s created the workshop “%(name)s”."),
    "definitions.workshop.updated": _("%(actor)s updated the workshop settings."),
    "definitions.member.added": _("%(actor)s added %(member)s as %(role)s (%(department)s)."),
    "definitions.member.account_created": _(
        "%(actor)s created an account for %(member)s and added them as %(role)s (%(department)s)."
    ),
    "definitions.member.changed": _("%(actor)s changed %(member)s to %(role)s (%(department)s)."),
    "definitions.member.removed": _("%(actor)s removed %(member)s from the workshop."),
    "definitions.member.left": _("%(actor)s left the workshop."),
    "definitions.invitation.sent": _("%(actor)s invited %(email)s as %(role)s (%(department)s)."),
    "definitions.invitation.accepted": _(
        "%(actor)s accepted the invitation and joined as %(role)s (%(department)s)."
    ),
    "definitions.invitation.declined": _("%(actor)s declined the invitation."),
    "definitions.invitation.revoked": _("%(actor)s withdrew the invitation of %(email)s."),
    "definitions.field.added": _("%(actor)s added the custom field “%(label)s”."),
    "definitions.field.marked_after_outcome": _(
        "%(actor)s marked %(fields)s as known only after the outcome."
    ),
    "definitions.field.deleted": _("%(actor)s deleted the custom field “%(key)s”."),
    "definitions.activity_kind.added": _("%(actor)s added the activity kind “%(key)s”."),
    "definitions.activity_kind.deleted": _("%(actor)s deleted the activity kind “%(key)s”."),
    "definitions.proposal.created": _("%(actor)s started the draft “%(title)s”."),
    "definitions.proposal.saved": _(
        "%(actor)s saved the draft “%(title)s” (revision %(revision)s)."
    ),
    "definitions.version.published": _("%(actor)s published version v%(version)s."),
    "definitions.version.emergency_rollback": _(
        "%(actor)s made an emergency rollback: v%(restored)s is published again as "
        "v%(version)s, without a vote. Reason: %(reason)s"
    ),
    "definitions.proposal.rebased": _(
        "%(actor)s rebased the proposal “%(title)s” onto v%(version)s."
    ),
    "api.key.created": _("%(actor)s created the API key “%(name)s” (lw_%(prefix)s_…)."),
    "api.key.revoked": _("%(actor)s revoked the API key “%(name)s” (lw_%(prefix)s_…)."),
    "integrations.webhook.created": _("%(actor)s added the webhook %(url)s."),
    "integrations.webhook.updated": _("%(actor)s changed the webhook %(url)s."),
    "integrations.webhook.enabled": _("%(actor)s switched on the webhook %(url)s."),
    "integrations.webhook.disabled": _("%(actor)s switched off the webhook %(url)s."),
    "integrations.webhook.deleted": _("%(actor)s deleted the webhook %(url)s."),
    "integrations.webhook.auto_disabled": _(
        "The webhook %(url)s was switched off after a day of failed deliveries."
    ),
    "integrations.chat.updated": _("%(actor)s changed the chat notifications."),
}


def describe(entry: AuditLogEntry) -> str:

    template = MESSAGES.get(entry.action)
    if template is None:
        return labels.action_label(entry.action)
    params: dict[str, Any] = {"actor": entry.actor_name or _("Someone")}
    params.update({k: v for k, v in entry.data.items() if isinstance(v, str | int)})
    # Stored as codes so the log reads in each reader's language.
    if "role" in params:
        params["role"] = Role(params["role"]).label if params["role"] in Role else params["role"]
    if "department" in params:
        dep = params["department"]
        params["department"] = Department(dep).label if dep in Department else dep
    # A catalog entry is named by the label its admin gave it (logged since it was
    # stored); older entries have only the key.
    if entry.action.startswith(("definitions.activity_kind.", "definitions.field.")) and (
        params.get("label")
    ):
        params["key"] = params["label"]
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return labels.action_label(entry.action)
