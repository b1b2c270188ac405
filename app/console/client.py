"""``AdminClient``: the console's one way to the Admin API v3.0, over the SDK's ``Transport``.

```python
client = AdminClient(origin, transport=FetchTransport(), storage=session_storage)
await client.log_in(public_key, private_key)
page = await client.users(status="disabled", limit=51)
```

Rules that must hold (the SDK fetcher's, STYLE rule 8, for admin tokens):

1. The admin session (tokens, the group and app ids) lives in the ``Storage`` it is given, which
   the page backs with ``sessionStorage``: it ends with the tab, and other tabs never see it.
2. A 401 on a call made with the access token refreshes once (concurrent calls share the one
   refresh) and retries that call once. A refused refresh, or a 401 again, ends the session here:
   the storage is cleared, ``on_signed_out`` runs, and the call raises ``SessionEnded``.
3. Every failure is an ``AppError`` (``AppError.from_response``, or ``NETWORK_ERROR``); no token
   goes into an error, a log line or a URL.

Standard library and ``app.sdk`` only, so the same code runs under CPython in the tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from app.sdk import routes
from app.sdk.errors import AppError, ErrorCode
from app.sdk.http import Request, Response, Transport
from app.sdk.storage import Storage

from . import paths

SESSION_KEY = "session"


class SessionEnded(AppError):
    """The admin session ended (refresh refused): the console is signed out."""


@dataclass(frozen=True)
class AdminSession:
    """A signed-in admin: tokens, the public key it signed in with, and the app it manages."""

    access_token: str
    refresh_token: str
    public_key: str
    group_id: str
    app_object_id: str
    client_app_id: str
    app_name: str

    def with_access(self, token: str) -> AdminSession:
        """The same session with a new access token."""
        return AdminSession(**{**asdict(self), "access_token": token})


def _load(storage: Storage) -> AdminSession | None:
    raw = storage.get(SESSION_KEY)
    if raw is None:
        return None
    try:
        return AdminSession(**json.loads(raw))
    except (TypeError, ValueError):
        # Unreadable or from another version: sign in again rather than break the page.
        storage.remove(SESSION_KEY)
        return None


class AdminClient:
    """The Admin API of one server for one admin at a time; see the module docstring."""

    def __init__(self, base_url: str, *, transport: Transport, storage: Storage,
                 on_signed_out: Callable[[], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.storage = storage
        self.on_signed_out = on_signed_out
        self.session = _load(storage)
        self._refreshing: asyncio.Future[str] | None = None

    # The session ---------------------------------------------------------------------------

    async def log_in(self, public_key: str, private_key: str) -> AdminSession:
        """Sign in with an admin key, then find the group and the app this server serves."""
        body = {"username": public_key, "apiKey": private_key}
        tokens = await self._send("POST", paths.LOGIN, body=body, token=None)
        access, refresh = str(tokens["access_token"]), str(tokens["refresh_token"])
        profile = await self._send("GET", paths.PROFILE, token=access)
        group = str(profile["roles"][0]["group_id"])
        apps = await self._send("GET", paths.fill(paths.APPS, group_id=group), token=access)
        app = apps[0]
        self.session = AdminSession(access, refresh, public_key, group, str(app["_id"]),
                                    str(app["client_app_id"]), str(app["name"]))
        self._save()
        return self.session

    async def log_out(self) -> None:
        """End the admin session on the server (best effort) and here."""
        session = self.session
        self._forget()
        if session is not None:
            try:
                await self._send("DELETE", paths.SESSION, token=session.refresh_token)
            except AppError:
                pass  # Signed out here either way; the server's session expires by itself.

    def _save(self) -> None:
        if self.session is not None:
            self.storage.set(SESSION_KEY, json.dumps(asdict(self.session)))

    def _forget(self) -> None:
        self.session = None
        self.storage.remove(SESSION_KEY)

    # Requests ------------------------------------------------------------------------------

    async def _send(self, method: str, path: str, *, body: Any = None, token: str | None,
                    query: dict[str, str] | None = None) -> Any:
        response, request = await self._raw(method, path, body=body, token=token, query=query)
        if not response.ok:
            raise AppError.from_response(request, response)
        return response.json()

    async def _raw(self, method: str, path: str, *, body: Any = None, token: str | None,
                   query: dict[str, str] | None = None) -> tuple[Response, Request]:
        url = self.base_url + path
        kept = {k: v for k, v in (query or {}).items() if v not in ("", None)}
        if kept:
            url += "?" + urlencode(kept)
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        text = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            text = json.dumps(body)
        request = Request(method, url, headers, text)
        try:
            return await self.transport.send(request), request
        except Exception as exc:
            raise AppError.network(request, str(exc) or type(exc).__name__) from exc

    async def call(self, method: str, template: str, *, body: Any = None,
                   query: dict[str, str] | None = None, missing_ok: bool = False,
                   **ids: str) -> Any:
        """One Admin API call for this app with the access token (``template`` from ``paths``,
        filled with the session's group and app and ``ids``). ``missing_ok``: ``None`` for a
        404 instead of an error (routes an older server does not have)."""
        session = self._require()
        path = paths.fill(template, group_id=session.group_id,
                          app_object_id=session.app_object_id, **ids)
        response, request = await self._raw(method, path, body=body, query=query,
                                             token=session.access_token)
        if response.status == 401:
            token = await self._refresh()
            response, request = await self._raw(method, path, body=body, query=query,
                                                token=token)
            if response.status == 401:
                self._end()
                raise SessionEnded.from_response(request, response)
        if missing_ok and response.status == 404:
            return None
        if not response.ok:
            raise AppError.from_response(request, response)
        return response.json()

    def _require(self) -> AdminSession:
        if self.session is None:
            raise SessionEnded("Not signed in.", code=ErrorCode.INVALID_SESSION, status=401)
        return self.session

    async def _refresh(self) -> str:
        # Concurrent calls that all got a 401 share one refresh, as the SDK's fetcher does.
        if self._refreshing is None:
            self._refreshing = asyncio.ensure_future(self._do_refresh())
        task = self._refreshing
        try:
            return await task
        finally:
            if self._refreshing is task:
                self._refreshing = None

    async def _do_refresh(self) -> str:
        session = self._require()
        response, request = await self._raw("POST", paths.SESSION,
                                            token=session.refresh_token)
        body = response.json() if response.ok else None
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            self._end()
            raise SessionEnded.from_response(request, response)
        self.session = session.with_access(body["access_token"])
        self._save()
        return self.session.access_token

    def _end(self) -> None:
        self._forget()
        if self.on_signed_out is not None:
            self.on_signed_out()

    # Users ---------------------------------------------------------------------------------

    async def users(self, *, status: str = "", provider_types: str = "", after: str = "",
                    limit: int = 50) -> list[dict[str, Any]]:
        """A page of users in id order, after the id ``after``."""
        query = {"status": status, "provider_types": provider_types, "after": after,
                 "limit": str(limit)}
        return list(await self.call("GET", paths.USERS, query=query))

    async def search(self, text: str, limit: int = 50) -> list[dict[str, Any]]:
        """Users by id, or by the start of their email address."""
        return list(await self.call("GET", paths.USER_SEARCH,
                                    query={"q": text, "limit": str(limit)}))

    async def user(self, user_id: str) -> dict[str, Any]:
        """One user."""
        return dict(await self.call("GET", paths.USER, user_id=user_id))

    async def devices(self, user_id: str) -> list[dict[str, Any]]:
        """The user's devices, with their live sessions."""
        return list(await self.call("GET", paths.USER_DEVICES, user_id=user_id))

    async def api_keys(self, user_id: str) -> list[dict[str, Any]]:
        """The user's API keys (names and states, never the keys)."""
        return list(await self.call("GET", paths.USER_API_KEYS, user_id=user_id))

    async def custom_data(self, user_id: str) -> dict[str, Any]:
        """The user's custom user data document (``{}`` when none)."""
        return dict(await self.call("GET", paths.USER_CUSTOM_DATA, user_id=user_id))

    async def set_custom_data(self, user_id: str, document: dict[str, Any]) -> None:
        """Replace the user's custom user data document."""
        await self.call("PUT", paths.USER_CUSTOM_DATA, body=document, user_id=user_id)

    async def set_disabled(self, user_id: str, disabled: bool) -> None:
        """Disable (ending its sessions) or enable a user."""
        template = paths.USER_DISABLE if disabled else paths.USER_ENABLE
        await self.call("PUT", template, user_id=user_id)

    async def revoke_sessions(self, user_id: str) -> None:
        """End every session of a user."""
        await self.call("PUT", paths.USER_LOGOUT, user_id=user_id)

    async def reset_factors(self, user_id: str) -> None:
        """Remove a user's authenticator and recovery codes (its passkeys stay)."""
        await self.call("DELETE", paths.USER_FACTORS, user_id=user_id)

    async def delete_user(self, user_id: str) -> None:
        """Delete a user for good."""
        await self.call("DELETE", paths.USER, user_id=user_id)

    # Pending registrations -----------------------------------------------------------------

    async def pending(self, *, after: str = "", limit: int = 50) -> list[dict[str, Any]]:
        """Unconfirmed email/password registrations in id order."""
        return list(await self.call("GET", paths.PENDING_USERS,
                                    query={"after": after, "limit": str(limit)}))

    async def confirm_pending(self, email: str) -> None:
        """Confirm a registration by its address."""
        await self.call("POST", paths.BY_EMAIL_CONFIRM, email=email)

    async def rerun_confirmation(self, email: str) -> None:
        """Send the confirmation mail again (or run the confirmation function)."""
        await self.call("POST", paths.BY_EMAIL_RUN_CONFIRM, email=email)

    async def delete_pending(self, email: str) -> None:
        """Delete a registration nobody logged in with yet."""
        await self.call("DELETE", paths.BY_EMAIL, email=email)

    async def send_reset(self, email: str) -> None:
        """Mail the user a password reset link, as "Forgot your password?" does (client API)."""
        session = self._require()
        await self._send("POST", routes.userpass(session.client_app_id, routes.USERPASS_RESET_SEND),
                         body={"email": email}, token=None)

    # The audit log (None when the server has none) -----------------------------------------

    async def audit_events(self, *, user_id: str = "", before: str = "",
                           limit: int = 50) -> list[dict[str, Any]] | None:
        """Audit events, newest first, of one user (or all)."""
        query = {"user_id": user_id, "before": before, "limit": str(limit)}
        found = await self.call("GET", paths.AUDIT_LOG, query=query, missing_ok=True)
        return None if found is None else list(found)

    async def audit_stats(self, *, days: int = 30, hours: int = 48) -> dict[str, Any] | None:
        """Sign-ins and sign-ups per day, failed logins per hour."""
        found = await self.call("GET", paths.AUDIT_STATS, missing_ok=True,
                                query={"days": str(days), "hours": str(hours)})
        return None if found is None else dict(found)
