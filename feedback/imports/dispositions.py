"""Disposition columns: a CRM's lead status / disposition values → sales verdicts
(good, not a lead with a reason, or none), and who they are attributed to. The import
stages them in the temporary table ``import_verdicts`` and sends ``verdicts_staged``;
feedback.verdicts.imported writes them (it owns the verdicts and their tallies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.dispatch import Signal
from django.utils.translation import gettext as _

from definitions.models import Membership
from definitions.roles import Role
from feedback.imports import presets
from feedback.models import Reason, Verdict

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from definitions.models import Workshop

# sender=ImportJob (or "api"), cursor=<a cursor>, workshop=<Workshop>, file=<str>,
# column=<str>: the rows of ``import_verdicts`` are ready to be written, inside the
# import's transaction. Receivers return how many leads' verdict changed.
verdicts_staged = Signal()

# The account imported verdicts are attributed to when no rep is named: never able
# to sign in, and not a member of any workshop.
SYSTEM_REP = "crm-import"

GOOD, BAD, NONE = "good", "bad", "none"

TEMP = "import_verdicts"


@dataclass(frozen=True)
class Disposition:
    """What one value of a disposition column means: a verdict and reason, or none."""

    verdict: str | None  # Verdict.GOOD, Verdict.NOT_A_LEAD or None (no verdict)
    reason: str = ""


def parse_code(code: Any) -> Disposition | None:
    """A value map's target — "good", "bad", "bad:<reason>", null/"none" — or None if
    it is not one."""
    if code is None or code == NONE or code == "":
        return Disposition(None)
    if not isinstance(code, str):
        return None
    if code == GOOD:
        return Disposition(Verdict.GOOD)
    head, _sep, reason = code.partition(":")
    if head != BAD:
        return None
    reason = reason or Reason.OTHER
    if reason not in Reason.values:
        return None
    return Disposition(Verdict.NOT_A_LEAD, reason)


def form_code(disposition: Disposition) -> str:
    if disposition.verdict is None:
        return NONE
    if disposition.verdict == Verdict.GOOD:
        return GOOD
    return f"{BAD}:{disposition.reason}"


def code_choices() -> list[tuple[str, str]]:
    """The targets a disposition value can have, for the mapping page."""
    return [
        (NONE, _("no verdict")),
        (GOOD, _("good lead")),
        *(
            (f"{BAD}:{code}", _("not a lead: %(reason)s") % {"reason": label})
            for code, label in Reason.choices
        ),
    ]


def dispose(values: dict[str, Disposition], unmapped: Disposition, raw: str) -> Disposition:
    """What one cell means under a checked value map (keys already value_key-ed)."""
    return values.get(presets.value_key(raw), unmapped)


def system_rep() -> User:
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=SYSTEM_REP, defaults={"is_active": False, "first_name": "CRM import"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def rep_for(workshop: Workshop, named: str) -> int | None:
    """A member who judges leads (sales rep or admin), named by username, e-mail or
    full name as a CRM writes its owners; None when nobody matches."""
    named = named.strip()
    if not named:
        return None
    first, _sep, last = named.partition(" ")
    match = Q(user__username__iexact=named) | Q(user__email__iexact=named)
    if last:
        match |= Q(user__first_name__iexact=first, user__last_name__iexact=last.strip())
    found = (
        Membership.objects.filter(workshop=workshop, role__in=[Role.SALES_REP, Role.ADMIN])
        .filter(match)
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .first()
    )
    return int(found) if found is not None else None


def create_temp(cursor: Any) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {TEMP}")
    cursor.execute(
        f"CREATE TEMP TABLE {TEMP} (lead_id bigint PRIMARY KEY, rep_id integer,"
        " verdict text, reason text, value text)"
    )


def drop_temp(cursor: Any) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {TEMP}")
    cursor.execute("DROP TABLE IF EXISTS import_verdict_changes")
