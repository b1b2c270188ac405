"""Second factors (issue 14): TOTP authenticators, single-use recovery codes, and the login
step that asks for one of them (or a passkey) after the password.

Rules that must hold:

1. A login of a provider named in ``[mfa] providers`` by a user with a confirmed authenticator
   answers 401 ``SecondFactorRequired`` with an ``mfa_token`` instead of tokens; the session
   opens only when ``verify`` gets a good code for it. realm-web sees a failed login
   (``MongoDBRealmError``, status 401, ``errorCode`` ``SecondFactorRequired``), never tokens.
2. A TOTP code is good once: ``Store.use_totp_step`` accepts each time step once and none
   before the last accepted one. A recovery code is deleted by its use. Codes are compared in
   constant time; recovery codes are stored as SHA-256 hashes (they are random, not chosen).
3. Every code check goes through the login brute-force counts (``bruteforce.admit``), keyed by
   the user, so guessing a code is held to the same pace as guessing a password.
4. No secret (TOTP secret, code, recovery code, mfa token) goes into an error or a log.

HTTP-free: ``server.routes.factors`` and the login route call in here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any, cast

import pyotp
import segno

from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..store.base import AuthChallenge, Conflict, TotpFactor, UserRecord
from . import bruteforce, passkeys, sessions, users
from .context import Services

KIND = "mfa"
STEP = 30
RECOVERY_CODES = 10
TOTP, RECOVERY, PASSKEY = "totp", "recovery_code", "passkey"


class SecondFactorRequired(ApiError):
    """401 answer to a login that needs a second factor: the error body plus ``mfa_token``,
    ``factors`` (what ``verify`` accepts) and ``expires_in`` (seconds)."""

    def __init__(self, code: ErrorCode, message: str, mfa_token: str, factors: list[str],
                 expires_in: float) -> None:
        super().__init__(code, 401, message)
        self.extra: dict[str, Any] = {"mfa_token": mfa_token, "factors": factors,
                                      "expires_in": int(expires_in)}

    def __call__(self, base: str = "") -> tuple[int, dict[str, str]]:
        status, body = super().__call__(base)
        # The renderer serialises any JSON value; ApiError's annotation names only strings.
        return status, cast(dict[str, str], {**body, **self.extra})


def invalid(message: str = "the code is wrong or was used already") -> ApiError:
    """401 ``SecondFactorInvalid``."""
    return ApiError(ErrorCode.SECOND_FACTOR_INVALID, 401, message)


def _enabled(services: Services) -> None:
    if not services.settings.mfa.enabled:
        raise ApiError(ErrorCode.NOT_FOUND, 404, "second factors are not enabled for this app")


def code_hash(code: str) -> str:
    """The stored form of a recovery code: SHA-256 of its normalised text."""
    return hashlib.sha256(_normal(code).encode()).hexdigest()


def _normal(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _new_codes() -> list[str]:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    codes = ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    return [f"{c[:5]}-{c[5:]}" for c in codes]


async def status(services: Services, user: UserRecord) -> dict[str, Any]:
    """What the caller has: ``{totp, recovery_codes_left, passkeys, required}``."""
    factor = await services.store.get_totp(user.id)
    confirmed = factor is not None and factor.confirmed
    return {"totp": confirmed,
            "recovery_codes_left": factor.recovery_codes_left if confirmed and factor else 0,
            "passkeys": len(await services.store.list_passkeys(user.id)),
            "required": services.settings.mfa.required}


async def enrol(services: Services, user: UserRecord) -> dict[str, str]:
    """Start (or restart) a TOTP enrolment: ``{secret, otpauth_uri, qr_svg}``, shown once."""
    _enabled(services)
    secret = pyotp.random_base32()
    try:
        await services.store.put_totp(TotpFactor(user.id, secret, False, 0, time.time()))
    except Conflict as exc:
        raise ApiError(ErrorCode.SECOND_FACTOR_EXISTS, 409,
                       "an authenticator is set up already; disable it first") from exc
    label = users.profile_data(user).get("email")
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=label if isinstance(label, str) else user.id,
        issuer_name=services.settings.mfa.issuer)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code of the authenticator key")
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": svg}


def _matching_step(services: Services, secret: str, code: str) -> int | None:
    totp = pyotp.TOTP(secret)
    now = int(time.time()) // STEP
    window = services.settings.mfa.totp_window
    for step in range(now - window, now + window + 1):
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def _code(payload: dict[str, Any], name: str = "code") -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        code = ErrorCode.MISSING_PARAMETER if value is None else ErrorCode.INVALID_PARAMETER
        raise ApiError(code, 400, f"expected a string field '{name}'")
    return value.strip()


async def _admit(services: Services, user_id: str, address: str,
                 device_id: str) -> bruteforce.Admission:
    return await bruteforce.admit(services, f"mfa:{user_id}", address, device_id)


async def confirm(services: Services, user: UserRecord, payload: dict[str, Any],
                  address: str, device_id: str = "") -> dict[str, Any]:
    """Confirm an enrolment with one code: ``{recovery_codes}`` (ten, shown once)."""
    _enabled(services)
    code = _code(payload)
    factor = await services.store.get_totp(user.id)
    if factor is None or factor.confirmed:
        raise ApiError(ErrorCode.SECOND_FACTOR_NOT_FOUND, 404,
                       "no authenticator is waiting for confirmation")
    attempt = await _admit(services, user.id, address, device_id)
    step = _matching_step(services, factor.secret, code)
    if step is None:
        raise invalid()
    codes = _new_codes()
    if not await services.store.confirm_totp(user.id, step, [code_hash(c) for c in codes]):
        raise invalid("the authenticator was confirmed already")
    await attempt.succeeded()
    return {"recovery_codes": codes}


async def check(services: Services, user_id: str, payload: dict[str, Any], address: str,
                device_id: str = "") -> str:
    """Check a second factor of a confirmed user: ``code`` (TOTP), ``recovery_code``, or
    ``passkey`` (``{challenge_id, credential}`` from ``passkey_options``); which one passed."""
    if isinstance(payload.get(PASSKEY), dict):
        await passkeys.verify_assertion(services, payload[PASSKEY], passkeys.SECOND_FACTOR,
                                        user_id)
        return PASSKEY
    factor = await services.store.get_totp(user_id)
    if factor is None or not factor.confirmed:
        raise ApiError(ErrorCode.SECOND_FACTOR_NOT_FOUND, 404, "no authenticator is set up")
    recovery = RECOVERY in payload
    code = _code(payload, RECOVERY if recovery else "code")
    attempt = await _admit(services, user_id, address, device_id)
    if recovery:
        if not await services.store.use_recovery_code(user_id, code_hash(code)):
            raise invalid()
    else:
        step = _matching_step(services, factor.secret, code)
        if step is None or not await services.store.use_totp_step(user_id, step):
            raise invalid()
    await attempt.succeeded()
    return RECOVERY if recovery else TOTP


async def disable(services: Services, user: UserRecord, payload: dict[str, Any],
                  address: str, device_id: str = "") -> None:
    """Turn TOTP off (and drop the recovery codes), with a current code or a recovery code."""
    _enabled(services)
    await check(services, user.id, payload, address, device_id)
    await services.store.delete_factors(user.id)


async def new_recovery_codes(services: Services, user: UserRecord, payload: dict[str, Any],
                             address: str, device_id: str = "") -> dict[str, Any]:
    """Replace the recovery codes, with a current code: ``{recovery_codes}``, shown once."""
    _enabled(services)
    await check(services, user.id, payload, address, device_id)
    codes = _new_codes()
    await services.store.set_recovery_codes(user.id, [code_hash(c) for c in codes])
    return {"recovery_codes": codes}


async def reset(services: Services, user_id: str) -> bool:
    """Remove a user's authenticator and recovery codes (administrators); passkeys stay."""
    return await services.store.delete_factors(user_id)


# The login step.
async def after_password(services: Services, user: UserRecord, provider: str,
                         device_id: str) -> None:
    """Raise ``SecondFactorRequired`` when this login needs a second factor (rule 1)."""
    cfg = services.settings.mfa
    if not cfg.enabled or provider not in cfg.providers:
        return
    factor = await services.store.get_totp(user.id)
    if factor is not None and factor.confirmed:
        factors = [TOTP, RECOVERY]
        if services.settings.passkey.enabled and await services.store.list_passkeys(user.id):
            factors.append(PASSKEY)
        code, message = ErrorCode.SECOND_FACTOR_REQUIRED, "second factor required"
    elif cfg.required:
        factors = []
        code, message = (ErrorCode.SECOND_FACTOR_ENROLMENT_REQUIRED,
                         "set up a second factor to log in")
    else:
        return
    token = secrets.token_urlsafe(32)
    await services.store.put_challenge(AuthChallenge(
        passkeys.handle_hash(token), KIND, user.id, "", time.time() + cfg.login_seconds,
        {"device_id": device_id, "provider": provider}))
    raise SecondFactorRequired(code, message, token, factors, cfg.login_seconds)


async def pending_login(services: Services, mfa_token: Any) -> AuthChallenge:
    """The login an ``mfa_token`` stands for, left in place; 401 if unknown or expired."""
    if not isinstance(mfa_token, str) or not mfa_token:
        code = ErrorCode.MISSING_PARAMETER if mfa_token is None else ErrorCode.INVALID_PARAMETER
        raise ApiError(code, 400, "expected a string field 'mfa_token'")
    if len(mfa_token) > 200:  # No login's token is this long: as unknown as any other.
        raise invalid("the login expired or was finished already; log in again")
    found = await services.store.get_challenge(passkeys.handle_hash(mfa_token), time.time())
    if found is None or found.kind != KIND or found.user_id is None:
        raise invalid("the login expired or was finished already; log in again")
    return found


async def login_user(services: Services, mfa_token: Any) -> tuple[UserRecord, str]:
    """The user of a waiting login and the device it is for."""
    pending = await pending_login(services, mfa_token)
    user = await services.store.get_user(pending.user_id or "")
    if user is None:
        raise invalid("the login expired or was finished already; log in again")
    return user, str(pending.data.get("device_id", ""))


async def finish_login(services: Services, pending: AuthChallenge,
                       mfa_token: str) -> dict[str, str]:
    """Open the session of a login whose second factor passed (the token is used up)."""
    taken = await services.store.take_challenge(passkeys.handle_hash(mfa_token), time.time())
    user = await services.store.get_user(pending.user_id or "")
    if taken is None or user is None:
        raise invalid("the login expired or was finished already; log in again")
    if user.disabled:
        raise ApiError(ErrorCode.USER_DISABLED, 401, "user disabled")
    provider = pending.data.get("provider")
    return await sessions.open_session(services, user, str(pending.data.get("device_id", "")),
                                       provider=str(provider) if provider else None)


async def verify(services: Services, payload: dict[str, Any], address: str) -> dict[str, str]:
    """``POST .../auth/mfa/verify``: the second step of a login; the login answer."""
    pending = await pending_login(services, payload.get("mfa_token"))
    user_id = pending.user_id or ""
    await check(services, user_id, payload, address, str(pending.data.get("device_id", "")))
    return await finish_login(services, pending, str(payload["mfa_token"]))
