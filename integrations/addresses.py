"""Outbound HTTP to addresses people typed in, without server-side request forgery.

A webhook or chat URL could name the internal network (the database, the metadata
service at 169.254.169.254, localhost). So the host is resolved and every address it
resolves to must be public: private, loopback, link-local, shared, multicast,
reserved and unspecified addresses are refused unless INTEGRATIONS_ALLOW_PRIVATE_ADDRESSES
is on (tests and on-premises receivers). The check runs when the URL is saved and
again at each delivery, and the connection goes to the very address that was checked
(not to a second lookup, which a rebinding DNS server could answer differently).
Redirects are not followed. Plain http is refused unless INTEGRATIONS_ALLOW_HTTP.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_RESPONSE_BYTES = 4096


class AddressRefused(Exception):
    """The URL may not be called; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP address the connection goes to


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(url: str) -> Target:
    """The checked target of `url`, or AddressRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(_("This is not a valid URL.")) from exc
    allowed = {"https", "http"} if settings.INTEGRATIONS_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        raise AddressRefused(_("The URL must start with https://."))
    if parts.username or parts.password:
        raise AddressRefused(_("The URL must not contain a user name or password."))
    host = parts.hostname
    if not host:
        raise AddressRefused(_("The URL has no host name."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(
            _("The host name “%(host)s” could not be resolved.") % {"host": host}
        ) from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise AddressRefused(_("The host name “%(host)s” could not be resolved.") % {"host": host})
    if not settings.INTEGRATIONS_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            if not _is_public(address):
                raise AddressRefused(
                    _(
                        "“%(host)s” is a private, loopback or reserved address (%(address)s); "
                        "only public addresses can receive events."
                    )
                    % {"host": host, "address": address}
                )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, str(addresses[0]))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the address.
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` after the address check; AddressRefused, or OSError for a
    network failure (refused connection, timeout, TLS)."""
    target = resolve(url)
    timeout = float(settings.INTEGRATIONS_TIMEOUT_SECONDS)
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout)
        if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout)
    )
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
        return Answer(response.status, text)
    except http.client.HTTPException as exc:
        raise OSError(f"bad HTTP answer: {type(exc).__name__}") from exc
    finally:
        connection.close()
