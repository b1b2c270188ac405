"""Test helpers that run in both CPython and Pyodide: the standard library and the public SDK only.

No pytest, no httpx, no server imports here: the browser suite loads this module together with
``scenarios.py``. The transports below wrap a *real* transport; they never invent responses.

- ``SpyTransport`` passes every request through and records it with its real response.
- ``SwitchableTransport`` raises ``OSError`` while ``offline`` is set, like a dropped network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.sdk import Request, Response, Storage, Transport


class SpyTransport:
    """Records each request and the real response the wrapped transport got for it.

    ```python
    spy = SpyTransport()
    app = make_app(wrap=spy.around)
    await app.log_in(Credentials.anonymous())
    assert spy.calls() == [("GET", ".../location"), ("POST", ".../login"), ("GET", ".../profile")]
    ```
    """

    def __init__(self, inner: Transport | None = None) -> None:
        self.inner = inner
        self.requests: list[Request] = []
        self.responses: list[Response] = []

    def around(self, inner: Transport) -> SpyTransport:
        """Wrap ``inner`` and return this spy (use as ``make_app(wrap=spy.around)``)."""
        self.inner = inner
        return self

    async def send(self, request: Request) -> Response:
        if self.inner is None:
            raise RuntimeError("The SpyTransport wraps no transport; call around() first.")
        self.requests.append(request)
        response = await self.inner.send(request)
        self.responses.append(response)
        return response

    def calls(self) -> list[tuple[str, str]]:
        """``(method, path)`` of every recorded request, query string included."""
        return [(r.method, _path(r.url)) for r in self.requests]

    def count(self, method: str | None = None, path_suffix: str = "") -> int:
        """How many recorded requests match the method and end with ``path_suffix``."""
        return sum(
            1
            for m, p in self.calls()
            if (method is None or m == method) and p.split("?")[0].endswith(path_suffix)
        )

    def clear(self) -> None:
        """Forget what was recorded."""
        self.requests.clear()
        self.responses.clear()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class SwitchableTransport:
    """Passes requests through, or raises ``OSError`` while ``offline`` is true."""

    def __init__(self, inner: Transport | None = None, *, offline: bool = False) -> None:
        self.inner = inner
        self.offline = offline
        self.refused = 0

    def around(self, inner: Transport) -> SwitchableTransport:
        """Wrap ``inner`` and return this transport."""
        self.inner = inner
        return self

    async def send(self, request: Request) -> Response:
        if self.offline or self.inner is None:
            self.refused += 1
            raise OSError("the network is down (simulated)")
        return await self.inner.send(request)


@dataclass
class ScenarioContext:
    """What a scenario knows about the server it runs against."""

    app_id: str
    base_url: str
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    _counter: int = 0

    def unique_email(self, label: str = "user") -> str:
        """A fresh address at example.com (auto-confirmed by the demo app)."""
        self._counter += 1
        return f"{label}-{self.run_id}-{self._counter}@example.com"


def foreign_jwt(claims: dict[str, Any], key: bytes = b"not-the-server-key") -> str:
    """An HS256 JWT signed with a key the server does not know."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def expired_token(user_id: str) -> str:
    """A foreign access token for ``user_id`` whose ``exp`` is an hour in the past."""
    now = int(time.time())
    return foreign_jwt({"sub": user_id, "iat": now - 7200, "exp": now - 3600})


def bogus_unexpired_token(user_id: str) -> str:
    """A foreign access token that looks valid for an hour: only the server can tell."""
    now = int(time.time())
    return foreign_jwt({"sub": user_id, "iat": now, "exp": now + 3600})


def user_key(app_id: str, user_id: str, name: str) -> str:
    """A storage key of protocol section 12, e.g. ``app(x):user(y):accessToken``."""
    return f"app({app_id}):user({user_id}):{name}"


def plant(storage: Storage, app_id: str, user_id: str, name: str, value: str) -> None:
    """Overwrite one stored value of a user, as if another tab or a stale session had."""
    storage.set(user_key(app_id, user_id, name), value)


async def raises(expected: type[BaseException], awaitable: Any) -> Any:
    """Await ``awaitable`` and return the ``expected`` exception it raised (fail otherwise)."""
    try:
        await awaitable
    except expected as exc:
        return exc
    raise AssertionError(f"Expected {expected.__name__} to be raised.")


def must_raise(expected: type[BaseException], fn: Any, *args: Any) -> Any:
    """Call ``fn(*args)`` and return the ``expected`` exception it raised (fail otherwise)."""
    try:
        fn(*args)
    except expected as exc:
        return exc
    raise AssertionError(f"Expected {expected.__name__} to be raised.")
