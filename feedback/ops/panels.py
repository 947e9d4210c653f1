"""The workshop home's line about the background worker, through the definitions
app's page_context extension point (connected in feedback/apps.py)."""

from __future__ import annotations

from typing import Any

from feedback.ops.selectors import worker_status


def on_workshop_home(sender: str, **_kwargs: Any) -> dict[str, Any]:
    return {"worker": worker_status()}
