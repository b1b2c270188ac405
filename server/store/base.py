"""The ``Store`` protocol: the only persistence contract that services use.

Rule 1: every method is one transaction. A method that writes several rows (a user with its
first identity, a user deletion with its identities, sessions and keys) commits all of them or
none, so a crash between two statements can never leave half a user behind.

Rule 2: uniqueness is enforced by the store, not by a check-then-write in a service. Two
concurrent registrations of one email both reach the store; the second gets ``Conflict``.

Records are frozen dataclasses of plain values; JSON-like fields are ``dict`` values that the
store serialises itself. Nothing here knows HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

#: How often, at most, one store purges rate limit events whose window has passed (seconds).
RATE_PURGE_SECONDS = 60.0


class Conflict(Exception):
    """A write broke a uniqueness rule (email taken, identity already linked, key name used)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """One login identity of a user: a provider type and the provider's id for that person."""

    provider_type: str
    id: str
    provider_id: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user and its identities, in the order they were added."""

    id: str
    type: str
    disabled: bool
    created_at: float
    identities: tuple[Identity, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    last_login_at: float | None = None


@dataclass(frozen=True, slots=True)
class UserpassAccount:
    """An email/password registration; ``id`` becomes the identity id at first login."""

    email: str
    id: str
    password_hash: str
    confirmed: bool
    created_at: float


@dataclass(frozen=True, slots=True)
class UserpassToken:
    """A single-use confirmation or reset token; only its hash is stored."""

    token_id: str
    token_hash: str
    email: str
    kind: str
    expires_at: float
    used: bool
    password_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """A refresh-token session; only the token's hash is stored."""

    id: str
    user_id: str
    token_hash: str
    device_id: str
    created_at: float
    expires_at: float
    api_key_id: str | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key; the secret is stored only as a hash."""

    id: str
    user_id: str
    name: str
    key_hash: str
    disabled: bool
    created_at: float


class Store(Protocol):
    """Persistence for users, identities, sessions, keys, tokens and documents."""

    async def open(self) -> None:
        """Connect and create or migrate the schema."""

    async def close(self) -> None:
        """Release connections."""

    # Settings kept with the data, such as signing keys shared by every server process.
    async def get_meta(self, key: str) -> str | None: ...
    async def set_meta_if_absent(self, key: str, value: str) -> str:
        """Store ``value`` unless the key exists; return the value that is stored now."""
        ...

    # Users and identities.
    async def create_user(self, user: UserRecord, identity: Identity | None) -> None:
        """Insert a user with its first identity; ``Conflict`` if the identity is taken."""
        ...
    async def get_user(self, user_id: str) -> UserRecord | None: ...
    async def list_users(self) -> list[UserRecord]: ...
    async def find_user_by_identity(self, provider_type: str, identity_id: str) -> str | None: ...
    async def add_identity(self, user_id: str, identity: Identity) -> None:
        """Append an identity to a user; ``Conflict`` if it belongs to anyone already."""
        ...
    async def update_identity_data(
        self, provider_type: str, identity_id: str, data: dict[str, Any]
    ) -> None: ...
    async def set_user_disabled(self, user_id: str, disabled: bool) -> bool:
        """Enable or disable a user; disabling ends all its sessions."""
        ...
    async def touch_login(self, user_id: str, when: float) -> None: ...
    async def delete_user(self, user_id: str) -> bool:
        """Delete a user with identities, sessions, keys, email/password account and tokens."""
        ...

    # Email/password accounts and their tokens.
    # The ``email`` of these methods is an address as typed; ``server.emails.email_key`` says
    # which spellings are one address (``email_keys`` has the rules).
    async def create_userpass(self, account: UserpassAccount) -> None:
        """Insert a registration; ``Conflict`` if the address is registered already in any
        spelling. Tokens of an earlier account of exactly this address are dropped."""
        ...
    async def get_userpass(self, email: str) -> UserpassAccount | None:
        """The account of exactly this address, else the one whose normalised key it has."""
        ...
    async def confirm_userpass(self, email: str) -> None:
        """Confirm the account of exactly this (stored) address."""
        ...
    async def set_userpass_password(self, email: str, password_hash: str) -> None:
        """Set the password of the account of exactly this (stored) address, end every
        session of its user and retire its unused reset links, in one transaction."""
        ...
    async def add_userpass_token(self, token: UserpassToken) -> None: ...
    async def use_userpass_token(
        self, token_id: str, kind: str, token_hash: str, now: float
    ) -> UserpassToken | None:
        """The token with this id, kind and hash as it was, marked used if it was usable.

        ``None`` when no token matches; a returned token with ``used`` set or an ``expires_at``
        in the past was not usable and is left as it is.
        """
        ...

    # Sessions.
    async def create_session(self, session: Session) -> None: ...
    async def get_session(self, session_id: str) -> Session | None: ...
    async def delete_session(self, session_id: str) -> bool: ...

    # API keys.
    async def create_api_key(self, key: ApiKey) -> None:
        """Insert a key; ``Conflict`` if the user has a key of that name."""
        ...
    async def list_api_keys(self, user_id: str) -> list[ApiKey]: ...
    async def get_api_key(self, key_id: str) -> ApiKey | None: ...
    async def find_api_key(self, key_hash: str) -> ApiKey | None: ...
    async def set_api_key_disabled(self, key_id: str, disabled: bool) -> bool:
        """Enable or disable a key; disabling ends the sessions opened with it."""
        ...
    async def delete_api_key(self, key_id: str) -> bool:
        """Delete a key and the sessions opened with it."""
        ...

    # Documents (custom user data), keyed by collection and key.
    async def get_document(self, collection: str, key: str) -> dict[str, Any] | None: ...
    async def put_document(self, collection: str, key: str, doc: dict[str, Any]) -> None: ...
    async def delete_document(self, collection: str, key: str) -> bool: ...

    # Rate limits: events per key in a sliding window, shared by every process on the store.
    # Keys are short printable text (the limiter sends a digest of anything long or odd); times
    # are Unix seconds. Events older than their window are purged as the store goes, so the rows
    # stay bounded by the keys limited in the last window times their limits.
    async def hit_rate(self, key: str, window: float, now: float, limit: int) -> bool:
        """Record one event for ``key`` at ``now`` unless ``limit`` events of the key fall in
        the window ``(now - window, now]`` already; whether it was recorded.

        Check and record are one step, so processes hitting one key at once never record more
        than ``limit`` events between them.
        """
        ...
    async def rate_count(self, key: str, window: float, now: float) -> int:
        """How many events of ``key`` fall in the window ``(now - window, now]``."""
        ...
    async def reset_rate(self, key: str) -> None:
        """Forget every event of ``key``."""
        ...

    # Access tokens.
    async def get_user_for_session(self, user_id: str, session_id: str) -> UserRecord | None:
        """The user ``user_id`` if its session ``session_id`` exists, else ``None``.

        One read (a join) that checks an access token's session together with loading its
        user, so a token dies with its session at no extra round trip.
        """
        ...

    # Admin API keys and their sessions (server/admin_api).
    async def create_admin_key(self, key: AdminKey) -> None:
        """Insert an admin key; ``Conflict`` if its name or public key is taken."""
        ...
    async def list_admin_keys(self) -> list[AdminKey]:
        """Every admin key, oldest first."""
        ...
    async def find_admin_key(self, public_key: str) -> AdminKey | None: ...
    async def set_admin_key_disabled(self, key_id: str, disabled: bool) -> bool:
        """Enable or disable an admin key; disabling ends all its sessions."""
        ...
    async def delete_admin_key(self, key_id: str) -> bool:
        """Delete an admin key and all its sessions."""
        ...
    async def create_admin_session(self, session: AdminSession) -> None: ...
    async def get_admin_session(self, session_id: str) -> AdminSession | None: ...
    async def delete_admin_session(self, session_id: str) -> bool: ...
    async def get_admin_key_for_session(self, key_id: str, session_id: str) -> AdminKey | None:
        """The key ``key_id`` if its admin session ``session_id`` exists (one read)."""
        ...

    # Users for the Admin API: pages, search, sessions, pending registrations.
    async def list_users_page(self, after: str | None, limit: int, disabled: bool | None = None,
                              provider_types: tuple[str, ...] = ()) -> list[UserRecord]:
        """Up to ``limit`` users with ids above ``after``, ordered by id (bytewise); only
        enabled or disabled ones when ``disabled`` is given, and only users with an identity
        of one of ``provider_types`` when any are given."""
        ...
    async def find_users_by_email_prefix(self, prefix: str, limit: int) -> list[UserRecord]:
        """Users whose email/password account's normalised address (``email_key``), or the
        ``email`` an identity's provider gave (as stored), starts with ``prefix`` (already
        normalised); ordered by that address, each user once."""
        ...
    async def list_user_sessions(self, user_id: str) -> list[Session]:
        """The sessions of a user, oldest first."""
        ...
    async def delete_user_sessions(self, user_id: str) -> int:
        """End every session of a user at once; how many there were."""
        ...
    async def list_pending_userpass(self, after: str | None, limit: int) -> list[UserpassAccount]:
        """Unconfirmed email/password accounts with ids above ``after``, ordered by id."""
        ...
    async def delete_pending_userpass(self, email: str) -> bool:
        """Delete the account of exactly this (stored) address and its tokens, unless a user
        logged in with it already (that goes with ``delete_user``)."""
        ...


@dataclass(frozen=True, slots=True)
class AdminKey:
    """A key of the Admin API: a public key and a private one, stored only as its SHA-256."""

    id: str
    name: str
    public_key: str
    key_hash: str
    disabled: bool
    created_at: float


@dataclass(frozen=True, slots=True)
class AdminSession:
    """A refresh-token session of the Admin API; only the token's hash is stored."""

    id: str
    key_id: str
    token_hash: str
    device_id: str
    created_at: float
    expires_at: float
