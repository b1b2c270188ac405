"""Login (and ``?link=true`` linking) for every provider, and the email/password actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sdk import routes as paths
from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..services import (
    anonymous_login,
    audit,
    mfa,
    providers,
    ratelimit,
    sessions,
    userpass,
    users,
)
from ..services.context import Services
from .common import check_app, client_address, empty, json_body, json_ok

MAX_PROVIDER = 64


async def login(request: Request) -> Response:
    """``POST .../auth/providers/{provider}/login[?link=true]``."""
    services = check_app(request)
    name = str(request.path_params["provider"])[:MAX_PROVIDER]
    body = await json_body(request)
    options = body.pop("options", None)
    link = request.query_params.get("link", "").lower() == "true"
    if link:
        caller = await sessions.check_access(services, request.headers.get("authorization"))
        async with audit.login_attempt(services, name, caller.device_id, link=True,
                                       user_id=caller.user.id):
            proof = await _link_proof(services, name, body, client_address(request),
                                      caller.device_id)
            if proof.user_id is not None:
                raise ApiError(ErrorCode.BAD_REQUEST, 400, "API keys cannot be linked to a user")
            user = await users.link_identity(services, caller.user, proof.identity)
        token = await sessions.access_token(services, user.id, caller.session_id, caller.device_id)
        return json_ok({"access_token": token, "user_id": user.id, "device_id": caller.device_id})
    device_id = sessions.device_id_from(options)
    if name == paths.ANON_USER and anonymous_login.applies(services):
        async with audit.login_attempt(services, name, device_id):
            answer = await anonymous_login.log_in(services, client_address(request), device_id)
        return json_ok(answer)
    email = body.get("username") if name == paths.LOCAL_USERPASS else None
    async with audit.login_attempt(services, name, device_id, email=email):
        proof = await providers.prove(services, name, body, client_address(request), device_id)
        user = await _user_for(services, proof)
        await mfa.after_password(services, user, name, device_id)  # Issue 14: may ask for more.
    return json_ok(await sessions.open_session(services, user, device_id, proof.api_key_id,
                                               provider=name))


async def _link_proof(services: Services, name: str, body: dict[str, Any],
                      address: str, device_id: str) -> providers.Proof:
    try:
        return await providers.prove(services, name, body, address, device_id)
    except ApiError as exc:
        # realm-web refreshes and retries, without limit, any 401 whose text is exactly
        # "unauthorized"; bad credentials to link must not send it into that loop.
        if exc.message == "unauthorized":
            text = "unauthorized: invalid credentials to link"
            raise ApiError(exc.code, exc.status, text) from exc
        raise


async def _user_for(services: Services, proof: providers.Proof) -> Any:
    if proof.user_id is not None:
        user = await services.store.get_user(proof.user_id)
        if user is None:
            raise providers.unauthorized()
    else:
        user = await users.login_identity(services, proof.identity, proof.user_type)
    if user.disabled:
        raise ApiError(ErrorCode.USER_DISABLED, 401, "user disabled")
    return user


def _action(fn: Callable[[Services, dict[str, Any]], Awaitable[None]], status: int = 204, *,
            limited: bool = True) -> Any:
    async def endpoint(request: Request) -> Response:
        services = check_app(request)
        body = await json_body(request)
        if limited:
            # Counted before the service looks the email up, so that probing whether emails
            # have accounts uses up the address's allowance at the same rate either way.
            await ratelimit.email_request(services, client_address(request), body)
        await fn(services, body)
        return empty(status)

    endpoint.__name__ = fn.__name__
    endpoint.__doc__ = fn.__doc__
    return endpoint


_APP = "{app_id}"
ROUTES = [
    Route(paths.login(_APP, "{provider}"), login, methods=["POST"]),
    Route(paths.userpass(_APP, paths.USERPASS_REGISTER),
          _action(audit.audited("register", userpass.register), 201), methods=["POST"]),
    Route(paths.userpass(_APP, paths.USERPASS_CONFIRM),
          _action(audit.audited("confirm", userpass.confirm), limited=False), methods=["POST"]),
    Route(paths.userpass(_APP, paths.USERPASS_CONFIRM_SEND),
          _action(audit.audited("confirm_send", userpass.resend_confirmation)),
          methods=["POST"]),
    Route(paths.userpass(_APP, paths.USERPASS_CONFIRM_CALL),
          _action(audit.audited("confirm_call", userpass.retry_confirmation)),
          methods=["POST"]),
    Route(paths.userpass(_APP, paths.USERPASS_RESET),
          _action(audit.audited("reset", userpass.reset), limited=False), methods=["POST"]),
    Route(paths.userpass(_APP, paths.USERPASS_RESET_SEND),
          _action(audit.audited("reset_send", userpass.send_reset)), methods=["POST"]),
    Route(paths.userpass(_APP, paths.USERPASS_RESET_CALL),
          _action(audit.audited("reset_call", userpass.call_reset)), methods=["POST"]),
]
