"""Email/password accounts: registration, confirmation and password reset.

Confirmation modes: ``auto`` (confirmed at registration), ``email`` (a link with ``token`` and
``tokenId``), ``function`` (the app's confirmation function decides: ``success``, ``pending`` or
``fail``). Reset modes: ``email`` or ``function``. Tokens are 256-bit random values stored only as
hashes, single-use, and valid for ``token_minutes`` (30 by default, as App Services).

Addresses: one account per address in any case or Unicode form (``server.emails``). Every action
finds the account with the address as typed and then works on the account's own address (the
one typed at registration): tokens, mails and the limits per address use that.
A new password (reset by email or function) ends every session of the account's user.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from app.sdk import routes
from app.sdk.errors import ErrorCode

from .. import ejson
from ..errors import ApiError, bad_request
from ..runtime import FunctionNotFound
from ..store.base import Conflict, UserpassAccount, UserpassToken
from . import passwords, ratelimit, users
from .context import FunctionContext, Services
from .mailer import Mail
from .providers import string_field
from .tokens import digest

MAX_EMAIL = 254

log = logging.getLogger("latchkey.server")


def _enabled(services: Services) -> None:
    if not services.settings.provider_enabled(routes.LOCAL_USERPASS):
        raise ApiError(ErrorCode.AUTH_PROVIDER_NOT_FOUND, 404,
                       "authentication via 'local-userpass' is unsupported")


def _email(payload: dict[str, Any]) -> str:
    email = string_field(payload, "email")
    # Control and other unprintable characters (NUL, which PostgreSQL text cannot hold, escape
    # codes, zero-width marks) are never part of a real address; whitespace is refused too.
    if len(email) > MAX_EMAIL or "@" not in email or not email.isprintable() \
            or any(c.isspace() for c in email):
        raise bad_request("invalid email address", ErrorCode.INVALID_PARAMETER)
    return email


def _password(payload: dict[str, Any]) -> str:
    password = string_field(payload, "password")
    if not passwords.valid_length(password):
        raise bad_request(passwords.LENGTH_MESSAGE)
    return password


async def _account(services: Services, email: str) -> UserpassAccount:
    account = await services.store.get_userpass(email)
    if account is None:
        raise ApiError(ErrorCode.USER_NOT_FOUND, 404, "user not found")
    return account


async def _new_token(services: Services, email: str, kind: str) -> tuple[str, str]:
    token, token_id = secrets.token_hex(32), users.new_id()
    expires = time.time() + services.settings.userpass.token_minutes * 60
    await services.store.add_userpass_token(
        UserpassToken(token_id, digest(token), email, kind, expires, False)
    )
    return token, token_id


def _link(services: Services, configured: str, page: str, token: str, token_id: str) -> str:
    root = services.settings.public_url or services.settings.link_base_url
    base = configured or f"{root.rstrip('/')}/{page}"
    return f"{base}{'&' if '?' in base else '?'}{urlencode({'token': token, 'tokenId': token_id})}"


async def _throttle_mail(services: Services, email: str) -> None:
    # confirm/send and reset/send mail any registered address on request; without a limit the
    # server would flood its own users' inboxes for anybody who asks. (The routes also count
    # every request per client address and per email, known or not: ``ratelimit``.)
    await ratelimit.mail_or_function(services, email)


async def _mail_confirmation(services: Services, email: str) -> None:
    await _throttle_mail(services, email)
    token, token_id = await _new_token(services, email, "confirm")
    url = _link(services, services.settings.userpass.confirm_url, "confirm.html", token, token_id)
    body = f"Confirm your email address for {services.settings.app_id}:\n\n{url}\n"
    await services.mailer.send(Mail(email, services.settings.userpass.confirm_subject, body))


async def _run_function(services: Services, name: str, *args: Any) -> str:
    context = FunctionContext(services.settings.app_id, None, services)
    try:
        text = await services.functions.call(name, list(args), context, public=False)
    except FunctionNotFound as exc:
        raise ApiError(ErrorCode.FUNCTION_NOT_FOUND, 404, f"function not found: '{name}'") from exc
    result = ejson.loads(text)
    status = result.get("status") if isinstance(result, dict) else None
    return status if status in ("success", "pending", "fail") else "fail"


async def _ask_function(services: Services, name: str, kind: str, request: dict[str, Any],
                        *args: Any) -> str:
    """Run a confirmation or reset function with a fresh token pair; its status.

    The pair is only for completing a ``pending`` result later. Any other result spends it, so
    a pair that a function saw cannot override its ``fail``, nor be replayed after ``success``.
    """
    email = str(request["username"])
    await _throttle_mail(services, email)
    token, token_id = await _new_token(services, email, kind)
    try:
        status = await _run_function(services, name, {"token": token, "tokenId": token_id,
                                                      **request}, *args)
    except ApiError:
        raise
    except Exception as exc:
        # Only the type: the message of app code may quote its arguments, the token included.
        log.warning("the %s function %r raised %s; treated as fail", kind, name,
                    getattr(exc, "raised", "") or type(exc).__name__)
        status = "fail"
    if status != "pending":
        await services.store.use_userpass_token(token_id, kind, digest(token), time.time())
    return status


async def _confirm_by_function(services: Services, email: str) -> None:
    name = services.settings.userpass.confirmation_function
    status = await _ask_function(services, name, "confirm", {"username": email})
    if status == "success":
        await services.store.confirm_userpass(email)
    elif status == "fail":
        raise bad_request(f'failed to confirm user "{email}"')


async def register(services: Services, payload: dict[str, Any]) -> None:
    """Create a registration; confirm it or start its confirmation, as the config says."""
    _enabled(services)
    email, password = _email(payload), _password(payload)
    mode = services.settings.userpass.confirmation
    account = UserpassAccount(email, users.new_id(), await passwords.hash_password(password),
                              mode == "auto", time.time())
    try:
        await services.store.create_userpass(account)
    except Conflict as exc:
        raise ApiError(ErrorCode.ACCOUNT_NAME_IN_USE, 409, "name already in use") from exc
    if mode == "email":
        await _mail_confirmation(services, email)
    elif mode == "function":
        await _confirm_by_function(services, email)


async def _use_token(services: Services, payload: dict[str, Any], kind: str) -> UserpassToken:
    token, token_id = payload.get("token"), payload.get("tokenId")
    if not isinstance(token, str) or not isinstance(token_id, str):
        raise bad_request("invalid token data", ErrorCode.USERPASS_TOKEN_INVALID)
    record = await services.store.use_userpass_token(token_id, kind, digest(token), time.time())
    if record is None:
        raise bad_request("invalid token data", ErrorCode.USERPASS_TOKEN_INVALID)
    if record.used:
        raise bad_request("token already used", ErrorCode.USERPASS_TOKEN_INVALID)
    if record.expires_at <= time.time():
        raise bad_request("token expired", ErrorCode.USERPASS_TOKEN_INVALID)
    return record


async def confirm(services: Services, payload: dict[str, Any]) -> None:
    """Finish a confirmation with the token pair from the email or the function."""
    _enabled(services)
    record = await _use_token(services, payload, "confirm")
    await services.store.confirm_userpass(record.email)


async def resend_confirmation(services: Services, payload: dict[str, Any]) -> None:
    """Send the confirmation email again."""
    _enabled(services)
    account = await _account(services, _email(payload))
    if account.confirmed:
        raise bad_request("already confirmed", ErrorCode.USER_ALREADY_CONFIRMED)
    if services.settings.userpass.confirmation != "email":
        raise bad_request("confirmation by email is not enabled")
    await _mail_confirmation(services, account.email)


async def retry_confirmation(services: Services, payload: dict[str, Any]) -> None:
    """Run the confirmation function again."""
    _enabled(services)
    email = _email(payload)
    mode = services.settings.userpass.confirmation
    if mode == "auto":
        raise bad_request(
            f"cannot run confirmation for {email}: automatic confirmation is enabled")
    account = await _account(services, email)
    if account.confirmed:
        raise bad_request("already confirmed", ErrorCode.USER_ALREADY_CONFIRMED)
    if mode != "function":
        raise bad_request("confirmation by function is not enabled")
    await _confirm_by_function(services, account.email)


async def send_reset(services: Services, payload: dict[str, Any]) -> None:
    """Email a password reset link."""
    _enabled(services)
    email = _email(payload)
    if services.settings.userpass.reset == "function":
        raise bad_request("please use reset password via function")
    account = await _account(services, email)
    await _throttle_mail(services, account.email)
    token, token_id = await _new_token(services, account.email, "reset")
    url = _link(services, services.settings.userpass.reset_url, "reset.html", token, token_id)
    body = f"Reset your password for {services.settings.app_id}:\n\n{url}\n"
    await services.mailer.send(Mail(account.email, services.settings.userpass.reset_subject, body))


async def reset(services: Services, payload: dict[str, Any]) -> None:
    """Set a new password with the token pair from the reset email or a pending function."""
    _enabled(services)
    password = _password(payload)
    record = await _use_token(services, payload, "reset")
    password_hash = await passwords.hash_password(password)
    await services.store.set_userpass_password(record.email, password_hash)


async def call_reset(services: Services, payload: dict[str, Any]) -> None:
    """Run the reset function; ``success`` sets the password at once."""
    _enabled(services)
    email, password = _email(payload), _password(payload)
    args = payload.get("arguments", [])
    if not isinstance(args, list):
        raise bad_request("expected 'arguments' to be an array", ErrorCode.INVALID_PARAMETER)
    if services.settings.userpass.reset != "function":
        raise bad_request("reset by function is not enabled")
    email = (await _account(services, email)).email
    name = services.settings.userpass.reset_function
    status = await _ask_function(services, name, "reset",
                                 {"username": email, "password": password}, *args)
    if status == "success":
        await services.store.set_userpass_password(email, await passwords.hash_password(password))
    elif status == "fail":
        raise bad_request(f'failed to reset password for user "{email}"')


# The provider's checks under public names, for the Admin API's user creation and pending
# registrations (server/admin_api/users.py), so both refuse exactly the same input.
check_enabled = _enabled
valid_email = _email
valid_password = _password
