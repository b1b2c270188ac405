"""The Admin API's users: pages and searches, one user, creating, deleting, enabling,
disabling, ending every session, devices, resetting second factors, custom user data, and
pending email/password registrations.

Rule 1: every change goes through the same store method as the client API and ``serve.py
users`` use, so it behaves exactly as they do: disabling a user ends its sessions in the same
transaction, deleting takes its identities, sessions, API keys and email/password account.

Rule 2: each action that changes something is one function here that gets the acting admin
(``actor``), so an audit log records every admin action with one line per function.

Rule 3: a user id or address that is not there answers 404 ``UserNotFound``; a malformed query
answers 400 ``InvalidParameter``. HTTP-free: ``routes_users`` calls these.
"""

from __future__ import annotations

import re
import time
from typing import Any

from app.sdk import routes
from app.sdk.errors import ErrorCode

from .. import ejson
from ..emails import email_key
from ..errors import ApiError, bad_request
from ..services import audit, mfa, passwords, userpass, users
from ..services.context import Services
from ..store.base import Conflict, UserpassAccount, UserRecord
from . import apps
from .keys import AdminCaller

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_QUERY = 254
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


def not_found() -> ApiError:
    """404 ``UserNotFound``."""
    return ApiError(ErrorCode.USER_NOT_FOUND, 404, "user not found")


def user_json(user: UserRecord) -> dict[str, Any]:
    """A user in the Admin API's shape (dates in whole seconds; 0 for never)."""
    return {
        "_id": user.id,
        "identities": [{"id": i.id, "provider_type": i.provider_type,
                        "provider_id": i.provider_id, "provider_data": i.data}
                       for i in user.identities],
        "type": user.type,
        "disabled": user.disabled,
        "data": users.profile_data(user),
        "creation_date": int(user.created_at),
        "last_authentication_date": int(user.last_login_at or 0),
    }


def parse_limit(raw: str | None) -> int:
    """The ``limit`` query parameter: 1 to ``MAX_LIMIT``, ``DEFAULT_LIMIT`` when absent."""
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise bad_request(f"limit must be a whole number from 1 to {MAX_LIMIT}",
                          ErrorCode.INVALID_PARAMETER)
    return int(raw)


def parse_after(raw: str | None) -> str | None:
    """The ``after`` query parameter: the last id of the previous page."""
    if raw is not None and (len(raw) > MAX_QUERY or not raw.isprintable()):
        raise bad_request("after must be an id", ErrorCode.INVALID_PARAMETER)
    return raw or None


def _status(raw: str | None) -> bool | None:
    if raw in (None, ""):
        return None
    if raw not in ("enabled", "disabled"):
        raise bad_request("status must be enabled or disabled", ErrorCode.INVALID_PARAMETER)
    return raw == "disabled"


def _provider_types(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",")))
    if len(names) > 32 or any(not n or len(n) > 64 or not n.isprintable() for n in names):
        raise bad_request("provider_types must be provider types separated by commas",
                          ErrorCode.INVALID_PARAMETER)
    return names


async def list_users(services: Services, *, status: str | None, provider_types: str | None,
                     after: str | None, limit: str | None) -> list[dict[str, Any]]:
    """A page of users in id order: ``status`` is ``enabled`` or ``disabled``,
    ``provider_types`` a comma-separated list, ``after`` the last id of the previous page."""
    found = await services.store.list_users_page(
        parse_after(after), parse_limit(limit), _status(status), _provider_types(provider_types))
    return [user_json(u) for u in found]


async def search(services: Services, query: str | None, limit: str | None) -> list[dict[str, Any]]:
    """Users by id (24 hex digits), else by the start of an address: their email/password
    account's (in any case or Unicode form, as ``server.emails`` compares addresses) or one a
    login provider gave (as given, against the query's normal form)."""
    text = (query or "").strip()
    if not text or len(text) > MAX_QUERY or not text.isprintable():
        raise bad_request("q must be an email address or its start, or a user id",
                          ErrorCode.INVALID_PARAMETER)
    count = parse_limit(limit)
    found: list[UserRecord] = []
    if _OBJECT_ID.fullmatch(text):
        user = await services.store.get_user(text)
        found = [user] if user is not None else []
    if not found:
        found = await services.store.find_users_by_email_prefix(email_key(text), count)
    return [user_json(u) for u in found[:count]]


async def get_user(services: Services, user_id: str) -> UserRecord:
    """One user; 404 ``UserNotFound``."""
    user = await services.store.get_user(user_id) if len(user_id) <= MAX_QUERY else None
    if user is None:
        raise not_found()
    return user


async def create_user(services: Services, actor: AdminCaller,
                      payload: dict[str, Any]) -> dict[str, Any]:
    """A confirmed email/password user ``{email, password}``, made at once (201)."""
    # The email/password provider's own checks: enabled, a valid address, a valid password.
    userpass.check_enabled(services)
    email, password = userpass.valid_email(payload), userpass.valid_password(payload)
    account = UserpassAccount(email, users.new_id(), await passwords.hash_password(password),
                              True, time.time())
    try:
        await services.store.create_userpass(account)
    except Conflict as exc:
        raise ApiError(ErrorCode.ACCOUNT_NAME_IN_USE, 409, "name already in use") from exc
    identity = users.make_identity(services, routes.LOCAL_USERPASS, account.id,
                                   {"email": email})
    made = await users.login_identity(services, identity)
    audit.admin_action(services, actor, "admin_user_created", user_id=made.id, email=email)
    return user_json(made)


async def delete_user(services: Services, actor: AdminCaller, user_id: str) -> None:
    """Delete a user with its identities, sessions, API keys and email/password account."""
    if not await services.store.delete_user((await get_user(services, user_id)).id):
        raise not_found()
    audit.admin_action(services, actor, "admin_user_deleted", user_id=user_id)


async def set_disabled(services: Services, actor: AdminCaller, user_id: str,
                       disabled: bool) -> None:
    """Enable or disable a user; disabling ends its sessions in the same transaction."""
    if not await services.store.set_user_disabled((await get_user(services, user_id)).id,
                                                  disabled):
        raise not_found()
    audit.admin_action(services, actor, "admin_user_disabled" if disabled else
                       "admin_user_enabled", user_id=user_id)


async def log_out(services: Services, actor: AdminCaller, user_id: str) -> int:
    """End every session of a user at once (its tokens die with them); how many ended."""
    ended = await services.store.delete_user_sessions((await get_user(services, user_id)).id)
    audit.admin_action(services, actor, "admin_user_logged_out", user_id=user_id, count=ended)
    return ended


async def devices(services: Services, user_id: str) -> list[dict[str, Any]]:
    """The user's devices, from its live sessions, oldest first."""
    found: dict[str, dict[str, Any]] = {}
    for session in await services.store.list_user_sessions((await get_user(services,
                                                                           user_id)).id):
        when = int(session.created_at)
        device = found.setdefault(session.device_id, {
            "_id": session.device_id, "sessions": 0, "first_session_date": when,
            "last_session_date": when})
        device["sessions"] += 1
        device["last_session_date"] = max(device["last_session_date"], when)
    return list(found.values())


async def reset_factors(services: Services, actor: AdminCaller, user_id: str) -> bool:
    """Remove the user's TOTP authenticator and recovery codes, as ``serve.py users
    reset-factors`` does (issue 14); its passkeys stay. Whether it had an authenticator."""
    user = await get_user(services, user_id)
    found = await mfa.reset(services, user.id)
    audit.admin_action(services, actor, "admin_user_factors_reset", user_id=user.id,
                       found=found)
    return found


def _custom_data_on(services: Services) -> None:
    if not services.settings.custom_user_data.get("enabled", False):
        raise bad_request("custom user data is not enabled: set enabled = true in "
                          "[custom_user_data]")


async def read_custom_data(services: Services, user_id: str) -> dict[str, Any]:
    """The user's custom user data document as relaxed EJSON (``{}`` when it has none)."""
    _custom_data_on(services)
    user = await get_user(services, user_id)
    doc = await users.read_custom_data(services, user.id)
    value = ejson.to_relaxed(doc or {})
    return value if isinstance(value, dict) else {}


async def write_custom_data(services: Services, actor: AdminCaller, user_id: str,
                            doc: dict[str, Any]) -> None:
    """Replace the user's custom user data document; the user sees it in its next access
    token."""
    _custom_data_on(services)
    await users.write_custom_data(services, (await get_user(services, user_id)).id, doc)
    audit.admin_action(services, actor, "admin_custom_data_written", user_id=user_id)


def pending_json(services: Services, account: UserpassAccount) -> dict[str, Any]:
    """A pending registration as App Services lists it."""
    return {"_id": account.id, "user_id": "", "domain_id": apps.group_id(services),
            "login_ids": [{"id": account.email, "id_type": "email"}],
            "creation_date": int(account.created_at)}


async def pending_users(services: Services, after: str | None,
                        limit: str | None) -> list[dict[str, Any]]:
    """Unconfirmed email/password registrations in id order, 50 at a time by default."""
    found = await services.store.list_pending_userpass(parse_after(after), parse_limit(limit))
    return [pending_json(services, a) for a in found]


async def _pending(services: Services, email: str) -> UserpassAccount:
    userpass.check_enabled(services)
    account = await services.store.get_userpass(email) if len(email) <= MAX_QUERY else None
    if account is None:
        raise not_found()
    return account


async def confirm_pending(services: Services, actor: AdminCaller, email: str) -> None:
    """Confirm a registration by its address; 400 ``UserAlreadyConfirmed`` for a confirmed
    one."""
    account = await _pending(services, email)
    if account.confirmed:
        raise bad_request("already confirmed", ErrorCode.USER_ALREADY_CONFIRMED)
    await services.store.confirm_userpass(account.email)
    audit.admin_action(services, actor, "admin_pending_confirmed", email=account.email)


async def rerun_confirmation(services: Services, actor: AdminCaller, email: str) -> None:
    """Run the configured confirmation again: mail the link (``email``) or call the app's
    confirmation function (``function``), as the client API's resend and retry do."""
    account = await _pending(services, email)
    if account.confirmed:
        raise bad_request("already confirmed", ErrorCode.USER_ALREADY_CONFIRMED)
    mode = services.settings.userpass.confirmation
    if mode == "email":
        await userpass.resend_confirmation(services, {"email": account.email})
    elif mode == "function":
        await userpass.retry_confirmation(services, {"email": account.email})
    else:
        raise bad_request("automatic confirmation is enabled: there is nothing to run")
    audit.admin_action(services, actor, "admin_pending_confirmation_rerun", email=account.email)


async def delete_pending(services: Services, actor: AdminCaller, email: str) -> None:
    """Delete a registration that no user logged in with yet, with its confirmation and reset
    links; a registration in use goes with its user (``delete_user``)."""
    account = await _pending(services, email)
    if not await services.store.delete_pending_userpass(account.email):
        raise not_found()
    audit.admin_action(services, actor, "admin_pending_deleted", email=account.email)
