"""A user's own sessions: ``user.sessions`` (Latchkey's addition to the App Services API).

``await user.sessions.list()`` gives every live session of the user (``UserSession``: device,
provider, created, last used, approximate address, and ``current`` for this one);
``revoke(session_id)`` ends one (this device's own too, which then logs it out here);
``revoke_all_other()`` ends all but this device's ("sign out everywhere"). Every call uses the
access token, so the fetcher refreshes it once if it has expired. Stdlib only, like the SDK core.

```python
for s in await user.sessions.list():
    print(s.device_id, s.provider, s.address, "this device" if s.current else "")
ended = await user.sessions.revoke_all_other()
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import routes
from .tokens import decode_payload

if TYPE_CHECKING:
    from .user import User

_TEXT = ("session_id", "device_id", "address")
_TIMES = ("created_at", "last_used_at", "expires_at")


@dataclass(frozen=True, slots=True)
class UserSession:
    """One session of the user, as the server lists it (times in Unix seconds)."""

    session_id: str
    device_id: str
    provider: str | None
    created_at: int
    last_used_at: int
    expires_at: int
    address: str
    api_key_id: str | None
    current: bool

    @classmethod
    def from_json(cls, body: Any) -> UserSession:
        """Validate one session object from the server."""
        if not isinstance(body, dict):
            raise ValueError("Expected a session object.")
        if not all(isinstance(body.get(k), str) for k in _TEXT):
            raise ValueError("Expected 'session_id', 'device_id' and 'address' strings.")
        if not all(isinstance(body.get(k), int) and not isinstance(body.get(k), bool)
                   for k in _TIMES):
            raise ValueError("Expected whole-number times in the session.")
        provider, key = body.get("provider"), body.get("api_key_id")
        if not (provider is None or isinstance(provider, str)) or not (
                key is None or isinstance(key, str)) or not isinstance(body.get("current"), bool):
            raise ValueError("Expected an optional 'provider', 'api_key_id' and a 'current' "
                             "boolean in the session.")
        return cls(body["session_id"], body["device_id"], provider, body["created_at"],
                   body["last_used_at"], body["expires_at"], body["address"], key,
                   body["current"])


def _session_list(body: Any) -> list[UserSession]:
    if not isinstance(body, list):
        raise ValueError("Expected an array of sessions.")
    return [UserSession.from_json(item) for item in body]


def _revoked(body: Any) -> int:
    count = body.get("revoked") if isinstance(body, dict) else None
    if not isinstance(count, int) or isinstance(count, bool):
        raise ValueError("Expected a whole number 'revoked'.")
    return count


class UserSessions:
    """The sessions of one user: ``user.sessions`` (see the module docstring)."""

    def __init__(self, user: User) -> None:
        self._user = user

    async def list(self) -> list[UserSession]:
        """Every live session of the user, newest first."""
        result: list[UserSession] = await self._user._fetcher.fetch(
            "GET", routes.sessions(), token_type="access", user=self._user, parse=_session_list)
        return result

    async def revoke(self, session_id: str) -> None:
        """End one session; ending this device's own logs the user out here as well."""
        if not isinstance(session_id, str) or not session_id:
            raise ValueError("session_id must be a non-empty string.")
        own = self._own_session_id()
        await self._user._fetcher.fetch("DELETE", routes.user_session(session_id),
                                        token_type="access", user=self._user)
        if own == session_id:
            self._user._end_session()

    async def revoke_all_other(self) -> int:
        """End every session of the user but this device's; how many ended."""
        count: int = await self._user._fetcher.fetch(
            "DELETE", routes.sessions(), token_type="access", user=self._user, parse=_revoked)
        return count

    def _own_session_id(self) -> str | None:
        token = self._user.refresh_token or self._user.access_token
        if not token:
            return None
        try:
            value = decode_payload(token).get("baas_id")
        except ValueError:
            return None
        return value if isinstance(value, str) else None
