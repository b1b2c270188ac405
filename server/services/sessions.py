"""Sessions: issuing tokens at login, refreshing, logging out, and checking bearer tokens.

Rule 1: every token is checked on every use: signature, expiry, type, app, and that its user
still exists and is enabled; a refresh token must also name a live session whose stored hash
matches. Deleting the session (logout) or the user kills the refresh token everywhere at once.

Rule 2: an access token lives only as long as its session row. Logout, a disabled or deleted
API key, a disabled or deleted user and a password reset delete sessions, and every process
refuses their access tokens from the next request on (401 ``InvalidSession``, on which clients
refresh, fail and log out). The check is the same read that loads the user (a join), so it
costs no round trip. A session that ended by time alone (its refresh token expired) does not
cut its access tokens short: they were issued while it lived and keep their own ``exp``, as in
App Services.

Rule 3: error texts name the reason but never echo the token.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from app.sdk.errors import ErrorCode

from .. import ejson
from ..errors import ApiError, invalid_session
from ..store.base import RefreshRead, Session, UserRecord
from . import audit, users
from .context import Services
from .tokens import TokenError, digest, same_digest

ZERO_ID = "0" * 24


@dataclass(frozen=True, slots=True)
class Caller:
    """The user behind a valid bearer token, and its session."""

    user: UserRecord
    session_id: str
    device_id: str
    session: Session | None = None


def bearer(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header; 401 ``MissingAuthReq`` without one."""
    if not authorization:
        raise ApiError(ErrorCode.MISSING_AUTH_REQ, 401, "must authenticate first")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(ErrorCode.MISSING_AUTH_REQ, 401, "must authenticate first")
    if token in ("null", "undefined"):
        raise invalid_session("no token")
    return token


async def _live_user(services: Services, user_id: str) -> UserRecord:
    user = await services.store.get_user(user_id)
    if user is None:
        raise invalid_session("user not found")
    if user.disabled:
        raise ApiError(ErrorCode.USER_DISABLED, 401, "user disabled")
    return user


async def check_access(services: Services, authorization: str | None) -> Caller:
    """The caller behind an access token."""
    token = bearer(authorization)
    try:
        claims = services.signer.verify(token, "access")
    except TokenError as exc:
        raise invalid_session(str(exc)) from exc
    user = await services.store.get_user_for_session(claims.sub, claims.session_id)
    if user is None:
        raise invalid_session("session ended")
    if user.disabled:
        raise ApiError(ErrorCode.USER_DISABLED, 401, "user disabled")
    return Caller(user, claims.session_id, claims.device_id)


async def check_refresh(services: Services, authorization: str | None) -> Caller:
    """The caller behind a refresh token whose session is alive."""
    token = bearer(authorization)
    try:
        claims = services.signer.verify(token, "refresh")
    except TokenError as exc:
        raise invalid_session(str(exc)) from exc
    session = await services.store.get_session(claims.session_id)
    if session is None or not same_digest(token, session.token_hash):
        raise invalid_session("failed to find refresh token")
    if session.expires_at <= time.time():
        raise invalid_session("refresh token expired")
    user = await _live_user(services, session.user_id)
    return Caller(user, session.id, session.device_id, session)


async def user_data_claim(services: Services, user_id: str) -> dict[str, Any]:
    """The custom user data to embed in an access token (relaxed EJSON, no ``_id``)."""
    return data_claim(await users.read_custom_data(services, user_id))


def data_claim(doc: dict[str, Any] | None) -> dict[str, Any]:
    """The access token's custom data claim of a custom user data document."""
    if not doc:
        return {}
    claim = ejson.to_relaxed({k: v for k, v in doc.items() if k != "_id"})
    return claim if isinstance(claim, dict) else {}


async def access_token(services: Services, user_id: str, session_id: str, device_id: str) -> str:
    """A fresh access token for a session."""
    data = await user_data_claim(services, user_id)
    return services.signer.access_token(
        user_id, session_id, device_id, data, services.settings.access_token_seconds
    )


def device_id_from(options: Any) -> str:
    """The client's device id when it sent a valid non-zero one, else a new id."""
    device = options.get("device") if isinstance(options, dict) else None
    raw = device.get("deviceId") if isinstance(device, dict) else None
    value = ejson.as_id(raw)
    return value if value and value != ZERO_ID else new_device_id()


def new_device_id() -> str:
    """A new device id: 96 random bits in an ObjectId's shape. Not an ObjectId's time and
    counter, which anybody who logs in could predict: a known device id gets past an account's
    login slow-down (``bruteforce``)."""
    return secrets.token_hex(12)


async def open_session(services: Services, user: UserRecord, device_id: str,
                       api_key_id: str | None = None, *,
                       provider: str | None = None) -> dict[str, str]:
    """Create a session; the login answer ``{access_token, refresh_token, user_id, device_id}``.

    ``provider`` is the login's provider, for the audit log and the user's list of sessions.
    """
    now = time.time()
    lifetime = services.settings.refresh_token_seconds
    session_id = users.new_id()
    refresh = services.signer.refresh_token(user.id, session_id, device_id, lifetime)
    await services.store.create_session(
        Session(session_id, user.id, digest(refresh), device_id, now, now + lifetime, api_key_id)
    )
    audit.session_opened(services, user, session_id, device_id, provider, api_key_id)
    await services.store.touch_login(user.id, now)
    return {
        "access_token": await access_token(services, user.id, session_id, device_id),
        "refresh_token": refresh,
        "user_id": user.id,
        "device_id": device_id,
    }


async def refresh(services: Services, authorization: str | None) -> dict[str, str]:
    """A new access token for a refresh token (which is not rotated).

    The checks of ``check_refresh`` and the custom data of ``access_token``, on one store read
    (``get_session_for_refresh``): one round trip on PostgreSQL instead of three. A refusal is
    recorded in the audit log.
    """
    try:
        found = await _read_refresh(services, authorization)
    except ApiError as exc:
        audit.record(services, audit.REFRESH_ERROR, reason=exc.code.value)
        raise
    session = found.session
    access = services.signer.access_token(
        session.user_id, session.id, session.device_id, data_claim(found.document),
        services.settings.access_token_seconds)
    _touch(services, session.id)
    return {"access_token": access}


async def _read_refresh(services: Services, authorization: str | None) -> RefreshRead:
    token = bearer(authorization)
    try:
        claims = services.signer.verify(token, "refresh")
    except TokenError as exc:
        raise invalid_session(str(exc)) from exc
    found = await services.store.get_session_for_refresh(
        claims.session_id, users.custom_data_collection(services))
    session = None if found is None else found.session
    if found is None or session is None or not same_digest(token, session.token_hash):
        raise invalid_session("failed to find refresh token")
    if session.expires_at <= time.time():
        raise invalid_session("refresh token expired")
    if found.user is None:
        raise invalid_session("user not found")
    if found.user.disabled:
        raise ApiError(ErrorCode.USER_DISABLED, 401, "user disabled")
    return found


async def log_out(services: Services, authorization: str | None) -> None:
    """Revoke the session of a refresh token, also an expired one."""
    token = bearer(authorization)
    session = await services.store.get_session(_session_id_for_logout(services, token))
    if session is None or not same_digest(token, session.token_hash):
        raise invalid_session("failed to find refresh token")
    await services.store.delete_session(session.id)
    audit.record(services, audit.LOGOUT, user_id=session.user_id, device_id=session.device_id,
                 session_id=session.id)


def _touch(services: Services, session_id: str) -> None:
    from .user_sessions import touch  # It imports this module.

    touch(services, session_id)


def _session_id_for_logout(services: Services, token: str) -> str:
    try:
        return services.signer.verify(token, "refresh").session_id
    except TokenError as exc:
        # An expired refresh token still names its session. Ending that session is safe without
        # the signature check, since only the genuine token matches the stored hash; and it
        # lets realm-web's logOut, which swallows only "failed to find refresh token", succeed
        # after a long absence instead of failing.
        try:
            raw = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise invalid_session(str(exc)) from exc
        if raw.get("typ") != "refresh" or not isinstance(raw.get("baas_id"), str):
            raise invalid_session(str(exc)) from exc
        return str(raw["baas_id"])
