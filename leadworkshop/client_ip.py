"""The client's address, as far as this deployment can trust it.

Behind N reverse proxies (TRUSTED_PROXY_COUNT), each proxy appends the address it
received the request from to X-Forwarded-For, so the client is the N-th entry from
the right; anything further left was written by the client and can be forged. With
no proxy (the default) only the socket's REMOTE_ADDR is used and X-Forwarded-For is
ignored: trusting it there would let anyone pick the address a lock-out counts.

This is the rule MDN documents for X-Forwarded-For. django-ipware was tried first: its
proxy count reads the proxies' own addresses into the header, and with one proxy it
returned an entry the client had written, so it is not used.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies: int = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if len(forwarded) < proxies:
        # The request did not pass through every proxy we were told about: the header
        # (if any) came from the client, so fall back to the socket.
        return remote
    return _valid(forwarded[-proxies]) or remote
