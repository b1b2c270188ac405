"""The app: the stack of users of one App Services app, and logging in, switching and removing.

Rules that must hold:

1. Dependencies come through the constructor: ``App(app_id, *, base_url, transport, storage)``.
2. Constructing an ``App`` sends no request: it rebuilds ("hydrates") every user, its state and
   the current user from storage. Storage that cannot be read is cleared for this app, with a
   warning, and the app starts clean; a corrupt storage never breaks the page.
3. The user list is ordered most recent first; the current user is the first logged-in one.
4. Misuse (switching to a removed user, logging in with something that is not ``Credentials``)
   raises ``ValueError`` / ``TypeError``; failed requests raise ``AppError``.

Standard library only.
"""

from __future__ import annotations

import logging

from . import mfa, oauth, routes
from .credentials import Credentials, device_info, login_body
from .errors import AppError
from .events import Emitter, EventType, Listener
from .fetcher import Fetcher, RefreshLock
from .http import Transport
from .oauth import WindowOpener
from .providers import AuthProviderInfo, EmailPasswordAuth, parse_provider_list
from .storage import AppStorage, MemoryStorage, Storage
from .tokens import AuthResponse
from .user import User, UserState

logger = logging.getLogger("app.sdk")


class App:
    """One App Services app as seen from a client: its users and how they log in.

    ```python
    app = App("latchkey-demo", base_url="http://127.0.0.1:8000", transport=transport)
    user = await app.log_in(Credentials.anonymous())
    assert app.current_user is user
    ```
    """

    def __init__(
        self,
        app_id: str,
        *,
        base_url: str,
        transport: Transport,
        storage: Storage | None = None,
        window_opener: WindowOpener | None = None,
        refresh_lock: RefreshLock | None = None,
    ) -> None:
        if not isinstance(app_id, str) or not app_id:
            raise ValueError("An App needs a non-empty app id.")
        self._id = app_id
        self._fetcher = Fetcher(app_id, base_url, transport, lock=refresh_lock)
        # OAuth redirect results live outside the app's keys, where realm-web keeps them.
        self._raw_storage = storage if storage is not None else MemoryStorage()
        self._storage = AppStorage(self._raw_storage, app_id)
        self._window_opener = window_opener
        self._listeners = Emitter()
        self._users: list[User] = []
        self._users = self._hydrate()
        self._current = self.current_user
        self.email_password_auth = EmailPasswordAuth(self._fetcher, app_id)

    def __repr__(self) -> str:
        return f"<App {self._id} users={len(self._users)}>"

    @property
    def id(self) -> str:
        """The App Services app id."""
        return self._id

    @property
    def base_url(self) -> str:
        """The URL location discovery starts from."""
        return self._fetcher.base_url

    @property
    def current_user(self) -> User | None:
        """The most recent logged-in user, or ``None``."""
        return next((u for u in self._users if u.state is UserState.LOGGED_IN), None)

    @property
    def all_users(self) -> list[User]:
        """Every logged-in and logged-out user, most recent first."""
        return list(self._users)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event)`` when the current user changes or users are added or removed."""
        self._listeners.add(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    async def log_in(self, credentials: Credentials) -> User:
        """Log a user in, make it the current user, fetch its profile and return it.

        Anonymous credentials with ``reuse`` (the default) return the logged-in anonymous user
        without any request, if there is one. As in realm-web, a failed profile fetch raises
        even though the user is then logged in already.

        Social credentials with a ``redirect_url`` run the browser redirect flow through the
        app's ``window_opener``: a popup, whose landing page calls ``handle_auth_redirect()``;
        or, with an opener that replaces the page, a full-page redirect, after which this
        call never returns and ``complete_redirect_log_in`` finishes the login.
        """
        if not isinstance(credentials, Credentials):
            raise TypeError("log_in expects Credentials, e.g. Credentials.anonymous().")
        reusable = self._reusable_anonymous() if credentials.reuse else None
        if reusable is not None:
            self.switch_user(reusable)
            return reusable
        if credentials.redirects:
            auth = await oauth.redirect_auth(self._fetcher, self._raw_storage,
                                             self._window_opener, credentials,
                                             device_info(self._device_id()))
            return await self._logged_in(auth, credentials.provider_type)
        if credentials.ceremony is not None:  # Passkeys: options, the authenticator, login.
            auth = await credentials.ceremony(self._fetcher, self._id,
                                              login_body(credentials, self._device_id()))
            return await self._logged_in(auth, credentials.provider_type)
        # A login may answer with a second-factor challenge (mfa.SecondFactorRequired).
        auth = await mfa.log_in(
            self._fetcher, self._id, routes.login(self._id, credentials.provider_name),
            login_body(credentials, self._device_id()),
            lambda done: self._logged_in(done, credentials.provider_type))
        return await self._logged_in(auth, credentials.provider_type)

    async def complete_redirect_log_in(self) -> User | None:
        """Finish a full-page redirect login (or link) once the app's page has loaded again.

        Call it after ``handle_auth_redirect()`` on the page the provider returned to. Returns
        the user who logged in (or was linked), or ``None`` when no such flow has finished.
        A flow that failed raises its ``AppError``.

        ```python
        handle_auth_redirect()
        user = await app.complete_redirect_log_in()
        ```
        """
        for info, outcome in oauth.finished_page_flows(self._raw_storage, self._id):
            if isinstance(outcome, AppError):
                raise outcome
            if not info.get("link"):
                return await self._logged_in(outcome, str(info.get("provider")))
            linking = self._find(str(info["link"]))
            if linking is None or outcome.user_id != linking.id:
                raise AppError.redirect(f"The link result is for user {outcome.user_id}, "
                                        "who is not logged in here.")
            linking._set_access_token(outcome.access_token)
            await linking.refresh_profile()
            return linking
        return None

    async def fetch_auth_providers(self) -> list[AuthProviderInfo]:
        """The providers the server has enabled, e.g. to show a "Sign in with …" button for
        each social one (``info.is_social``)."""
        return await self._fetcher.fetch("GET", routes.providers(self._id),
                                         parse=parse_provider_list)

    async def _logged_in(self, auth: AuthResponse, provider_type: str) -> User:
        self._storage.set_device_id(auth.device_id)
        user = self._adopt(auth, provider_type)
        await user.refresh_profile()
        return user

    def switch_user(self, user: User) -> None:
        """Make a logged-in user of this app the current user."""
        self._require_listed(user, "switch to")
        if user.state is not UserState.LOGGED_IN:
            raise ValueError(f"The user {user.id} is logged out; log it in before switching to it.")
        self._move_to_front(user)

    async def remove_user(self, user: User) -> None:
        """Log the user out (if it is logged in) and forget it; its state becomes ``REMOVED``.

        The user is forgotten even when the log-out request fails; that error is raised after.
        """
        self._require_listed(user, "remove")
        try:
            if user.state is UserState.LOGGED_IN:
                await user.log_out()
        finally:
            self._forget(user)

    async def delete_user(self, user: User) -> None:
        """Delete the user on the server, with *that* user's token, then forget it."""
        self._require_listed(user, "delete")
        await self._fetcher.fetch("DELETE", routes.delete_user(), token_type="access", user=user)
        # The server ended the session with the user, so no log-out request is needed.
        user._end_session()
        self._forget(user)

    def _hydrate(self) -> list[User]:
        try:
            ids = self._storage.user_ids()
            self._storage.device_id()  # Validates the stored value.
            return [User(self, user_id) for user_id in ids]
        except ValueError as exc:
            logger.warning("Cleared the unreadable stored sessions of app %r: %s", self._id, exc)
            self._storage.clear()
            return []

    def _reusable_anonymous(self) -> User | None:
        for user in self._users:
            if user.provider_type == routes.ANON_USER and user.state is UserState.LOGGED_IN:
                return user
        return None

    def _adopt(self, auth: AuthResponse, provider_type: str) -> User:
        user = self._find(auth.user_id)
        if user is not None:
            # The same user logged in again: keep the object, replace its tokens.
            user._set_tokens(auth.access_token, auth.refresh_token)
            self._move_to_front(user)
            return user
        user = User._create(self, auth, provider_type)
        self._users.insert(0, user)
        self._storage.set_user_ids(self._ids(), merge=True)
        self._listeners.emit(EventType.USER_ADDED, user)
        self._sync_current()
        return user

    def _move_to_front(self, user: User) -> None:
        self._users.remove(user)
        self._users.insert(0, user)
        self._storage.set_user_ids(self._ids(), merge=True)
        self._sync_current()

    def _forget(self, user: User) -> None:
        if user not in self._users:
            return
        self._users.remove(user)
        self._storage.user(user.id).clear()
        self._storage.set_user_ids(self._ids(), merge=True, exclude=user.id)
        self._listeners.emit(EventType.USER_REMOVED, user)
        self._sync_current()

    def _on_logged_out(self, user: User) -> None:
        # Nothing can ever log an anonymous user back in, so it is removed rather than kept;
        # one that has linked other credentials can log back in with those, so it stays.
        linked = any(i.provider_type != routes.ANON_USER for i in user.identities)
        if user.provider_type == routes.ANON_USER and not linked:
            self._forget(user)
        else:
            self._sync_current()

    def _sync_current(self) -> None:
        current = self.current_user
        if current is not self._current:
            self._current = current
            self._listeners.emit(EventType.CURRENT_USER_CHANGED, current)

    def _is_listed(self, user: User) -> bool:
        return any(u is user for u in self._users)

    def _find(self, user_id: str) -> User | None:
        return next((u for u in self._users if u.id == user_id), None)

    def _ids(self) -> list[str]:
        return [u.id for u in self._users]

    def _device_id(self) -> str | None:
        try:
            return self._storage.device_id()
        except ValueError:
            return None

    def _require_listed(self, user: User, action: str) -> None:
        if not isinstance(user, User):
            raise TypeError(f"Expected a User to {action}, got {type(user).__name__}.")
        if not self._is_listed(user):
            raise ValueError(
                f"Cannot {action} user {user.id}: it was never logged into this app "
                "or has been removed."
            )
