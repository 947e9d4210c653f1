from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    # No models: an app only so that `manage.py seed_demo` is found.
    name = "demo"
    verbose_name = "Demo data"
