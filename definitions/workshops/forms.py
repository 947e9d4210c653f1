from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from definitions.models import (
    MAX_DECISION_DAYS,
    MAX_REVIEW_LEADS,
    MAX_SHADOW_DAYS,
    MIN_REVIEW_LEADS,
    HandoffStage,
)
from definitions.roles import Department, Role


class WorkshopForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.SlugField(
        label=_("Short name (for the address)"),
        max_length=60,
        required=False,
        help_text=_("Letters, digits and hyphens. Left empty, it is made from the name."),
    )
    description = forms.CharField(
        label=_("What is this workshop for?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        required=False,
    )
    department = forms.ChoiceField(
        label=_("Your department"), choices=Department.choices, initial=Department.MARKETING
    )


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_(
            "They get an invitation by e-mail and in the app, and become a member only "
            "if they accept."
        ),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.STAKEHOLDER)
    department = forms.ChoiceField(label=_("Department"), choices=Department.choices)


class MemberCreateForm(forms.Form):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        error_messages={"invalid": _("Use letters, digits and @/./+/-/_ only.")},
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"))
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(render_value=False),
        strip=False,
        help_text=_("Share it with them privately; they can change it after logging in."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.SALES_REP)
    department = forms.ChoiceField(label=_("Department"), choices=Department.choices)


class MemberUpdateForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    department = forms.ChoiceField(label=_("Department"), choices=Department.choices)


class EvaluationSettingsForm(forms.Form):
    """How backtests judge historical leads and where the measures cut."""

    handoff_stage = forms.ChoiceField(
        label=_("Leads go to sales from this stage"),
        choices=HandoffStage.choices,
        help_text=_(
            "The accuracy headline, the reps' queue and the comparison of backtests "
            "measure at this stage."
        ),
    )
    decision_days = forms.IntegerField(
        label=_("Judge each historical lead this many days after it was created"),
        min_value=0,
        max_value=MAX_DECISION_DAYS,
        help_text=_(
            "Backtests see only what was known by then: later activities do not count, "
            "and “in the last N days” counts back from that day. Changing it makes "
            "earlier backtests out of date."
        ),
    )
    shadow_days = forms.IntegerField(
        label=_("A shadow run stops after this many days"),
        # Left empty, the setting stays as it is.
        required=False,
        min_value=1,
        max_value=MAX_SHADOW_DAYS,
        help_text=_(
            "A proposal run in shadow classifies every new lead next to the published "
            "version until it is published, withdrawn or rejected, or for this long."
        ),
    )
    review_min_leads = forms.IntegerField(
        label=_("Review a published version once this many leads are decided"),
        min_value=MIN_REVIEW_LEADS,
        max_value=MAX_REVIEW_LEADS,
        # Left empty (as by a form from before this setting), it stays as it is.
        required=False,
        help_text=_(
            "Leads that arrived after the version went live and have an outcome or a "
            "rep's verdict. Then members are told how it did against its backtest."
        ),
    )
