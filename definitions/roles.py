"""Roles and departments, and the object permissions each role carries.

The permission codenames live on the Workshop model (Meta.permissions); this table is
the single place that says which role gets which, so granting stays in services.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin (facilitator)")
    STAKEHOLDER = "stakeholder", _("Stakeholder")
    SALES_REP = "sales_rep", _("Sales rep")
    VIEWER = "viewer", _("Viewer")


class Department(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    SALES = "sales", _("Sales")
    LEADERSHIP = "leadership", _("Leadership")
    OTHER = "other", _("Other")


# Codenames (app label "definitions") of the workshop-level object permissions.
VIEW = "view_workshop"
CHANGE = "change_workshop"
MANAGE_MEMBERS = "manage_members"
PROPOSE = "propose_definition"
VOTE = "vote"
COMMENT = "comment"
GIVE_FEEDBACK = "give_feedback"
IMPORT_LEADS = "import_leads"
PUBLISH = "publish_version"

ALL_PERMISSIONS: tuple[str, ...] = (
    VIEW,
    CHANGE,
    MANAGE_MEMBERS,
    PROPOSE,
    VOTE,
    COMMENT,
    GIVE_FEEDBACK,
    IMPORT_LEADS,
    PUBLISH,
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(ALL_PERMISSIONS),
    Role.STAKEHOLDER: frozenset({VIEW, PROPOSE, VOTE, COMMENT}),
    Role.SALES_REP: frozenset({VIEW, COMMENT, GIVE_FEEDBACK}),
    Role.VIEWER: frozenset({VIEW}),
}
