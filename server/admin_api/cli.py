"""``serve.py admin-keys create NAME | list | disable KEY | enable KEY | delete KEY``: admin keys
made on the server's own machine (``KEY`` is a key's id, public key or name).

``create`` prints exactly one JSON object on stdout, ``{"public_key", "private_key", "_id",
"name"}``, so a script can read it; the private key is shown this once and stored only hashed.
"""

from __future__ import annotations

import json
import sys
import time

from ..errors import ApiError
from ..services.context import Services
from . import keys


async def admin_keys_command(services: Services, action: str, arg: str | None) -> int:
    """Run one ``admin-keys`` action; returns the exit status."""
    if action == "list":
        for key in await keys.list_keys(services):
            state = "disabled" if key.disabled else "enabled"
            created = time.strftime("%Y-%m-%d %H:%M", time.gmtime(key.created_at))
            print(f"{key.id}  {key.public_key}  {state:8} {created}  {key.name}")
        return 0
    assert arg is not None
    if action == "create":
        try:
            key, private = await keys.create_key(services, arg)
        except ApiError as exc:
            print(f"Cannot create the admin key: {exc.message}.", file=sys.stderr)
            return 1
        print(json.dumps({"public_key": key.public_key, "private_key": private,
                          "_id": key.id, "name": key.name}))
        print("The private key is shown only now; store it safely.", file=sys.stderr)
        return 0
    found = await keys.find_key(services, arg)
    if found is None:
        print(f"No admin key with id, public key or name {arg}.", file=sys.stderr)
        return 1
    if action == "delete":
        await keys.delete_key(services, found)
        print(f"Admin key {found.public_key} ({found.name}) deleted; its sessions ended.")
    else:
        await keys.set_disabled(services, found, action == "disable")
        ended = "; its sessions ended" if action == "disable" else ""
        print(f"Admin key {found.public_key} ({found.name}) {action}d{ended}.")
    return 0
