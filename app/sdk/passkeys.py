"""Passkeys (WebAuthn) in the SDK, issue 14: signing up and in with a passkey, and a user's list.

The SDK never touches WebAuthn itself: an ``Authenticator`` does, given the options the server
made, and answers the credential as JSON (``PublicKeyCredential.toJSON()``). In the browser that
is ``adapters.browser.BrowserAuthenticator`` (``navigator.credentials``); under CPython the
caller passes one (tests use a software authenticator). Standard library only.

```python
user = await app.log_in(Credentials.new_passkey(authenticator, name="My laptop"))  # sign up
user = await app.log_in(Credentials.passkey(authenticator))                       # sign in
await user.passkeys.register(authenticator, name="Phone")                         # add one
for key in await user.passkeys.fetch_all(): print(key.name, key.last_used_at)
```
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from . import routes
from .fetcher import Fetcher
from .tokens import AuthResponse

if TYPE_CHECKING:
    from .user import User


class Authenticator(Protocol):
    """What makes and uses passkeys: WebAuthn options in, the credential's JSON out."""

    async def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """``navigator.credentials.create``: a new passkey for creation options."""
        ...

    async def get(self, options: dict[str, Any], *, conditional: bool = False
                  ) -> dict[str, Any]:
        """``navigator.credentials.get``: an assertion for request options; ``conditional``
        waits for the user to pick a passkey from the browser's autofill."""
        ...


@dataclass(frozen=True, slots=True)
class PasskeyInfo:
    """One of a user's passkeys, as the server lists it (no key material)."""

    id: str
    name: str
    created_at: float
    last_used_at: float | None
    backed_up: bool
    transports: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, body: Any) -> PasskeyInfo:
        """A passkey from the server's JSON; ``ValueError`` when it is not one."""
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise ValueError("Expected a passkey object.")
        last = body.get("last_used_at")
        return cls(str(body["id"]), str(body.get("name", "")),
                   float(body.get("created_at", 0)), None if last is None else float(last),
                   bool(body.get("backed_up")), tuple(str(t) for t in body.get("transports", ())))


def _passkey_list(body: Any) -> list[PasskeyInfo]:
    if not isinstance(body, list):
        raise ValueError("Expected an array of passkeys.")
    return [PasskeyInfo.from_json(item) for item in body]


def _ceremony(body: Any) -> tuple[str, dict[str, Any]]:
    if (not isinstance(body, dict) or not isinstance(body.get("challenge_id"), str)
            or not isinstance(body.get("options"), dict)):
        raise ValueError("Expected {challenge_id, options}.")
    return body["challenge_id"], body["options"]


#: A login ceremony: (fetcher, app id, login body with the device) -> the login answer.
Ceremony = Callable[[Fetcher, str, dict[str, Any]], Awaitable[AuthResponse]]


def sign_in(authenticator: Authenticator, *, conditional: bool = False) -> Ceremony:
    """The ceremony of ``Credentials.passkey``: options, the authenticator, the login."""
    async def run(fetcher: Fetcher, app_id: str, body: dict[str, Any]) -> AuthResponse:
        challenge_id, options = await fetcher.fetch(
            "POST", routes.passkey(app_id, routes.PASSKEY_LOGIN_OPTIONS), parse=_ceremony)
        credential = await authenticator.get(options, conditional=conditional)
        return await fetcher.fetch(
            "POST", routes.login(app_id, routes.PASSKEY),
            body={**body, "challenge_id": challenge_id, "credential": credential},
            parse=AuthResponse.from_json)

    return run


def sign_up(authenticator: Authenticator, *, name: str | None = None,
            user_name: str = "") -> Ceremony:
    """The ceremony of ``Credentials.new_passkey``: a new account with only this passkey."""
    async def run(fetcher: Fetcher, app_id: str, body: dict[str, Any]) -> AuthResponse:
        challenge_id, options = await fetcher.fetch(
            "POST", routes.passkey(app_id, routes.PASSKEY_REGISTER_OPTIONS),
            body={"user_name": user_name} if user_name else {}, parse=_ceremony)
        credential = await authenticator.create(options)
        answer: dict[str, Any] = {**body, "challenge_id": challenge_id, "credential": credential}
        if name is not None:
            answer["name"] = name
        return await fetcher.fetch("POST", routes.passkey(app_id, routes.PASSKEY_REGISTER),
                                   body=answer, parse=AuthResponse.from_json)

    return run


class PasskeyAuth:
    """The passkeys of one user: ``user.passkeys``. Every call uses its access token."""

    def __init__(self, user: User) -> None:
        self._user = user

    async def _call(self, method: str, path: str, body: Any = None,
                    parse: Callable[[Any], Any] = lambda b: b) -> Any:
        return await self._user._fetcher.fetch(method, path, body=body, token_type="access",
                                               user=self._user, parse=parse)

    @property
    def _app_id(self) -> str:
        return self._user._fetcher.app_id

    async def register(self, authenticator: Authenticator, *, name: str | None = None,
                       user_name: str = "") -> PasskeyInfo:
        """Add a passkey to this user (one more way to sign in); refreshes the profile."""
        challenge_id, options = await self._call(
            "POST", routes.passkey(self._app_id, routes.PASSKEY_REGISTER_OPTIONS),
            {"user_name": user_name} if user_name else {}, _ceremony)
        credential = await authenticator.create(options)
        body: dict[str, Any] = {"challenge_id": challenge_id, "credential": credential}
        if name is not None:
            body["name"] = name
        answer = await self._call("POST", routes.passkey(self._app_id, routes.PASSKEY_REGISTER),
                                  body)
        await self._user.refresh_profile()
        return PasskeyInfo.from_json(answer.get("passkey") if isinstance(answer, dict) else None)

    async def fetch_all(self) -> list[PasskeyInfo]:
        """This user's passkeys, oldest first."""
        return list(await self._call(
            "GET", routes.passkey(self._app_id, routes.PASSKEY_CREDENTIALS), parse=_passkey_list))

    async def rename(self, passkey_id: str, name: str) -> PasskeyInfo:
        """Give a passkey another name (1 to 64 characters)."""
        return PasskeyInfo.from_json(await self._call(
            "PATCH", routes.passkey_credential(self._app_id, passkey_id), {"name": name}))

    async def delete(self, passkey_id: str) -> None:
        """Delete a passkey; the server refuses the account's last way to sign in
        (``ErrorCode.LAST_IDENTITY``)."""
        await self._call("DELETE", routes.passkey_credential(self._app_id, passkey_id))
        await self._user.refresh_profile()


class PasskeyCeremonyError(Exception):
    """The authenticator did not make or use a passkey: the user cancelled, the request timed
    out or was aborted, or the browser refused (``name`` is the DOMException's, e.g.
    ``NotAllowedError``, ``InvalidStateError`` for a passkey registered already)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}" if message and not message.startswith(name)
                         else message or name)
        self.name = name
