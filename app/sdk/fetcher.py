"""The fetcher: the one choke point every request of an ``App`` goes through.

It owns all request policy (STYLE rule 8, realm-web ``Fetcher.ts``):

1. Location: discovered once per app with ``GET {base_url}/…/location``; the answer is cached,
   concurrent first requests share one discovery, and a failure clears the cache so the next
   request tries again. Every other URL is ``hostname + path``.
2. Bearer token by ``token_type``: ``"access"``, ``"refresh"`` or ``"none"``, always taken from
   the *specific* user the request is for, never from whoever is current.
3. Access requests refresh first when the access token expires within ``EXPIRY_LEEWAY``
   seconds, and after a 401 ``InvalidSession`` (or ``error == "unauthorized"``) they refresh
   once and retry once. There is no loop.
4. Concurrent refreshes of one user share one in-flight task, and an optional ``RefreshLock``
   extends that across browser tabs: the refresh runs under a lock named for the user, and a
   tab that finds a fresh token in storage once it holds the lock (another tab refreshed) uses
   it instead of refreshing again.
5. A 401 on a refresh-token request clears both tokens: the user is logged out.
6. No response at all is ``AppError(NETWORK_ERROR, status=0)`` and never touches tokens.
7. Bodies go out as canonical EJSON; JSON answers come back EJSON-decoded; a 2xx without a
   content type is ``None``.

Standard library only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol, TypeVar

from . import ejson, routes
from .errors import AppError, ErrorCode
from .http import Request, Response, Transport
from .tokens import is_expiring, parse_access_token

T = TypeVar("T")
TokenType = Literal["access", "refresh", "none"]


class RefreshLock(Protocol):
    """Runs a refresh exclusively among every client sharing one storage (browser tabs)."""

    async def run(self, name: str, work: Callable[[], Awaitable[str]]) -> str:
        """Run ``work()`` while holding the lock called ``name`` and return its result."""
        ...


class NoLock:
    """The default: one process, nothing to share a lock with."""

    async def run(self, name: str, work: Callable[[], Awaitable[str]]) -> str:
        """Run ``work()`` at once."""
        return await work()


class SessionHolder(Protocol):
    """What the fetcher needs from a user: its tokens and two ways to change them."""

    @property
    def id(self) -> str:
        """The user id."""
        ...

    @property
    def access_token(self) -> str | None:
        """The access token, ``None`` when there is none."""
        ...

    @property
    def refresh_token(self) -> str | None:
        """The refresh token; ``None`` means the user is logged out."""
        ...

    def _set_access_token(self, token: str) -> None:
        """Store a refreshed access token (written through)."""
        ...

    def _end_session(self) -> None:
        """Forget both tokens: the user is logged out."""
        ...

    def _stored_access_token(self) -> str | None:
        """The access token in storage now, which another tab may have refreshed."""
        ...


def _keep(body: Any) -> Any:
    return body


class Fetcher:
    """Sends requests for one app through one transport; see the module rules."""

    def __init__(
        self,
        app_id: str,
        base_url: str,
        transport: Transport,
        *,
        clock: Callable[[], float] = time.time,
        lock: RefreshLock | None = None,
    ) -> None:
        self.app_id = app_id
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self._clock = clock
        self._lock: RefreshLock = lock or NoLock()
        self._hostname: str | None = None
        self._discovery: asyncio.Future[str] | None = None
        self._refreshes: dict[str, asyncio.Future[str]] = {}

    async def fetch(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        token_type: TokenType = "none",
        user: SessionHolder | None = None,
        parse: Callable[[Any], T] = _keep,
    ) -> T:
        """Send one request to ``hostname + path`` and return ``parse(decoded body)``.

        ``parse`` raises ``ValueError`` for an unusable body; that becomes an ``AppError``.
        """
        request, response = await self._exchange(method, path, body, token_type, user)
        return self._interpret(request, response, parse)

    async def fetch_response(
        self,
        method: str,
        path: str,
        *,
        token_type: TokenType = "none",
        user: SessionHolder | None = None,
    ) -> Response:
        """Like ``fetch``, but return the whole 2xx ``Response`` (for its headers)."""
        request, response = await self._exchange(method, path, None, token_type, user)
        if not response.ok:
            raise AppError.from_response(request, response)
        return response

    async def _exchange(self, method: str, path: str, body: object, token_type: TokenType,
                        user: SessionHolder | None) -> tuple[Request, Response]:
        if token_type == "none":
            request = await self._build(method, path, body, None)
            return request, await self._send(request)
        if user is None:
            raise ValueError(f"A request with the {token_type} token needs a user.")
        if token_type == "refresh":
            return await self._exchange_with_refresh(method, path, body, user)
        return await self._exchange_with_access(method, path, body, user)

    async def _exchange_with_refresh(
        self, method: str, path: str, body: object, user: SessionHolder
    ) -> tuple[Request, Response]:
        request = await self._build(method, path, body, _logged_in(user).refresh_token)
        response = await self._send(request)
        if response.status == 401:
            error = AppError.from_response(request, response)
            user._end_session()
            raise error
        return request, response

    async def _exchange_with_access(
        self, method: str, path: str, body: object, user: SessionHolder
    ) -> tuple[Request, Response]:
        token = await self._usable_access_token(user)
        request = await self._build(method, path, body, token)
        response = await self._send(request)
        if _is_invalid_session(response):
            # Refresh once and retry once, with this same user: the current user may have
            # changed in the meantime. A second rejection is returned as it is, so a server
            # that keeps refusing fresh tokens cannot make the client loop.
            if user.access_token == token:
                await self.refresh_access_token(user)
            request = await self._build(method, path, body, _logged_in(user).access_token)
            response = await self._send(request)
        return request, response

    async def _usable_access_token(self, user: SessionHolder) -> str:
        token = _logged_in(user).access_token
        if token is None or is_expiring(token, now=self._clock()):
            return await self.refresh_access_token(user)
        return token

    async def refresh_access_token(self, user: SessionHolder) -> str:
        """Get a new access token with the user's refresh token, sharing a refresh in flight."""
        _logged_in(user)
        shared = self._refreshes.get(user.id)
        if shared is None:
            shared = asyncio.ensure_future(self._refresh(user))
            self._refreshes[user.id] = shared
            shared.add_done_callback(lambda done: self._refresh_done(user.id, done))
        # Shield the shared task: one caller giving up must not cancel the others' refresh.
        return await asyncio.shield(shared)

    async def _refresh(self, user: SessionHolder) -> str:
        stale = user.access_token

        async def work() -> str:
            stored = user._stored_access_token()
            if stored and stored != stale and not is_expiring(stored, now=self._clock()):
                # Another tab refreshed while this one waited for the lock: use its token.
                user._set_access_token(stored)
                return stored
            token = await self.fetch(
                "POST", routes.session(), token_type="refresh", user=user,
                parse=parse_access_token,
            )
            user._set_access_token(token)
            return token

        return await self._lock.run(f"latchkey:{self.app_id}:refresh:{user.id}", work)

    def _refresh_done(self, user_id: str, done: asyncio.Future[str]) -> None:
        if self._refreshes.get(user_id) is done:
            del self._refreshes[user_id]
        if not done.cancelled():
            done.exception()  # Mark it retrieved even when every waiter was cancelled.

    async def location_url(self) -> str:
        """The ``hostname`` every request goes to, discovered once per app."""
        if self._hostname is not None:
            return self._hostname
        if self._discovery is None:
            self._discovery = asyncio.ensure_future(self._discover())
            self._discovery.add_done_callback(self._discovery_done)
        return await asyncio.shield(self._discovery)

    async def _discover(self) -> str:
        request = Request("GET", self.base_url + routes.location(self.app_id), _headers(None, None))
        return self._interpret(request, await self._send(request), _parse_hostname)

    def _discovery_done(self, done: asyncio.Future[str]) -> None:
        self._discovery = None
        if not done.cancelled() and done.exception() is None:
            self._hostname = done.result()

    async def _build(self, method: str, path: str, body: object, token: str | None) -> Request:
        text = None if body is None else ejson.dumps(body)
        url = await self.location_url() + path
        return Request(method, url, _headers(text, token), text)

    async def _send(self, request: Request) -> Response:
        try:
            return await self.transport.send(request)
        except Exception as exc:
            raise AppError.network(request, str(exc) or type(exc).__name__) from exc

    def _interpret(self, request: Request, response: Response, parse: Callable[[Any], T]) -> T:
        if not response.ok:
            raise AppError.from_response(request, response)
        try:
            return parse(decode_body(response))
        except ValueError as exc:
            raise AppError.bad_response(request, response, str(exc)) from exc


def decode_body(response: Response) -> Any:
    """The EJSON-decoded body of a 2xx response; ``None`` when it has no content type.

    Raises ``ValueError`` for a content type other than JSON or a body that is not JSON.
    """
    content_type = response.content_type
    if not content_type:
        return None
    if not content_type.startswith("application/json"):
        raise ValueError(f'Expected JSON response, got "{content_type}"')
    if not response.body:
        return None
    return ejson.loads(response.body)


def _headers(body: str | None, token: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _logged_in(user: SessionHolder) -> SessionHolder:
    if user.refresh_token is None:
        raise ValueError(f"The user {user.id} is logged out; log in again to make requests.")
    return user


def _is_invalid_session(response: Response) -> bool:
    if response.status != 401:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    return body.get("error_code") == ErrorCode.INVALID_SESSION.value or (
        body.get("error") == "unauthorized"
    )


def _parse_hostname(body: Any) -> str:
    hostname = body.get("hostname") if isinstance(body, dict) else None
    if not isinstance(hostname, str) or not hostname:
        raise ValueError("Expected response to contain a 'hostname'")
    return hostname.rstrip("/")
