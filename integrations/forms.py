from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from integrations.events import WEBHOOK_EVENTS
from integrations.services import DESCRIPTION_MAX, URL_MAX


class EndpointForm(forms.Form):
    # A CharField, not a URLField: the service checks the URL (scheme, address) and
    # says exactly what is wrong with it.
    url = forms.CharField(
        label=_("URL"),
        max_length=URL_MAX,
        help_text=_("Where events are sent, e.g. https://crm.example.com/hooks/lead-workshop."),
    )
    description = forms.CharField(
        label=_("Description"), max_length=DESCRIPTION_MAX, required=False
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(name, label) for name, label in WEBHOOK_EVENTS.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class ChatSettingsForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Workshop language"),
        choices=settings.LANGUAGES,
        help_text=_("Chat messages are written in this language."),
    )
    slack_url = forms.CharField(
        label=_("Slack incoming-webhook URL"),
        max_length=URL_MAX,
        required=False,
        help_text=_("Leave empty to keep the stored one."),
    )
    slack_remove = forms.BooleanField(label=_("Stop posting to Slack"), required=False)
    teams_url = forms.CharField(
        label=_("Microsoft Teams incoming-webhook URL"),
        max_length=URL_MAX,
        required=False,
        help_text=_("Leave empty to keep the stored one."),
    )
    teams_remove = forms.BooleanField(label=_("Stop posting to Microsoft Teams"), required=False)
