"""The bridge between ``static/embed.js`` and the SDK, for pages on other origins.

``embed.js`` loads Pyodide from our server, copies the SDK and this module into Pyodide's file
system and creates one ``Bridge``. Every JavaScript call arrives as ``await bridge.call(name,
args_json)`` and gets a JSON string back, so nothing crosses the FFI but strings: no proxy to
leak, and JavaScript gets plain objects with ``JSON.parse``. Errors come back as
``{"ok": false, "code", "message", "detail"}``, where ``message`` is a sentence for people
(``app.messages.friendly``) and ``detail`` the SDK's own text.

Only the browser adapters touch ``js``; this module does not import it, so it imports (and is
tested) under CPython with any transport and storage.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from app.embed_factors import factor_calls
from app.messages import email_problem, friendly, provider_name, state_name, user_label
from app.sdk import App, AppError, Credentials, Storage, Transport, User

Notify = Callable[[str], object]


def user_json(user: User, current: User | None = None) -> dict[str, Any]:
    """What JavaScript sees of a user (camelCase, JSON only)."""
    try:
        custom = user.custom_data
    except ValueError:
        custom = {}
    return {
        "id": user.id,
        "label": user_label(user),
        "email": user.profile.email,
        "name": user.profile.name,
        "providerType": user.provider_type,
        "provider": provider_name(user.provider_type),
        "state": user.state.value,
        "stateText": state_name(user.state),
        "isCurrent": user is current,
        "identities": [{"id": i.id, "providerType": i.provider_type} for i in user.identities],
        "profile": user.profile.data,
        "customData": custom,
    }


def _credentials(kind: str, *args: Any) -> Credentials:
    makers: dict[str, Callable[..., Credentials]] = {
        "anonymous": lambda: Credentials.anonymous(),
        "emailPassword": Credentials.email_password,
        "apiKey": Credentials.api_key,
        "jwt": Credentials.jwt,
        "function": Credentials.function,
    }
    if kind not in makers:
        raise ValueError(f"Unknown login kind {kind!r}; use one of {', '.join(makers)}.")
    return makers[kind](*args)


_ACTIONS = {"logIn": "login", "register": "register", "sendResetPasswordEmail": "forgot",
            "callFunction": "function", "logOut": "logout", "refreshCustomData": "refresh",
            "resendConfirmationEmail": "resend", "deleteUser": "delete", "removeUser": "remove"}

#: Calls whose first argument is an email address: an empty or malformed one is refused with
#: the page's own words before any request.
_EMAIL_FIRST = ("register", "sendResetPasswordEmail", "resendConfirmationEmail")


def _check_email(email: Any) -> None:
    problem = email_problem(email.strip() if isinstance(email, str) else "")
    if problem is not None:
        raise ValueError(problem)


class Bridge:
    """The SDK as ``embed.js`` sees it: named calls with JSON arguments and JSON answers.

    ```python
    bridge = Bridge("latchkey-demo", "https://auth.example.com", notify=print,
                    transport=FetchTransport(), storage=LocalStorage())
    await bridge.call("logIn", '["anonymous"]')   # '{"ok": true, "value": {...}}'
    ```
    """

    def __init__(self, app_id: str, base_url: str, notify: Notify, *, transport: Transport,
                 storage: Storage, refresh_lock: Any = None) -> None:
        self._app_id, self._base_url, self._notify = app_id, base_url, notify
        self._transport, self._storage = transport, storage
        self._refresh_lock = refresh_lock
        self._sent: str | None = None
        self._app = self._new_app()
        self._calls: dict[str, Callable[..., Awaitable[Any]]] = {
            "logIn": self._log_in,
            "register": self._register,
            "sendResetPasswordEmail": self._send_reset,
            "currentUser": self._current_user,
            "allUsers": self._all_users,
            "switchUser": self._switch_user,
            "logOut": self._log_out,
            "removeUser": self._remove_user,
            "callFunction": self._call_function,
            "refreshCustomData": self._refresh_custom_data,
            "resendConfirmationEmail": self._resend_confirmation,
            "deleteUser": self._delete_user,
            "authProviders": self._auth_providers,
        }
        #: Passkeys and second factors (issue 14): ``app.embed_factors``.
        self.authenticator: Any = None
        self._calls.update(factor_calls(self))

    def _new_app(self) -> App:
        app = App(self._app_id, base_url=self._base_url, transport=self._transport,
                  storage=self._storage, refresh_lock=self._refresh_lock)
        app.add_listener(lambda event: self.changed())
        return app

    def state(self) -> dict[str, Any]:
        """The current user and every user of this device."""
        current = self._app.current_user
        return {
            "currentUser": user_json(current, current) if current else None,
            "allUsers": [user_json(u, current) for u in self._app.all_users],
        }

    def changed(self) -> None:
        """Tell JavaScript the state changed (``subscribe`` callbacks), unless it did not."""
        state = json.dumps(self.state(), default=str)
        if state != self._sent:
            self._sent = state
            self._notify(state)

    def resync(self) -> None:
        """Another tab changed the stored sessions: rebuild the app from storage."""
        self._app = self._new_app()
        self.changed()

    async def call(self, name: str, args_json: str) -> str:
        """Run one named call; the answer is ``{"ok": true, "value"}`` or an error, as JSON."""
        try:
            args = json.loads(args_json)
            if name not in self._calls or not isinstance(args, list):
                raise ValueError(f"Unknown call {name!r}.")
            if name in _EMAIL_FIRST or args[:1] == ["emailPassword"]:
                _check_email(args[1] if args[:1] == ["emailPassword"] and len(args) > 1
                             else args[0] if args else "")
            value = await self._calls[name](*args)
        except AppError as err:
            answer = {"ok": False, "code": err.wire_code or err.code.value,
                      "message": friendly(err, _ACTIONS.get(name, "")), "detail": err.message}
        except (ValueError, TypeError, LookupError) as err:
            answer = {"ok": False, "code": "InvalidArgument", "message": str(err),
                      "detail": str(err)}
        else:
            answer = {"ok": True, "value": value}
        # The app's events fire before a login has fetched the profile, and profile changes are
        # user events: send the settled state once the call is over.
        self.changed()
        return json.dumps(answer, default=str)

    def _user(self, user_id: str | None) -> User:
        if user_id is None:
            user = self._app.current_user
            if user is None:
                raise LookupError("Nobody is logged in.")
            return user
        for user in self._app.all_users:
            if user.id == user_id:
                return user
        raise LookupError(f"No user {user_id!r} on this device.")

    def _json(self, user: User) -> dict[str, Any]:
        return user_json(user, self._app.current_user)

    async def _log_in(self, kind: str, *args: Any) -> dict[str, Any]:
        return self._json(await self._app.log_in(_credentials(kind, *args)))

    async def _register(self, email: str, password: str) -> None:
        await self._app.email_password_auth.register_user(email, password)

    async def _send_reset(self, email: str) -> None:
        await self._app.email_password_auth.send_reset_password_email(email)

    async def _current_user(self) -> dict[str, Any] | None:
        user = self._app.current_user
        return self._json(user) if user else None

    async def _all_users(self) -> list[dict[str, Any]]:
        return [self._json(u) for u in self._app.all_users]

    async def _switch_user(self, user_id: str) -> dict[str, Any]:
        user = self._user(user_id)
        self._app.switch_user(user)
        return self._json(user)

    async def _log_out(self, user_id: str | None = None) -> None:
        await self._user(user_id).log_out()

    async def _remove_user(self, user_id: str) -> None:
        await self._app.remove_user(self._user(user_id))

    async def _call_function(self, name: str, *args: Any) -> Any:
        return await self._user(None).functions.call(name, *args)

    async def _refresh_custom_data(self) -> dict[str, Any]:
        return await self._user(None).refresh_custom_data()


    async def _resend_confirmation(self, email: str) -> None:
        await self._app.email_password_auth.resend_confirmation_email(email.strip())

    async def _delete_user(self, user_id: str | None = None) -> None:
        await self._app.delete_user(self._user(user_id))

    async def _auth_providers(self) -> list[dict[str, Any]]:
        return [{"name": p.name, "type": p.type, "displayName": p.display_name}
                for p in await self._app.fetch_auth_providers()]


def browser_bridge(app_id: str, base_url: str, notify: Notify) -> Bridge:
    """The bridge ``embed.js`` makes: ``fetch`` and ``localStorage`` of the embedding page."""
    from app.sdk.adapters.browser import (
        BrowserAuthenticator,
        FetchTransport,
        LocalStorage,
        WebLocks,
    )

    bridge = Bridge(app_id, base_url, notify, transport=FetchTransport(),
                    storage=LocalStorage(), refresh_lock=WebLocks())
    bridge.authenticator = BrowserAuthenticator() if BrowserAuthenticator.available() else None
    return bridge
