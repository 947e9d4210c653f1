from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def accounts(request: HttpRequest) -> dict[str, Any]:
    """Whether this deployment has local passwords (the header's "Change password")."""
    return {"local_passwords": settings.LOCAL_PASSWORDS}
