"""Passkeys and second factors (issue 14): Latchkey's additions to the app's client API.

Passkey ceremonies live under the ``passkey`` provider's path (its login is the common
``.../auth/providers/passkey/login``); second factors under ``.../auth/mfa``. Management routes
take the access token; a login waiting for its second factor is named by its ``mfa_token``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sdk import routes as paths

from ..services import mfa, passkeys, ratelimit, sessions
from ..services.context import Services
from ..services.sessions import Caller
from .common import check_app, client_address, empty, json_body, json_ok


async def _caller(request: Request, services: Services) -> Caller:
    return await sessions.check_access(services, request.headers.get("authorization"))


async def _maybe_caller(request: Request, services: Services) -> Caller | None:
    if not request.headers.get("authorization"):
        return None
    return await _caller(request, services)


async def register_options(request: Request) -> Response:
    """``POST .../passkey/register/options {user_name?}``: ``{challenge_id, options}`` for
    ``navigator.credentials.create``; with an access token, for one more passkey of the caller."""
    services = check_app(request)
    caller = await _maybe_caller(request, services)
    body = await json_body(request, required=False)
    if caller is None:
        await ratelimit.login_attempt(services, client_address(request))
    name = body.get("user_name")
    return json_ok(await passkeys.registration_options(
        services, caller.user if caller else None, name if isinstance(name, str) else ""))


async def register(request: Request) -> Response:
    """``POST .../passkey/register {challenge_id, credential, name?, options?}``: without a
    token, a new user and its session (the login answer plus ``passkey``); with one, the
    caller's new ``passkey``. 201 either way."""
    services = check_app(request)
    caller = await _maybe_caller(request, services)
    body = await json_body(request)
    user, passkey = await passkeys.register(services, body, caller.user if caller else None)
    if caller is not None:
        return json_ok({"user_id": user.id, "passkey": passkeys.describe(passkey)}, 201)
    device_id = sessions.device_id_from(body.get("options"))
    answer = await sessions.open_session(services, user, device_id, provider="passkey")
    return json_ok({**answer, "passkey": passkeys.describe(passkey)}, 201)


async def login_options(request: Request) -> Response:
    """``POST .../passkey/login/options``: ``{challenge_id, options}`` for
    ``navigator.credentials.get`` (discoverable credentials, so no user name)."""
    services = check_app(request)
    await ratelimit.login_attempt(services, client_address(request))
    return json_ok(await passkeys.login_options(services))


async def list_passkeys(request: Request) -> Response:
    """``GET .../passkey/credentials``: the caller's passkeys, oldest first."""
    services = check_app(request)
    caller = await _caller(request, services)
    return json_ok(await passkeys.list_for(services, caller.user))


async def rename_passkey(request: Request) -> Response:
    """``PATCH .../passkey/credentials/{credential_id} {name}``: the renamed passkey."""
    services = check_app(request)
    caller = await _caller(request, services)
    body = await json_body(request)
    return json_ok(await passkeys.rename(services, caller.user,
                                         str(request.path_params["credential_id"]), body))


async def delete_passkey(request: Request) -> Response:
    """``DELETE .../passkey/credentials/{credential_id}``; 409 for the last way in."""
    services = check_app(request)
    caller = await _caller(request, services)
    await passkeys.delete(services, caller.user, str(request.path_params["credential_id"]))
    return empty()


async def mfa_status(request: Request) -> Response:
    """``GET .../auth/mfa``: ``{totp, recovery_codes_left, passkeys, required}``."""
    services = check_app(request)
    caller = await _caller(request, services)
    return json_ok(await mfa.status(services, caller.user))


async def _enrolling_user(request: Request, services: Services,
                          body: dict[str, Any]) -> tuple[Any, str, str | None]:
    # Enrolment takes the access token, or the mfa_token of a login that must enrol first.
    token = body.get("mfa_token")
    if token is not None and not request.headers.get("authorization"):
        user, device_id = await mfa.login_user(services, token)
        return user, device_id, str(token)
    caller = await _caller(request, services)
    return caller.user, caller.device_id, None


async def totp_enrol(request: Request) -> Response:
    """``POST .../auth/mfa/totp {mfa_token?}``: ``{secret, otpauth_uri, qr_svg}``, once."""
    services = check_app(request)
    body = await json_body(request, required=False)
    user, _, _ = await _enrolling_user(request, services, body)
    return json_ok(await mfa.enrol(services, user))


async def totp_confirm(request: Request) -> Response:
    """``POST .../auth/mfa/totp/confirm {code, mfa_token?}``: ``{recovery_codes}``, once; with
    an ``mfa_token``, the login answer too."""
    services = check_app(request)
    body = await json_body(request)
    user, device_id, token = await _enrolling_user(request, services, body)
    answer = await mfa.confirm(services, user, body, client_address(request), device_id)
    if token is not None:
        pending = await mfa.pending_login(services, token)
        answer.update(await mfa.finish_login(services, pending, token))
    return json_ok(answer)


async def totp_disable(request: Request) -> Response:
    """``POST .../auth/mfa/totp/disable {code | recovery_code}``."""
    services = check_app(request)
    caller = await _caller(request, services)
    body = await json_body(request)
    await mfa.disable(services, caller.user, body, client_address(request), caller.device_id)
    return empty()


async def recovery_codes(request: Request) -> Response:
    """``POST .../auth/mfa/recovery-codes {code}``: ten new ``recovery_codes``, once."""
    services = check_app(request)
    caller = await _caller(request, services)
    body = await json_body(request)
    return json_ok(await mfa.new_recovery_codes(services, caller.user, body,
                                                client_address(request), caller.device_id))


async def verify(request: Request) -> Response:
    """``POST .../auth/mfa/verify {mfa_token, code | recovery_code | passkey}``: the login
    answer ``{access_token, refresh_token, user_id, device_id}``."""
    services = check_app(request)
    body = await json_body(request)
    return json_ok(await mfa.verify(services, body, client_address(request)))


async def passkey_options(request: Request) -> Response:
    """``POST .../auth/mfa/passkey/options {mfa_token}``: options for the waiting login's
    user to answer with one of their passkeys."""
    services = check_app(request)
    body = await json_body(request)
    user, _ = await mfa.login_user(services, body.get("mfa_token"))
    return json_ok(await passkeys.login_options(services, user))


_APP = "{app_id}"
_CRED = paths.passkey_credential(_APP, "{credential_id}")
ROUTES = [
    Route(paths.passkey(_APP, paths.PASSKEY_REGISTER_OPTIONS), register_options,
          methods=["POST"]),
    Route(paths.passkey(_APP, paths.PASSKEY_REGISTER), register, methods=["POST"]),
    Route(paths.passkey(_APP, paths.PASSKEY_LOGIN_OPTIONS), login_options, methods=["POST"]),
    Route(paths.passkey(_APP, paths.PASSKEY_CREDENTIALS), list_passkeys, methods=["GET"]),
    Route(_CRED, rename_passkey, methods=["PATCH"]),
    Route(_CRED, delete_passkey, methods=["DELETE"]),
    Route(paths.mfa(_APP), mfa_status, methods=["GET"]),
    Route(paths.mfa(_APP, paths.MFA_TOTP), totp_enrol, methods=["POST"]),
    Route(paths.mfa(_APP, paths.MFA_TOTP_CONFIRM), totp_confirm, methods=["POST"]),
    Route(paths.mfa(_APP, paths.MFA_TOTP_DISABLE), totp_disable, methods=["POST"]),
    Route(paths.mfa(_APP, paths.MFA_RECOVERY_CODES), recovery_codes, methods=["POST"]),
    Route(paths.mfa(_APP, paths.MFA_VERIFY), verify, methods=["POST"]),
    Route(paths.mfa(_APP, paths.MFA_PASSKEY_OPTIONS), passkey_options, methods=["POST"]),
]
