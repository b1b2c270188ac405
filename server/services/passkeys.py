"""Passkeys (WebAuthn, issue 14): registration, login with a discoverable credential, and the
caller's list of passkeys, with py_webauthn doing the cryptography.

Rules that must hold:

1. Every ceremony has its own challenge, stored server side (``Store.put_challenge``) under the
   hash of the handle the client holds, and used once (``take_challenge``), before it expires
   (``[providers.passkey] challenge_seconds``). A registration challenge is bound to the user it
   was made for: the new user's id, or the signed-in caller.
2. Origin and RP id come from the config only; user verification is required when the config
   says so; attestation is ``none`` unless the config asks for another conveyance.
3. The sign counter only goes up (``Store.use_passkey``): a counter that did not (a cloned
   authenticator, or two uses racing) refuses the login.
4. A passkey is also a ``passkey`` identity of its user, so profiles list it and linking follows
   the same rules as other providers; its key material stays out of the profile.

HTTP-free: ``server.routes.factors`` and the ``passkey`` login provider call in here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    RegistrationCredential,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app.sdk import routes
from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..store.base import AuthChallenge, Conflict, Identity, Passkey, UserRecord
from . import identity_limits, providers, users
from .context import Services

REGISTER, LOGIN, SECOND_FACTOR = "passkey-register", "passkey-login", "passkey-mfa"
MAX_NAME = 64


def b64url(raw: bytes) -> str:
    """Unpadded base64url, WebAuthn's text form of bytes."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """The bytes of unpadded base64url text."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def handle_hash(handle: str) -> str:
    """The store key of a ceremony handle (the handle itself is never stored)."""
    return hashlib.sha256(handle.encode()).hexdigest()


def refused(reason: str) -> ApiError:
    """401 ``PasskeyInvalid`` with the reason (never a secret)."""
    return ApiError(ErrorCode.PASSKEY_INVALID, 401, f"passkey refused: {reason}")


def _enabled(services: Services) -> None:
    if not services.settings.passkey.enabled:
        raise ApiError(ErrorCode.AUTH_PROVIDER_NOT_FOUND, 404,
                       "authentication via 'passkey' is unsupported")


async def _begin(services: Services, kind: str, user_id: str | None,
                 data: dict[str, Any]) -> tuple[str, bytes]:
    handle = secrets.token_urlsafe(32)
    challenge = secrets.token_bytes(32)
    expires = time.time() + services.settings.passkey.challenge_seconds
    await services.store.put_challenge(AuthChallenge(handle_hash(handle), kind, user_id,
                                                     b64url(challenge), expires, data))
    return handle, challenge


async def take(services: Services, handle: Any, kind: str) -> AuthChallenge:
    """The ceremony of a handle, used up now; 401 if unknown, used, expired or of a kind."""
    if not isinstance(handle, str) or not handle or len(handle) > 200:
        raise ApiError(ErrorCode.INVALID_PARAMETER, 400, "expected a string field 'challenge_id'")
    found = await services.store.take_challenge(handle_hash(handle), time.time())
    if found is None or found.kind != kind:
        raise refused("the challenge is unknown, used or expired")
    return found


def _options(opts: Any) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(options_to_json(opts))
    return value


def _uv(services: Services) -> UserVerificationRequirement:
    return UserVerificationRequirement(services.settings.passkey.user_verification)


async def registration_options(services: Services, user: UserRecord | None,
                               user_name: str) -> dict[str, Any]:
    """Options for ``navigator.credentials.create``: a new account when ``user`` is ``None``,
    else one more passkey for ``user``. ``{challenge_id, options}``."""
    _enabled(services)
    cfg = services.settings.passkey
    user_id = user.id if user is not None else users.new_id()
    existing = await services.store.list_passkeys(user.id) if user is not None else []
    name = (user_name or _default_user_name(user) or f"{cfg.rp_name} user")[:MAX_NAME]
    handle, challenge = await _begin(services, REGISTER, user.id if user else None,
                                     {"user_id": user_id})
    opts = generate_registration_options(
        rp_id=cfg.rp_id, rp_name=cfg.rp_name, user_name=name, user_id=user_id.encode(),
        challenge=challenge, timeout=int(cfg.challenge_seconds * 1000),
        attestation=AttestationConveyancePreference(cfg.attestation),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, require_resident_key=True,
            user_verification=_uv(services)),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=unb64url(p.id))
                             for p in existing])
    return {"challenge_id": handle, "options": _options(opts)}


def _default_user_name(user: UserRecord | None) -> str:
    if user is None:
        return ""
    email = users.profile_data(user).get("email")
    return email if isinstance(email, str) else ""


def _name(value: Any) -> str:
    if value is None:
        return "Passkey"
    # Printable only: a NUL was stored by SQLite and a 500 on PostgreSQL (found in review).
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME \
            or not value.isprintable():
        raise ApiError(ErrorCode.INVALID_PARAMETER, 400,
                       f"a passkey name is 1 to {MAX_NAME} printable characters")
    return value.strip()


def _parse_registration(credential: Any) -> RegistrationCredential:
    try:
        return parse_registration_credential_json(credential)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise ApiError(ErrorCode.INVALID_PARAMETER, 400,
                       "expected a WebAuthn registration in 'credential'") from exc


async def register(services: Services, payload: dict[str, Any],
                   caller: UserRecord | None) -> tuple[UserRecord, Passkey]:
    """Finish a registration: the new user with its first passkey (``caller`` is ``None``), or
    the caller's new passkey. Refuses a challenge made for someone else."""
    _enabled(services)
    name = _name(payload.get("name"))
    credential = _parse_registration(payload.get("credential"))
    ceremony = await take(services, payload.get("challenge_id"), REGISTER)
    if ceremony.user_id != (caller.id if caller is not None else None):
        raise refused("the challenge was made for another user")
    if caller is not None:
        identity_limits.check_room(caller, routes.PASSKEY)
    cfg = services.settings.passkey
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=unb64url(ceremony.challenge),
            expected_rp_id=cfg.rp_id, expected_origin=list(cfg.origins),
            require_user_verification=cfg.require_uv)
    except WebAuthnException as exc:
        raise refused(str(exc)) from exc
    now = time.time()
    user_id = str(ceremony.data["user_id"])
    passkey = Passkey(b64url(verified.credential_id), user_id,
                      b64url(verified.credential_public_key), verified.sign_count, name, now,
                      now, tuple(str(t.value) for t in credential.response.transports or ()),
                      verified.aaguid, verified.credential_backed_up)
    new_user = UserRecord(user_id, "normal", False, now) if caller is None else None
    try:
        await services.store.add_passkey(passkey, users.provider_id(services, routes.PASSKEY),
                                         new_user)
    except Conflict as exc:
        raise ApiError(ErrorCode.IDENTITY_ALREADY_LINKED, 409,
                       "this passkey is registered already") from exc
    user = await services.store.get_user(user_id)
    if user is None:
        raise ApiError(ErrorCode.INVALID_SESSION, 401, "invalid session: user not found")
    return user, passkey


async def login_options(services: Services, user: UserRecord | None = None) -> dict[str, Any]:
    """Options for ``navigator.credentials.get``: any discoverable passkey of this RP, or (with
    ``user``, as a second factor) one of that user's. ``{challenge_id, options}``."""
    _enabled(services)
    cfg = services.settings.passkey
    allowed = await services.store.list_passkeys(user.id) if user is not None else []
    handle, challenge = await _begin(services, SECOND_FACTOR if user else LOGIN,
                                     user.id if user else None, {})
    opts = generate_authentication_options(
        rp_id=cfg.rp_id, challenge=challenge, timeout=int(cfg.challenge_seconds * 1000),
        allow_credentials=[PublicKeyCredentialDescriptor(id=unb64url(p.id)) for p in allowed],
        user_verification=_uv(services))
    return {"challenge_id": handle, "options": _options(opts)}


def _parse_assertion(credential: Any) -> AuthenticationCredential:
    try:
        return parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise ApiError(ErrorCode.INVALID_PARAMETER, 400,
                       "expected a WebAuthn assertion in 'credential'") from exc


async def verify_assertion(services: Services, payload: dict[str, Any], kind: str = LOGIN,
                           user_id: str | None = None) -> Passkey:
    """Check a login assertion against its ceremony and the stored passkey, and record the
    use; the passkey. ``user_id`` (for a second factor) is whose passkey it must be."""
    _enabled(services)
    credential = _parse_assertion(payload.get("credential"))
    ceremony = await take(services, payload.get("challenge_id"), kind)
    if ceremony.user_id != user_id:
        raise refused("the challenge was made for another login")
    passkey = await services.store.get_passkey(b64url(credential.raw_id))
    if passkey is None or (user_id is not None and passkey.user_id != user_id):
        raise refused("this passkey is not registered here")
    handle = credential.response.user_handle
    if handle is not None and handle != passkey.user_id.encode():
        raise refused("the passkey belongs to another user")
    cfg = services.settings.passkey
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=unb64url(ceremony.challenge),
            expected_rp_id=cfg.rp_id, expected_origin=list(cfg.origins),
            credential_public_key=unb64url(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=cfg.require_uv)
    except WebAuthnException as exc:
        raise refused(str(exc)) from exc
    if not await services.store.use_passkey(passkey.id, verified.new_sign_count, time.time()):
        raise refused("its signature counter did not go up (a cloned authenticator?)")
    return passkey


def identity_of(services: Services, passkey: Passkey) -> Identity:
    """The ``passkey`` identity a passkey logs in as."""
    return Identity(routes.PASSKEY, passkey.id, users.provider_id(services, routes.PASSKEY))


def describe(passkey: Passkey) -> dict[str, Any]:
    """A passkey as the caller's list shows it (no key material)."""
    return {"id": passkey.id, "name": passkey.name, "created_at": passkey.created_at,
            "last_used_at": passkey.last_used_at, "backed_up": passkey.backed_up,
            "transports": list(passkey.transports)}


async def list_for(services: Services, user: UserRecord) -> list[dict[str, Any]]:
    """The caller's passkeys, oldest first."""
    return [describe(p) for p in await services.store.list_passkeys(user.id)]


async def rename(services: Services, user: UserRecord, credential_id: str,
                 payload: dict[str, Any]) -> dict[str, Any]:
    """Rename one of the caller's passkeys; the passkey."""
    name = _name(payload.get("name") if "name" in payload else "")
    if not await services.store.rename_passkey(user.id, credential_id, name):
        raise _not_found()
    passkey = await services.store.get_passkey(credential_id)
    if passkey is None:
        raise _not_found()
    return describe(passkey)


async def delete(services: Services, user: UserRecord, credential_id: str) -> None:
    """Delete one of the caller's passkeys, unless it is the last way in."""
    try:
        found = await services.store.delete_passkey(user.id, credential_id)
    except Conflict as exc:
        raise ApiError(ErrorCode.LAST_IDENTITY, 409,
                       "this passkey is the account's only way to log in") from exc
    if not found:
        raise _not_found()


def _not_found() -> ApiError:
    return ApiError(ErrorCode.PASSKEY_NOT_FOUND, 404, "passkey not found")


@providers.provider(routes.PASSKEY)
async def passkey_login(services: Services, payload: dict[str, Any], address: str
                        ) -> providers.Proof:
    """``POST .../auth/providers/passkey/login`` with ``{challenge_id, credential}``."""
    return providers.Proof(identity_of(services, await verify_assertion(services, payload)))
