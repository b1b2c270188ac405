"""Storage: a tiny synchronous key/value protocol and the key layout of an app's sessions.

Rules that must hold:

1. Storage is synchronous, because ``localStorage`` is; there is no async storage.
2. Keys are namespaced by prefixes joined with ``:``. The layout is realm-web's (protocol
   section 12), so a browser page can share sessions with realm-web on one origin:
   ``app(<app id>):userIds``, ``app(<app id>):deviceId`` and
   ``app(<app id>):user(<user id>):accessToken|refreshToken|providerType|profile``.
   (The browser adapter adds realm-web's ``realm-web:`` prefix in front of all of them.)
3. Every change is written through at once, so a reload can rebuild the user stack.
4. Stored data is read defensively: anything malformed raises ``ValueError`` here, and ``App``
   answers that by clearing the app's prefix.

Standard library only.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from .ejson import ObjectId
from .tokens import ZERO_DEVICE_ID


class Storage(Protocol):
    """A synchronous string key/value store.

    Implementations provide ``get``, ``set``, ``remove`` and ``clear``; ``prefix`` has a default
    that any class inheriting from ``Storage`` gets for free.
    """

    def get(self, key: str) -> str | None:
        """The value stored under ``key``, or ``None``."""
        ...

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""
        ...

    def remove(self, key: str) -> None:
        """Forget ``key``; nothing happens when it is absent."""
        ...

    def clear(self, prefix: str = "") -> None:
        """Forget every key that starts with ``prefix`` (everything when it is empty)."""
        ...

    def prefix(self, name: str) -> Storage:
        """A view of this storage whose keys all start with ``name:``."""
        return PrefixedStorage(self, name)


class MemoryStorage(Storage):
    """A storage that lives as long as the process; the default of ``App``.

    ```python
    storage = MemoryStorage()
    app = App("my-app", base_url=url, transport=transport, storage=storage)
    # A second App on the same storage restores the same users without any request.
    again = App("my-app", base_url=url, transport=transport, storage=storage)
    ```
    """

    def __init__(self, items: dict[str, str] | None = None) -> None:
        self.items: dict[str, str] = dict(items or {})

    def get(self, key: str) -> str | None:
        return self.items.get(key)

    def set(self, key: str, value: str) -> None:
        self.items[key] = value

    def remove(self, key: str) -> None:
        self.items.pop(key, None)

    def clear(self, prefix: str = "") -> None:
        for key in [k for k in self.items if k.startswith(prefix)]:
            del self.items[key]


class PrefixedStorage(Storage):
    """A view of another storage under ``<prefix>:``."""

    SEPARATOR = ":"

    def __init__(self, storage: Storage, prefix: str) -> None:
        self._storage = storage
        self._prefix = prefix + self.SEPARATOR

    def get(self, key: str) -> str | None:
        return self._storage.get(self._prefix + key)

    def set(self, key: str, value: str) -> None:
        self._storage.set(self._prefix + key, value)

    def remove(self, key: str) -> None:
        self._storage.remove(self._prefix + key)

    def clear(self, prefix: str = "") -> None:
        self._storage.clear(self._prefix + prefix)


def _set_or_remove(storage: Storage, key: str, value: str | None) -> None:
    if value is None:
        storage.remove(key)
    else:
        storage.set(key, value)


class UserStorage:
    """The keys of one user: ``app(<app id>):user(<user id>):…``."""

    def __init__(self, app_storage: Storage, user_id: str) -> None:
        self._storage: Storage = PrefixedStorage(app_storage, f"user({user_id})")

    @property
    def access_token(self) -> str | None:
        """The stored access token."""
        return self._storage.get("accessToken")

    @access_token.setter
    def access_token(self, value: str | None) -> None:
        _set_or_remove(self._storage, "accessToken", value)

    @property
    def refresh_token(self) -> str | None:
        """The stored refresh token; ``None`` means logged out."""
        return self._storage.get("refreshToken")

    @refresh_token.setter
    def refresh_token(self, value: str | None) -> None:
        _set_or_remove(self._storage, "refreshToken", value)

    @property
    def provider_type(self) -> str | None:
        """The provider type the user logged in with, e.g. ``anon-user``."""
        return self._storage.get("providerType")

    @provider_type.setter
    def provider_type(self, value: str | None) -> None:
        _set_or_remove(self._storage, "providerType", value)

    def load_profile(self) -> dict[str, Any] | None:
        """The stored profile object, or ``None``; ``ValueError`` when it is not a JSON object."""
        text = self._storage.get("profile")
        if text is None:
            return None
        value = json.loads(text)
        if not isinstance(value, dict):
            raise ValueError("The stored profile is not a JSON object.")
        return value

    def save_profile(self, value: dict[str, Any] | None) -> None:
        """Store (or with ``None``, forget) the profile object."""
        _set_or_remove(self._storage, "profile", None if value is None else json.dumps(value))

    def clear(self) -> None:
        """Forget every key of this user."""
        self._storage.clear()


class AppStorage:
    """The keys of one app: ``app(<app id>):userIds``, ``:deviceId`` and the users below them."""

    def __init__(self, storage: Storage, app_id: str) -> None:
        # Wrap directly rather than call ``storage.prefix``, so any object with get/set/remove/clear
        # works, also one that does not inherit the protocol's default ``prefix``.
        self._storage: Storage = PrefixedStorage(storage, f"app({app_id})")

    def user(self, user_id: str) -> UserStorage:
        """The keys of one user of this app."""
        return UserStorage(self._storage, user_id)

    def user_ids(self) -> list[str]:
        """The stored user ids, most recent first, without duplicates.

        Raises ``ValueError`` when the stored value is not a JSON array of strings.
        """
        text = self._storage.get("userIds")
        if text is None:
            return []
        ids = json.loads(text)
        if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
            raise ValueError("The stored user ids are not a JSON array of strings.")
        return list(dict.fromkeys(ids))

    def set_user_ids(self, ids: list[str], *, merge: bool, exclude: str | None = None) -> None:
        """Store the user ids, most recent first.

        With ``merge``, ids that other ``App`` instances on this storage have added are kept
        after ours (realm-web does the same); ``exclude`` is an id being removed.
        """
        merged = list(ids)
        if merge:
            try:
                merged += [i for i in self.user_ids() if i not in ids and i != exclude]
            except ValueError:
                pass  # A corrupt list is simply overwritten.
        self._storage.set("userIds", json.dumps(merged))

    def device_id(self) -> str | None:
        """The stored device id; ``ValueError`` when it is not 24 hex characters."""
        value = self._storage.get("deviceId")
        if value is None or value == ZERO_DEVICE_ID:
            return None
        if not ObjectId.is_valid(value):
            raise ValueError("The stored device id is not 24 hex characters.")
        return value

    def set_device_id(self, value: str | None) -> None:
        """Store the device id from a login response, unless it is absent or all zeros."""
        if value and value != ZERO_DEVICE_ID and ObjectId.is_valid(value):
            self._storage.set("deviceId", value)

    def clear(self) -> None:
        """Forget every key of this app."""
        self._storage.clear()
