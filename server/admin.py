"""Admin commands on a data dir: ``users list|show|disable|enable|delete``,
``custom-data get|set|delete`` and ``server-keys create|list|delete``. They use the same services
and store as the server, and print no secret except a new server key, once."""

from __future__ import annotations

import json
import time
from typing import Any

from . import ejson
from .errors import ApiError
from .services import api_keys, users
from .services.context import Services


def _user_line(user: Any) -> str:
    providers = ",".join(i.provider_type for i in user.identities) or "-"
    email = next((i.data.get("email") for i in user.identities if i.data.get("email")), "")
    state = "disabled" if user.disabled else "enabled"
    created = time.strftime("%Y-%m-%d %H:%M", time.gmtime(user.created_at))
    return f"{user.id}  {user.type:7} {state:8} {created}  {providers}  {email}".rstrip()


async def users_command(services: Services, action: str, user_id: str | None) -> int:
    """Run one ``users`` action; returns the exit status."""
    store = services.store
    if action == "list":
        for user in await store.list_users():
            print(_user_line(user))
        return 0
    assert user_id is not None
    found = await store.get_user(user_id)
    if found is None:
        print(f"No user with id {user_id}.")
        return 1
    if action == "show":
        print(json.dumps({**users.profile(services, found), "disabled": found.disabled,
                          "created_at": found.created_at, "last_login_at": found.last_login_at},
                         indent=2))
    elif action in ("disable", "enable"):
        await store.set_user_disabled(user_id, action == "disable")
        print(f"User {user_id} {action}d.")
    elif action == "delete":
        await store.delete_user(user_id)
        print(f"User {user_id} deleted with its identities, sessions and API keys.")
    elif action == "reset-factors":
        # Issue 14: the TOTP authenticator and recovery codes go; passkeys stay (they are ways
        # to log in, which the user lists and deletes in the account).
        found_factor = await store.delete_factors(user_id)
        print(f"User {user_id}: authenticator and recovery codes removed." if found_factor
              else f"User {user_id} has no authenticator.")
    return 0


async def custom_data_command(services: Services, action: str, user_id: str,
                              doc: str | None) -> int:
    """Run one ``custom-data`` action; returns the exit status."""
    if not services.settings.custom_user_data.get("enabled", False):
        print("Custom user data is not enabled: set enabled = true in [custom_user_data].")
        return 2
    if action == "get":
        data = await users.read_custom_data(services, user_id)
        if data is None and await services.store.get_user(user_id) is None:
            print(f"No user with id {user_id}.")
            return 1
        print(json.dumps(ejson.to_relaxed(data)) if data is not None else "null")
        return 0
    if action == "delete":
        found = await users.delete_custom_data(services, user_id)
        print("Deleted." if found else "No custom data for that user.")
        return 0
    try:
        value = json.loads(doc or "")
    except ValueError:
        print("The document must be a JSON object, e.g. '{\"plan\": \"pro\"}'.")
        return 2
    if not isinstance(value, dict):
        print("The document must be a JSON object, e.g. '{\"plan\": \"pro\"}'.")
        return 2
    if await services.store.get_user(user_id) is None:
        print(f"No user with id {user_id}.")
        return 1
    try:
        await users.write_custom_data(services, user_id, value)
    except ApiError as exc:  # Over [custom_user_data] max_bytes.
        print(f"Cannot set the custom data: {exc.message}.")
        return 1
    print(f"Custom data of {user_id} set; the user sees it after the next token refresh.")
    return 0


async def server_keys_command(services: Services, action: str, arg: str | None) -> int:
    """Run one ``server-keys`` action (``create NAME``, ``list``, ``delete ID``)."""
    if action == "list":
        for key in await api_keys.list_server_keys(services):
            state = "disabled" if key.disabled else "enabled"
            created = time.strftime("%Y-%m-%d %H:%M", time.gmtime(key.created_at))
            print(f"{key.id}  {state:8} {created}  {key.name}")
        return 0
    assert arg is not None
    if action == "create":
        try:
            key, secret = await api_keys.create_server_key(services, arg)
        except ApiError as exc:
            print(f"Cannot create the key: {exc.message}.")
            return 1
        print(f"Server API key {key.id} ({key.name}) created. It logs in as user {key.user_id}.")
        print("The key is shown only now; store it safely:")
        print(secret)
        return 0
    if not await api_keys.delete_server_key(services, arg):
        print(f"No server API key with id {arg}.")
        return 1
    print(f"Server API key {arg} deleted with its user and sessions.")
    return 0
