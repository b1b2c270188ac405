"""Users: one logged-in (or logged-out) identity of an ``App``, with its tokens and profile.

Rules that must hold:

1. Every token change is written through to storage at once (``UserStorage``).
2. Only the refresh token decides the state: without it the user is logged out.
3. Requests always go through the app's fetcher with *this* user, never the current one.

Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from . import ejson, oauth, routes
from .credentials import Credentials, device_info, login_body
from .errors import AppError
from .events import Emitter, EventType, Listener
from .fetcher import Fetcher
from .functions import FunctionsFactory
from .providers import ApiKeyAuth
from .sessions import UserSessions
from .tokens import AuthResponse, custom_data, device_id

if TYPE_CHECKING:
    from .app import App
    from .mfa import SecondFactorAuth
    from .passkeys import PasskeyAuth


class UserState(StrEnum):
    """Where a user stands: ``LOGGED_IN``, ``LOGGED_OUT`` (listed, no refresh token) or
    ``REMOVED`` (no longer listed by the app)."""

    LOGGED_IN = "LoggedIn"
    LOGGED_OUT = "LoggedOut"
    REMOVED = "Removed"


# Profile data keys the server sends, and the names realm-web stores them under.
_STORED_NAMES = {
    "picture": "pictureUrl",
    "first_name": "firstName",
    "last_name": "lastName",
    "min_age": "minAge",
    "max_age": "maxAge",
}
_WIRE_NAMES = {stored: wire for wire, stored in _STORED_NAMES.items()}


@dataclass(frozen=True, slots=True)
class Identity:
    """One identity of a user: the provider's id for it and the provider type."""

    id: str
    provider_type: str


@dataclass(frozen=True)
class UserProfile:
    """A user's profile: its type, identities and metadata (``data``, in the server's names).

    ```python
    user.profile.email         # data["email"]
    user.profile.picture_url   # data["picture"]
    ```
    """

    type: str = "normal"
    identities: tuple[Identity, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        """The user's name, if known."""
        return self._get("name")

    @property
    def email(self) -> str | None:
        """The user's email, if known."""
        return self._get("email")

    @property
    def picture_url(self) -> str | None:
        """The URL of the user's picture (``data["picture"]``), if known."""
        return self._get("picture")

    @property
    def first_name(self) -> str | None:
        """The user's first name, if known."""
        return self._get("first_name")

    @property
    def last_name(self) -> str | None:
        """The user's last name, if known."""
        return self._get("last_name")

    def _get(self, key: str) -> str | None:
        value = self.data.get(key)
        return value if isinstance(value, str) else None

    @classmethod
    def from_json(cls, body: Any) -> UserProfile:
        """Validate a ``GET /auth/profile`` body; ``ValueError`` names the first bad field."""
        return cls._parse(body, "provider_type", {})

    @classmethod
    def from_storage(cls, stored: dict[str, Any]) -> UserProfile:
        """Read the realm-web storage form (``providerType``, ``pictureUrl`` ...)."""
        return cls._parse(stored, "providerType", _WIRE_NAMES)

    def to_storage(self) -> dict[str, Any]:
        """The realm-web storage form of this profile."""
        data = {_STORED_NAMES.get(k, k): v for k, v in self.data.items()}
        return {
            "type": self.type,
            "identities": [{"id": i.id, "providerType": i.provider_type} for i in self.identities],
            "data": ejson.encode(data, relaxed=True),
        }

    @classmethod
    def _parse(cls, body: Any, type_key: str, renames: dict[str, str]) -> UserProfile:
        if not isinstance(body, dict):
            raise ValueError("Expected the profile to be a JSON object.")
        kind, identities, data = body.get("type"), body.get("identities"), body.get("data")
        if not isinstance(kind, str):
            raise ValueError("Expected 'type' in the profile to be a string.")
        if not isinstance(identities, list) or not isinstance(data, dict):
            raise ValueError("Expected 'identities' (array) and 'data' (object) in the profile.")
        parsed = tuple(_identity(item, type_key) for item in identities)
        values = ejson.decode({renames.get(k, k): v for k, v in data.items()})
        return cls(kind, parsed, values)


def _identity(item: Any, type_key: str) -> Identity:
    if not isinstance(item, dict):
        raise ValueError("Expected each profile identity to be an object.")
    ident, kind = item.get("id"), item.get(type_key)
    if not isinstance(ident, str) or not isinstance(kind, str):
        raise ValueError(f"Expected 'id' and '{type_key}' strings in each profile identity.")
    return Identity(ident, kind)


class User:
    """A user of an ``App``. Get one from ``app.log_in``, ``app.current_user`` or ``app.all_users``.

    ```python
    user = await app.log_in(Credentials.anonymous())
    greeting = await user.functions.translate("hello", "en_fr")
    await user.log_out()
    ```
    """

    def __init__(self, app: App, user_id: str) -> None:
        """Load a user from the app's storage; ``ValueError`` when its stored data is unusable.

        Use ``App.log_in`` to get users; this constructor is the SDK's own.
        """
        self._app = app
        self._id = user_id
        self._storage = app._storage.user(user_id)
        provider_type = self._storage.provider_type
        if not provider_type:
            raise ValueError(f"The stored user {user_id} has no provider type.")
        self._provider_type = provider_type
        self._access_token = self._storage.access_token
        self._refresh_token = self._storage.refresh_token
        stored = self._storage.load_profile()
        self._profile = UserProfile.from_storage(stored) if stored is not None else UserProfile()
        self._listeners = Emitter()

    @classmethod
    def _create(cls, app: App, auth: AuthResponse, provider_type: str) -> User:
        storage = app._storage.user(auth.user_id)
        storage.provider_type = provider_type
        storage.access_token = auth.access_token
        storage.refresh_token = auth.refresh_token
        return cls(app, auth.user_id)

    def __repr__(self) -> str:
        return f"<User {self._id} {self._provider_type} {self.state.value}>"

    @property
    def id(self) -> str:
        """The user id the server assigned."""
        return self._id

    @property
    def app(self) -> App:
        """The app this user belongs to."""
        return self._app

    @property
    def state(self) -> UserState:
        """``LOGGED_IN``, ``LOGGED_OUT`` or ``REMOVED``."""
        if not self._app._is_listed(self):
            return UserState.REMOVED
        return UserState.LOGGED_OUT if self._refresh_token is None else UserState.LOGGED_IN

    @property
    def provider_type(self) -> str:
        """The provider type this user logged in with, e.g. ``anon-user``."""
        return self._provider_type

    @property
    def access_token(self) -> str | None:
        """The current access token, or ``None`` when logged out."""
        return self._access_token

    @property
    def refresh_token(self) -> str | None:
        """The refresh token, or ``None`` when logged out."""
        return self._refresh_token

    @property
    def profile(self) -> UserProfile:
        """The last fetched profile (an empty one if it was never fetched)."""
        return self._profile

    @property
    def identities(self) -> tuple[Identity, ...]:
        """The identities of the last fetched profile."""
        return self._profile.identities

    @property
    def custom_data(self) -> dict[str, Any]:
        """The custom user data carried by the access token (``{}`` when it carries none).

        Raises ``ValueError`` for a logged-out user, who has no access token to read it from.
        """
        if self._access_token is None:
            raise ValueError(f"The user {self._id} has no access token to read custom data from.")
        try:
            return ejson.decode(custom_data(self._access_token))  # type: ignore[no-any-return]
        except ValueError:
            return {}

    @property
    def device_id(self) -> str | None:
        """The device id the server put in the access token, if any."""
        return device_id(self._access_token) if self._access_token else None

    @property
    def functions(self) -> FunctionsFactory:
        """Server functions as attributes: ``await user.functions.translate("hello", "en_fr")``."""
        return FunctionsFactory(self)

    @property
    def api_keys(self) -> ApiKeyAuth:
        """This user's API keys (``create``, ``fetch``, ``fetch_all``, ``enable`` ...)."""
        return ApiKeyAuth(self)

    @property
    def _fetcher(self) -> Fetcher:
        return self._app._fetcher

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event)`` on token refreshes, log-out, profile and custom data changes."""
        self._listeners.add(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    async def call_function(self, name: str, *args: Any) -> Any:
        """Call the server function ``name`` with ``args``; the same as ``functions.<name>``."""
        return await FunctionsFactory(self).call(name, *args)

    async def refresh_access_token(self) -> str:
        """Get a new access token with the refresh token and return it."""
        return await self._fetcher.refresh_access_token(self)

    async def refresh_custom_data(self) -> dict[str, Any]:
        """Get a new access token (it carries fresh custom data) and return that data."""
        await self.refresh_access_token()
        return self.custom_data

    async def refresh_profile(self) -> UserProfile:
        """Fetch the profile from the server, store it and return it."""
        profile = await self._fetcher.fetch(
            "GET", routes.profile(), token_type="access", user=self, parse=UserProfile.from_json
        )
        changed = profile != self._profile
        self._profile = profile
        self._storage.save_profile(profile.to_storage())
        if changed:
            self._listeners.emit(EventType.PROFILE_CHANGED, self)
        return profile

    async def log_out(self) -> None:
        """End the session on the server and forget the tokens.

        The tokens are forgotten even when the request fails. Logging out an anonymous user also
        removes it, since nothing could ever log it back in.
        """
        try:
            if self._refresh_token is not None:
                path = routes.session()
                await self._fetcher.fetch("DELETE", path, token_type="refresh", user=self)
        except AppError as err:
            # The session is already gone on the server (e.g. the user was deleted): fine.
            if "failed to find refresh token" not in err.error:
                raise
        finally:
            self._end_session()

    async def link_credentials(self, credentials: Credentials) -> None:
        """Add another identity to this user, e.g. email/password to an anonymous user.

        Social credentials with a ``redirect_url`` link through the browser redirect flow
        (see ``App.log_in``).
        """
        if credentials.redirects:
            auth = await oauth.redirect_auth(
                self._fetcher, self._app._raw_storage, self._app._window_opener, credentials,
                device_info(self._app._device_id()), link_user=self)
            self._parse_link_auth(auth)
            self._set_access_token(auth.access_token)
            await self.refresh_profile()
            return
        path = routes.login(self._app.id, credentials.provider_name, link=True)
        body = login_body(credentials, self._app._device_id())
        auth = await self._fetcher.fetch(
            "POST", path, body=body, token_type="access", user=self, parse=self._parse_link
        )
        self._app._storage.set_device_id(auth.device_id)
        self._set_access_token(auth.access_token)
        await self.refresh_profile()

    def _parse_link(self, body: Any) -> AuthResponse:
        return self._parse_link_auth(AuthResponse.from_json(body, require_refresh_token=False))

    def _parse_link_auth(self, auth: AuthResponse) -> AuthResponse:
        if auth.user_id != self._id:
            raise ValueError(f"The link response is for user {auth.user_id}, not {self._id}.")
        return auth

    def _set_access_token(self, token: str) -> None:
        before = self._safe_custom_data()
        self._access_token = token
        self._storage.access_token = token
        self._listeners.emit(EventType.TOKENS_REFRESHED, self)
        if self._safe_custom_data() != before:
            self._listeners.emit(EventType.CUSTOM_DATA_CHANGED, self)

    def _stored_access_token(self) -> str | None:
        return self._storage.access_token

    def _set_tokens(self, access_token: str, refresh_token: str | None) -> None:
        self._refresh_token = refresh_token
        self._storage.refresh_token = refresh_token
        self._set_access_token(access_token)

    def _end_session(self) -> None:
        if self._access_token is None and self._refresh_token is None:
            return
        self._access_token = self._refresh_token = None
        self._storage.access_token = self._storage.refresh_token = None
        self._listeners.emit(EventType.LOGGED_OUT, self)
        self._app._on_logged_out(self)

    def _safe_custom_data(self) -> dict[str, Any]:
        try:
            return self.custom_data
        except ValueError:
            return {}

    # Issue 14 (kept at the end of the class).
    @property
    def passkeys(self) -> PasskeyAuth:
        """This user's passkeys (``register``, ``fetch_all``, ``rename``, ``delete``)."""
        from .passkeys import PasskeyAuth

        return PasskeyAuth(self)

    @property
    def mfa(self) -> SecondFactorAuth:
        """This user's second factors (``status``, ``enrol_totp``, ``confirm_totp``,
        ``disable_totp``, ``new_recovery_codes``)."""
        from .mfa import SecondFactorAuth

        return SecondFactorAuth(self)

    @property
    def sessions(self) -> UserSessions:
        """This user's sessions on every device (``list``, ``revoke``, ``revoke_all_other``);
        Latchkey's addition, see ``app.sdk.sessions``."""
        return UserSessions(self)
