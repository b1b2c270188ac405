"""Providers: the list of the server's providers, the email/password provider's account
actions, and a user's API keys.

The provider list (``GET …/auth/providers``, Latchkey's own route) and email/password actions
need no token (protocol section 8); API key calls use the user's *refresh* token (section 9).
All go through the app's fetcher. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from . import routes
from .fetcher import Fetcher

T = TypeVar("T")


def _keep(body: Any) -> Any:
    return body


if TYPE_CHECKING:
    from .user import User


class EmailPasswordAuth:
    """Register, confirm and reset email/password accounts: ``app.email_password_auth``.

    ```python
    await app.email_password_auth.register_user("ada@example.com", "s3cret-pass")
    user = await app.log_in(Credentials.email_password("ada@example.com", "s3cret-pass"))
    ```
    """

    def __init__(self, fetcher: Fetcher, app_id: str) -> None:
        self._fetcher = fetcher
        self._app_id = app_id

    async def _post(self, action: str, body: dict[str, Any]) -> None:
        await self._fetcher.fetch("POST", routes.userpass(self._app_id, action), body=body)

    async def register_user(self, email: str, password: str) -> None:
        """Create an account; it may need confirming before it can log in."""
        await self._post(routes.USERPASS_REGISTER, {"email": email, "password": password})

    async def confirm_user(self, token: str, token_id: str) -> None:
        """Confirm an account with the token pair from the confirmation email's link."""
        await self._post(routes.USERPASS_CONFIRM, {"token": token, "tokenId": token_id})

    async def resend_confirmation_email(self, email: str) -> None:
        """Send the confirmation email again."""
        await self._post(routes.USERPASS_CONFIRM_SEND, {"email": email})

    async def retry_custom_confirmation(self, email: str) -> None:
        """Run the app's confirmation function again."""
        await self._post(routes.USERPASS_CONFIRM_CALL, {"email": email})

    async def send_reset_password_email(self, email: str) -> None:
        """Email a password reset link."""
        await self._post(routes.USERPASS_RESET_SEND, {"email": email})

    async def reset_password(self, token: str, token_id: str, password: str) -> None:
        """Set a new password with the token pair from the reset link."""
        body = {"token": token, "tokenId": token_id, "password": password}
        await self._post(routes.USERPASS_RESET, body)

    async def call_reset_password_function(self, email: str, password: str, *args: Any) -> None:
        """Run the app's reset function with the new password and extra ``args``."""
        body = {"email": email, "password": password, "arguments": list(args)}
        await self._post(routes.USERPASS_RESET_CALL, body)


@dataclass(frozen=True, slots=True)
class AuthProviderInfo:
    """One provider the server has enabled: its name (used in login paths), type, and for
    social providers the name to show on a "Sign in with …" button."""

    name: str
    type: str
    display_name: str | None = None

    @property
    def is_social(self) -> bool:
        """Whether it logs in through another site (Google, Apple, Facebook, OpenID Connect)."""
        return self.type in routes.SOCIAL_TYPES


def parse_provider_list(body: Any) -> list[AuthProviderInfo]:
    """Validate the ``GET …/auth/providers`` answer."""
    if not isinstance(body, list):
        raise ValueError("Expected an array of providers.")
    out = []
    for item in body:
        name = item.get("name") if isinstance(item, dict) else None
        kind = item.get("type") if isinstance(item, dict) else None
        if not isinstance(name, str) or not isinstance(kind, str):
            raise ValueError("Expected 'name' and 'type' strings in each provider.")
        shown = item.get("display_name")
        out.append(AuthProviderInfo(name, kind, shown if isinstance(shown, str) else None))
    return out


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A user API key. ``key`` (the secret) is only known right after ``create``."""

    id: str
    name: str
    disabled: bool
    key: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> ApiKey:
        """Validate one API key object from the server."""
        if not isinstance(body, dict):
            raise ValueError("Expected an API key object.")
        ident, name, disabled, key = (body.get(k) for k in ("_id", "name", "disabled", "key"))
        if not isinstance(ident, str) or not isinstance(name, str):
            raise ValueError("Expected '_id' and 'name' strings in the API key.")
        if not isinstance(disabled, bool) or not (key is None or isinstance(key, str)):
            raise ValueError("Expected a boolean 'disabled' and an optional string 'key'.")
        return cls(ident, name, disabled, key)


def _api_key_list(body: Any) -> list[ApiKey]:
    if not isinstance(body, list):
        raise ValueError("Expected an array of API keys.")
    return [ApiKey.from_json(item) for item in body]


class ApiKeyAuth:
    """The API keys of one user: ``user.api_keys``. Every call uses its refresh token.

    ```python
    created = await user.api_keys.create("ci")
    again = await app.log_in(Credentials.api_key(created.key))   # the same user
    ```
    """

    def __init__(self, user: User) -> None:
        self._user = user

    async def _call(
        self, method: str, path: str, body: Any = None, parse: Callable[[Any], T] = _keep
    ) -> T:
        return await self._user._fetcher.fetch(
            method, path, body=body, token_type="refresh", user=self._user, parse=parse
        )

    async def create(self, name: str) -> ApiKey:
        """Create a key; the result is the only time its secret ``key`` is visible."""
        return await self._call("POST", routes.api_keys(), {"name": name}, ApiKey.from_json)

    async def fetch(self, key_id: str) -> ApiKey:
        """One key, without its secret."""
        return await self._call("GET", routes.api_key(key_id), parse=ApiKey.from_json)

    async def fetch_all(self) -> list[ApiKey]:
        """All of this user's keys, without secrets."""
        return await self._call("GET", routes.api_keys(), parse=_api_key_list)

    async def enable(self, key_id: str) -> None:
        """Let the key log in again."""
        await self._call("PUT", routes.api_key_enable(key_id))

    async def disable(self, key_id: str) -> None:
        """Stop the key from logging in."""
        await self._call("PUT", routes.api_key_disable(key_id))

    async def delete(self, key_id: str) -> None:
        """Delete the key for good."""
        await self._call("DELETE", routes.api_key(key_id))
