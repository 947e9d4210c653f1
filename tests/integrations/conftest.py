"""A real HTTP server on loopback that receives webhooks and chat messages, and the
settings that let the integrations reach it (plain http on a private address, which
production refuses)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    at: float  # time.monotonic() when it arrived
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What it was sent, in order; it answers with `statuses` in turn, then 200."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.requests)} of {count} requests arrived")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(
                    Received(time.monotonic(), self.path, dict(self.headers.items()), body)
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"nope")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver(url="")))
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/lead-workshop")
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback_allowed(settings: Any) -> Any:
    settings.INTEGRATIONS_ALLOW_HTTP = True
    settings.INTEGRATIONS_ALLOW_PRIVATE_ADDRESSES = True
    return settings


def publish_worked_example(admin: Any, workshop: Any, capture: Any) -> Any:
    """The worked example published as the next version, its events sent (the on-commit
    callbacks run), as each delivery test starts."""
    from definitions import rules
    from definitions.versions import services as version_services

    with capture(execute=True):
        return version_services.version_publish_document(
            actor=admin, workshop=workshop, document=rules.WORKED_EXAMPLE, parent=None
        )
