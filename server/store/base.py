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

from collections.abc import Sequence
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


@dataclass(frozen=True, slots=True)
class Passkey:
    """A WebAuthn credential of a user (issue 14); its ``passkey`` identity has the same id.

    ``id`` and ``public_key`` are base64url text; ``sign_count`` is the authenticator's counter
    at its last use, which only goes up (a lower one means a cloned authenticator).
    """

    id: str
    user_id: str
    public_key: str
    sign_count: int
    name: str
    created_at: float
    last_used_at: float | None = None
    transports: tuple[str, ...] = ()
    aaguid: str = ""
    backed_up: bool = False


@dataclass(frozen=True, slots=True)
class AuthChallenge:
    """One ceremony's server-side state (a WebAuthn challenge, a login waiting for its second
    factor); ``id`` is the hash of the handle the client holds, and it is used once."""

    id: str
    kind: str
    user_id: str | None
    challenge: str
    expires_at: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TotpFactor:
    """A user's TOTP authenticator: its secret, whether it was confirmed, the last time step a
    code was accepted for (a code is good once), and how many recovery codes are left."""

    user_id: str
    secret: str
    confirmed: bool
    last_step: int
    created_at: float
    recovery_codes_left: int = 0


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One security event (``server.services.audit``): never a password, token or key.

    ``id`` sorts by time (``audit.new_event_id``); ``reason`` is an error code for a refusal;
    ``actor`` names who acted when it is not the user (an admin key); ``detail`` holds short
    non-secret facts (an email address typed, an API key's name, whether a user is new).
    """

    id: str
    at: float
    kind: str
    user_id: str | None = None
    provider: str | None = None
    address: str | None = None
    device_id: str | None = None
    reason: str | None = None
    actor: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Which audit events to read: all filters optional, newest first, ``before`` an event id
    (the last of the previous page) and at most ``limit`` events."""

    user_id: str | None = None
    kinds: tuple[str, ...] = ()
    since: float | None = None
    until: float | None = None
    before: str | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What a session's owner sees beside the session: login provider (``None`` keeps the
    stored one), approximate client address and last use (only ever moves forward)."""

    session_id: str
    provider: str | None
    address: str
    last_used_at: float


@dataclass(frozen=True, slots=True)
class UserSession:
    """A live session of a user as its owner lists it (``session_info`` joined, if any)."""

    id: str
    device_id: str
    created_at: float
    expires_at: float
    api_key_id: str | None
    provider: str | None
    address: str
    last_used_at: float


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

    # Imports (issue 13): users brought from App Services, with their own ids.
    async def import_user(self, user: UserRecord,
                          accounts: tuple[UserpassAccount, ...] = ()) -> bool:
        """Insert a user made elsewhere, with its identities in order (each keeping its own
        ``provider_id``) and its email/password accounts, in one transaction.

        ``False``, writing nothing, when a user with this id exists (so an import can run
        again); ``Conflict``, writing nothing, when an identity or an address belongs to
        another user.
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

    # Passkeys (issue 14). A passkey and its ``passkey`` identity are written and deleted together.
    async def add_passkey(self, passkey: Passkey, provider_id: str,
                          new_user: UserRecord | None = None) -> None:
        """Insert a passkey with its identity (of ``provider_id``): for ``new_user``, created
        with it, when given, else appended to the existing user ``passkey.user_id``.
        ``Conflict`` if the credential is known or the user does not exist."""
        ...
    async def get_passkey(self, credential_id: str) -> Passkey | None: ...
    async def list_passkeys(self, user_id: str) -> list[Passkey]:
        """A user's passkeys, oldest first."""
        ...
    async def use_passkey(self, credential_id: str, sign_count: int, when: float) -> bool:
        """Record a use: set the counter and ``last_used_at`` if ``sign_count`` is above the
        stored counter (or both are 0, for authenticators without one); else change nothing
        and answer ``False`` (a replayed or cloned authenticator)."""
        ...
    async def rename_passkey(self, user_id: str, credential_id: str, name: str) -> bool: ...
    async def delete_passkey(self, user_id: str, credential_id: str) -> bool:
        """Delete a user's passkey with its identity; ``Conflict`` if that identity is the
        user's last way to log in."""
        ...

    # Ceremonies in progress: stored server side, each used once.
    async def put_challenge(self, challenge: AuthChallenge) -> None:
        """Insert a challenge; expired ones are purged as the store goes."""
        ...
    async def get_challenge(self, challenge_id: str, now: float) -> AuthChallenge | None:
        """The challenge if it exists and has not expired at ``now``, left in place."""
        ...
    async def take_challenge(self, challenge_id: str, now: float) -> AuthChallenge | None:
        """Delete the challenge and answer it if it had not expired at ``now``: of two takers
        of one challenge, only one gets it."""
        ...

    # Second factors: a TOTP authenticator and its recovery codes (stored hashed).
    async def put_totp(self, factor: TotpFactor) -> None:
        """Store an unconfirmed TOTP factor, replacing an unconfirmed one; ``Conflict`` if the
        user has a confirmed one or does not exist."""
        ...
    async def get_totp(self, user_id: str) -> TotpFactor | None: ...
    async def confirm_totp(self, user_id: str, step: int, recovery_hashes: list[str]) -> bool:
        """Confirm the user's unconfirmed factor with the step of its first code and set its
        recovery codes; ``False`` if there is no unconfirmed factor."""
        ...
    async def use_totp_step(self, user_id: str, step: int) -> bool:
        """Accept a code of time step ``step`` for a confirmed factor if it is later than the
        last accepted one: of two uses of one code, only one gets ``True``."""
        ...
    async def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        """Delete one recovery code of the user; whether it was there."""
        ...
    async def set_recovery_codes(self, user_id: str, code_hashes: list[str]) -> bool:
        """Replace a confirmed factor's recovery codes; ``False`` without one."""
        ...
    async def delete_factors(self, user_id: str) -> bool:
        """Delete the user's TOTP factor and recovery codes; whether there was a factor."""
        ...

    # Token refresh (issue 15): everything a refresh reads, in one read.
    async def get_session_for_refresh(
        self, session_id: str, collection: str | None
    ) -> RefreshRead | None:
        """The session ``session_id`` with its user and, when ``collection`` is given, the
        user's document in that collection (custom user data); ``None`` without the session.

        One read, so a refresh on a networked store costs one round trip, not three.
        """
        ...

    # Audit log and users' own sessions (server/services/audit.py, user_sessions.py).
    async def write_activity(self, events: Sequence[AuditEvent],
                             infos: Sequence[SessionInfo]) -> None:
        """Append audit events and insert or update session metadata, in one transaction.

        A ``SessionInfo`` of a session that has its row already keeps its provider when the new
        one is ``None``, takes the new address, and keeps the later ``last_used_at``.
        """
        ...
    async def list_audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        """Events matching the query, newest first (by id)."""
        ...
    async def count_audit_events(self, kinds: Sequence[str], since: float, until: float,
                                 bucket_seconds: int) -> list[tuple[float, str, int]]:
        """``(bucket start, kind, count)`` of the events of ``kinds`` in ``[since, until)``,
        in buckets of ``bucket_seconds`` from the Unix epoch (UTC days for 86400), in order."""
        ...
    async def prune_audit_events(self, before: float) -> int:
        """Delete events older than ``before`` and session metadata whose session is gone;
        how many events went."""
        ...
    async def list_session_views(self, user_id: str, now: float) -> list[UserSession]:
        """The user's sessions that have not expired, newest first."""
        ...
    async def delete_user_session(self, user_id: str, session_id: str) -> bool:
        """End one session of this user; ``False`` if the user has no such session."""
        ...
    async def delete_other_sessions(self, user_id: str, keep_session_id: str) -> int:
        """End every session of the user but one; how many ended."""
        ...
    async def count_live_sessions(self, now: float) -> int:
        """How many sessions have not expired (the active sessions gauge)."""
        ...

    # Logins in one transaction (server/services/anonymous_login.py).
    async def create_user_session(self, user: UserRecord, identity: Identity, session: Session,
                                  rate: RateHit | None = None) -> bool:
        """A new user with its first identity and its first session, in one transaction after
        ``hit_rate`` for ``rate`` when given: an anonymous login in one store call (one round
        trip on PostgreSQL without ``rate``). The user's last login is the session's creation.

        ``False``, with nothing written, when the rate limit refuses; ``Conflict`` when the
        user id, the identity or the session id is taken.
        """
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


@dataclass(frozen=True, slots=True)
class RefreshRead:
    """What ``get_session_for_refresh`` found: the session, its user (``None`` if gone) and
    the user's document (``None`` if absent or not asked for)."""

    session: Session
    user: UserRecord | None
    document: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class RateHit:
    """One ``hit_rate`` to make inside another write (``create_user_session``)."""

    key: str
    window: float
    now: float
    limit: int
