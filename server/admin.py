"""Admin commands on a data dir: ``users list|show|disable|enable|delete`` and
``custom-data get|set|delete``. They use the same services and store as the server."""

from __future__ import annotations

import json
import time
from typing import Any

from .services import sessions, users
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
    user = await store.get_user(user_id)
    if user is None:
        print(f"No user with id {user_id}.")
        return 1
    if action == "show":
        print(json.dumps({**users.profile(services, user), "disabled": user.disabled,
                          "created_at": user.created_at, "last_login_at": user.last_login_at},
                         indent=2))
    elif action in ("disable", "enable"):
        await store.set_user_disabled(user_id, action == "disable")
        print(f"User {user_id} {action}d.")
    elif action == "delete":
        await store.delete_user(user_id)
        print(f"User {user_id} deleted with its identities, sessions and API keys.")
    return 0


async def custom_data_command(services: Services, action: str, user_id: str,
                              doc: str | None) -> int:
    """Run one ``custom-data`` action; returns the exit status."""
    if action == "get":
        data = await users.read_custom_data(services, user_id)
        print(json.dumps(sessions.ejson.to_relaxed(data)) if data is not None else "null")
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
    await users.write_custom_data(services, user_id, value)
    print(f"Custom data of {user_id} set; the user sees it after the next token refresh.")
    return 0
