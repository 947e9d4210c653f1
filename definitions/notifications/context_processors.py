from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from definitions.notifications.selectors import unread_count


def inbox(request: HttpRequest) -> dict[str, Any]:
    """The unread count in the header: one indexed COUNT per page, and only when a
    template asks for it (lazy)."""
    return {"unread_notifications": lambda: unread_count(request.user)}
