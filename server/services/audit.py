"""The audit log: security events recorded in the store, through one small interface.

Services call ``record(services, kind, ...)`` (or one of the helpers below); the event gets the
time, and the client address of the request being served (``client_address``, a context
variable the HTTP layer sets per request, so services stay HTTP-free). ``AUDIT_KINDS`` lists the
kinds. Events are read by the Admin API (``list_events``, ``counts``).

Rule 1: never a password, token or key in an event. Callers pass ids, provider names, error
codes and short facts; ``detail`` keys that name a secret (``password``, ``token``, ``secret``,
``key`` but not ``key_name`` or ``api_key_id``) are dropped, and text is cut at ``MAX_TEXT``.

Rule 2: recording never fails or slows a request. ``record`` only queues the event; one task per
process writes what is queued in one transaction (``Store.write_activity``), so under load many
logins share one commit (group commit: the writer waits ``BATCH_DELAY`` for more) and a login
pays a list append, not a store round trip. The cost: events queued when a process is killed
(a few milliseconds' worth) are lost. A store
that cannot be written loses the batch with one warning in the log; at most ``MAX_QUEUED``
events wait, the oldest going first.

Rule 3: events older than ``[audit] retention_days`` are pruned by every process every
``prune_interval_minutes`` (the first run a minute after start), with session metadata whose
session is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from ..errors import ApiError
from ..observability import metrics
from ..ops_settings import AuditSettings, read_table
from ..store.base import AuditEvent, AuditQuery, SessionInfo, Store, UserRecord
from .context import Services

log = logging.getLogger("latchkey.audit")

#: The client address of the request being served (set by ``server.observability``).
client_address: ContextVar[str | None] = ContextVar("latchkey_client_address", default=None)

LOGIN = "login"
LOGIN_ERROR = "login_error"
USER_CREATED = "user_created"
LOGOUT = "logout"
REFRESH_ERROR = "refresh_error"
LINK = "link"
LINK_ERROR = "link_error"
USER_DELETED = "user_deleted"
SESSION_REVOKED = "session_revoked"
OTHER_SESSIONS_REVOKED = "other_sessions_revoked"
#: Every kind recorded, with what it means (the Admin API documents these).
AUDIT_KINDS: dict[str, str] = {
    LOGIN: "a login succeeded (a new session)",
    LOGIN_ERROR: "a login was refused; reason is the error code",
    USER_CREATED: "a user was created by its first login",
    LOGOUT: "a session was ended by its refresh token",
    REFRESH_ERROR: "a refresh was refused; reason is the error code",
    LINK: "an identity was linked to a user",
    LINK_ERROR: "linking an identity was refused",
    "register": "an email/password account was registered",
    "register_error": "a registration was refused",
    "confirm": "an email/password account was confirmed",
    "confirm_error": "a confirmation was refused",
    "confirm_send": "a confirmation mail was asked for",
    "confirm_call": "the confirmation function was run again",
    "reset_send": "a password reset mail was asked for",
    "reset_call": "a password reset by function was asked for",
    "reset": "a password was reset with a reset link",
    "reset_error": "a password reset was refused",
    USER_DELETED: "a user deleted itself",
    "api_key_created": "an API key was created",
    "api_key_enabled": "an API key was enabled",
    "api_key_disabled": "an API key was disabled",
    "api_key_deleted": "an API key was deleted",
    SESSION_REVOKED: "a user ended one of its sessions",
    OTHER_SESSIONS_REVOKED: "a user ended all its sessions but the current one",
    "admin_login": "an admin key opened an Admin API session",
    "admin_login_error": "an Admin API login was refused",
    "admin_logout": "an Admin API session ended",
    "admin_user_created": "an admin created an email/password user",
    "admin_user_deleted": "an admin deleted a user",
    "admin_user_disabled": "an admin disabled a user",
    "admin_user_enabled": "an admin enabled a user",
    "admin_user_logged_out": "an admin ended every session of a user",
    "admin_user_factors_reset": "an admin removed a user's authenticator and recovery codes",
    "admin_custom_data_written": "an admin replaced a user's custom user data",
    "admin_pending_confirmed": "an admin confirmed a pending registration",
    "admin_pending_confirmation_rerun": "an admin ran a pending registration's confirmation again",
    "admin_pending_deleted": "an admin deleted a pending registration",
    "admin_app_key_created": "an admin created an app API key",
    "admin_app_key_enabled": "an admin enabled an app API key",
    "admin_app_key_disabled": "an admin disabled an app API key",
    "admin_app_key_deleted": "an admin deleted an app API key",
    "admin_user_key_enabled": "an admin enabled a user's API key",
    "admin_user_key_disabled": "an admin disabled a user's API key",
    "admin_user_key_deleted": "an admin deleted a user's API key",
}
MAX_TEXT = 200
MAX_QUEUED = 10_000
#: Seconds the writer waits for more events before it writes a batch (Rule 2).
BATCH_DELAY = 0.005
_SECRET_KEY = re.compile(r"password|token|secret|private|^key$|_key$|apikey", re.IGNORECASE)
_SAFE_KEYS = frozenset({"key_name", "api_key_id"})


def new_event_id(at: float) -> str:
    """An event id that sorts by time: microseconds in 16 hex digits, then 32 random bits."""
    return f"{int(at * 1_000_000):016x}{secrets.token_hex(4)}"


class AuditWriter:
    """The per-process queue of events and session metadata, written in batches (Rule 2)."""

    def __init__(self, store: Store, settings: AuditSettings) -> None:
        self.store = store
        self.settings = settings
        self._events: list[AuditEvent] = []
        self._infos: list[SessionInfo] = []
        self._task: asyncio.Task[None] | None = None
        self._pruner: asyncio.Task[None] | None = None
        self.dropped = 0

    def add(self, event: AuditEvent | None = None, info: SessionInfo | None = None) -> None:
        """Queue an event and/or session metadata; the writer task starts if it is idle."""
        if event is not None and self.settings.enabled:
            self._events.append(event)
            if len(self._events) > MAX_QUEUED:
                del self._events[0]
                self.dropped += 1
        if info is not None:
            self._infos.append(info)
            if len(self._infos) > MAX_QUEUED:
                del self._infos[0]
        if self._task is None and (self._events or self._infos):
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            # Gather what comes in the next few milliseconds into the same transaction: on
            # SQLite one event alone costs ~340 µs of CPU to commit, ten together ~40 µs each.
            await asyncio.sleep(BATCH_DELAY)
            while self._events or self._infos:
                events, self._events = self._events, []
                infos, self._infos = self._infos, []
                try:
                    await self.store.write_activity(events, infos)
                except Exception as exc:  # Whatever the driver raises, requests go on.
                    log.warning("could not write %d audit events: %s", len(events),
                                type(exc).__name__)
                    self.dropped += len(events)
                    metrics.AUDIT_DROPPED.inc(len(events))
        finally:
            self._task = None

    async def flush(self) -> None:
        """Wait until everything queued so far is written (or dropped)."""
        while self._task is not None:
            await asyncio.shield(self._task)
        if self._events or self._infos:
            self._task = asyncio.get_running_loop().create_task(self._drain())
            await self._task

    def start(self) -> None:
        """Start pruning old events in the background (Rule 3)."""
        if self.settings.enabled and self._pruner is None:
            self._pruner = asyncio.get_running_loop().create_task(self._prune_forever())

    async def close(self) -> None:
        """Stop pruning and write what is queued."""
        if self._pruner is not None:
            self._pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pruner
            self._pruner = None
        await self.flush()

    async def prune(self, now: float | None = None) -> int:
        """Delete events older than the retention; how many went."""
        cutoff = (now or time.time()) - self.settings.retention_days * 86400
        return await self.store.prune_audit_events(cutoff)

    async def _prune_forever(self) -> None:
        # Processes started together should not all prune at once: a random first delay.
        delay = 60.0 * random.uniform(0.5, 1.5)
        while True:
            await asyncio.sleep(delay)
            try:
                gone = await self.prune()
                if gone:
                    log.info("pruned %d audit events older than %g days", gone,
                             self.settings.retention_days)
            except Exception as exc:  # A store that is down now may be back next time.
                log.warning("could not prune audit events: %s", type(exc).__name__)
            delay = self.settings.prune_interval_minutes * 60.0


def writer(services: Services) -> AuditWriter:
    """The process's audit writer, made on first use from the ``[audit]`` settings."""
    found = services.extras.get("audit")
    if not isinstance(found, AuditWriter) or found.store is not services.store:
        found = AuditWriter(services.store,
                            read_table(services.settings.raw, "audit", AuditSettings))
        services.extras["audit"] = found
    return found


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)[:MAX_TEXT]


def record(services: Services, kind: str, *, user_id: str | None = None,
           provider: str | None = None, device_id: str | None = None,
           reason: str | None = None, actor: str | None = None, address: str | None = None,
           **detail: Any) -> None:
    """Queue one security event; the address defaults to the current request's client."""
    now = time.time()
    facts = {k: _clean(v) for k, v in detail.items()
             if v is not None and (k in _SAFE_KEYS or not _SECRET_KEY.search(k))}
    event = AuditEvent(new_event_id(now), now, kind, _clean(user_id), _clean(provider),
                       _clean(address or client_address.get()), _clean(device_id),
                       _clean(reason), _clean(actor), facts)
    writer(services).add(event)


@contextlib.asynccontextmanager
async def login_attempt(services: Services, provider: str, device_id: str, *, link: bool = False,
                        user_id: str | None = None, email: Any = None) -> AsyncIterator[None]:
    """Record a refused login (or link) with its error code; successes record themselves."""
    try:
        yield
    except ApiError as exc:
        record(services, LINK_ERROR if link else LOGIN_ERROR, user_id=user_id,
               provider=provider, device_id=device_id, reason=exc.code.value,
               email=email if isinstance(email, str) else None)
        if not link:
            metrics.login(_provider_label(services, provider), exc.code.value)
        raise


def admin_action(services: Services, actor: Any, kind: str, *, user_id: str | None = None,
                 **detail: Any) -> None:
    """Record an Admin API action: ``actor`` is the ``AdminCaller``; the event's ``actor`` is
    its admin key's id, with the key's name in ``detail``."""
    key = getattr(actor, "key", None)
    record(services, kind, user_id=user_id, actor=getattr(key, "id", None),
           device_id=getattr(actor, "device_id", None), admin_name=getattr(key, "name", None),
           **detail)


def _provider_label(services: Services, provider: str | None) -> str:
    # Metric labels come from bounded sets: a provider name from a URL counts only if enabled.
    if provider and services.settings.provider_enabled(provider):
        return provider
    return "other"


def session_opened(services: Services, user: UserRecord, session_id: str, device_id: str,
                   provider: str | None, api_key_id: str | None) -> None:
    """A login: its event (and ``user_created`` for a first login) and the session's metadata.

    A user is new when it has never logged in (``touch_login`` runs right after this).
    """
    new = user.last_login_at is None and api_key_id is None
    address = client_address.get()
    if new:
        record(services, USER_CREATED, user_id=user.id, provider=provider, device_id=device_id)
    record(services, LOGIN, user_id=user.id, provider=provider, device_id=device_id,
           session_id=session_id, api_key_id=api_key_id)
    writer(services).add(info=SessionInfo(session_id, provider, mask_address(address),
                                          time.time()))
    metrics.login(_provider_label(services, provider), "success")


def audited(kind: str, fn: Callable[[Services, dict[str, Any]], Awaitable[None]]
            ) -> Callable[[Services, dict[str, Any]], Awaitable[None]]:
    """Wrap an email/password action ``(services, payload)``: record ``kind`` when it succeeds
    and ``kind_error`` with the error code when it is refused, with the email it names."""
    async def action(services: Services, payload: dict[str, Any]) -> None:
        email = payload.get("email") if isinstance(payload.get("email"), str) else None
        try:
            await fn(services, payload)
        except ApiError as exc:
            record(services, f"{kind}_error", provider="local-userpass", reason=exc.code.value,
                   email=email)
            raise
        record(services, kind, provider="local-userpass", email=email)

    action.__name__ = fn.__name__
    action.__doc__ = fn.__doc__
    return action


@functools.lru_cache(maxsize=4096)  # Clients come back: parse each address once.
def mask_address(address: str | None) -> str:
    """An approximate client address: the IPv4 /24 or IPv6 /48 it is in ("" when unknown)."""
    import ipaddress

    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    bits = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network((ip, bits), strict=False))


async def list_events(services: Services, query: AuditQuery) -> list[AuditEvent]:
    """Events for the Admin API, newest first (this process's queue written first)."""
    await writer(services).flush()
    return await services.store.list_audit_events(query)


async def counts(services: Services, kinds: list[str], since: float, until: float,
                 bucket_seconds: int) -> list[tuple[float, str, int]]:
    """Events per bucket and kind, for the console's charts."""
    await writer(services).flush()
    return await services.store.count_audit_events(kinds, since, until, bucket_seconds)
