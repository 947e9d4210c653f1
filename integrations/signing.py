"""The signature a receiver checks: HMAC-SHA256 of `<timestamp>.<body>` under the
endpoint's secret, sent as `LeadWorkshop-Signature: t=<timestamp>,v1=<hex>` (the
layout Stripe uses, so receivers may reuse their code). docs/webhooks.md shows the
check in Python."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "LeadWorkshop-Signature"
EVENT_ID_HEADER = "LeadWorkshop-Event-Id"
EVENT_HEADER = "LeadWorkshop-Event"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (used by the tests, and the docs' snippet says the same)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, parts.get("v1", ""))
