from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DefinitionsConfig(AppConfig):
    name = "definitions"
    verbose_name = _("Definitions")

    def ready(self) -> None:
        from leadworkshop import checks  # noqa: F401  (registers the system checks)
