"""An API key for the acme workshop and a client that speaks JSON with it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from api import services
from definitions.models import Workshop

V1 = "/api/v1"


@dataclass
class Api:
    """A test client for /api/v1/ with one key (or none)."""

    token: str | None

    def call(
        self, method: str, path: str, body: Any = None, *, raw: bytes | str | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token is not None else {}
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        kwargs: dict[str, Any] = {"headers": headers}
        if data is not None:
            kwargs.update(data=data, content_type="application/json")
        return getattr(Client(), method)(f"{V1}{path}", **kwargs)

    def get(self, path: str) -> Any:
        return self.call("get", path)

    def put(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("put", path, body, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.call("post", path, body, **kw)


@pytest.fixture
def token(admin: Any, workshop: Workshop) -> str:
    _key, token = services.api_key_create(actor=admin, workshop=workshop, name="CRM sync")
    return token


@pytest.fixture
def acme(token: str) -> Api:
    return Api(token)


@pytest.fixture
def other_workshop(outsider: Any) -> Workshop:
    return Workshop.objects.get(slug="other")


@pytest.fixture
def other(outsider: Any, other_workshop: Workshop) -> Api:
    """A key of the outsider's workshop "other"."""
    _key, token = services.api_key_create(actor=outsider, workshop=other_workshop, name="Theirs")
    return Api(token)


def locs(response: Any) -> list[list[Any]]:
    """The error paths of a 422 answer."""
    assert response.status_code == 422, (response.status_code, response.content[:500])
    return [error["loc"] for error in response.json()["detail"]]
