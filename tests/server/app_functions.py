"""Server functions for tests: confirmation and reset functions that record their calls.

The result depends on the email's local part: ``ok...`` succeeds, ``wait...`` stays pending,
``no...`` fails and ``boom...`` raises, quoting its request in the message. ``CALLS`` keeps every
request object, so a test can read the token pair a ``pending`` result leaves for a later
``confirm`` or ``reset``. Each server loads its own copy of this module; reach it through
``services.functions.module``.
"""

from __future__ import annotations

from typing import Any

PRIVATE = {"confirm_user", "reset_password"}

CALLS: list[dict[str, Any]] = []


def _status(request: dict[str, Any]) -> dict[str, str]:
    local = str(request["username"]).split("@")[0]
    for prefix, status in (("ok", "success"), ("wait", "pending"), ("no", "fail")):
        if local.startswith(prefix):
            return {"status": status}
    # Careless app code: the message quotes the request, token and new password included.
    raise RuntimeError(f"the test function refuses {request!r}")


def confirm_user(context: Any, request: dict[str, Any]) -> dict[str, str]:
    CALLS.append({"kind": "confirm", **request})
    return _status(request)


def reset_password(context: Any, request: dict[str, Any], *args: Any) -> dict[str, str]:
    CALLS.append({"kind": "reset", "args": list(args), **request})
    return _status(request)
