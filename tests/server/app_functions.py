"""Server functions for tests: confirmation and reset functions that record their calls.

The result depends on the email's local part: ``ok...`` succeeds, ``wait...`` stays pending,
``no...`` fails and ``boom...`` raises, quoting its request in the message. Every request object
is appended to the JSON-lines file named by ``LATCHKEY_TEST_CALLS`` (functions run in worker
processes, so a list in this module would stay there); ``recorded_calls()`` reads it back, so a
test can read the token pair a ``pending`` result leaves for a later ``confirm`` or ``reset``.
The server tests' conftest points the variable at a file of each test's own.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PRIVATE = {"confirm_user", "reset_password"}


def _record(entry: dict[str, Any]) -> None:
    with Path(os.environ["LATCHKEY_TEST_CALLS"]).open("a") as fh:
        fh.write(json.dumps(entry, default=str) + "\n")


def recorded_calls() -> list[dict[str, Any]]:
    """Every request the functions received so far (in this test), oldest first."""
    path = Path(os.environ["LATCHKEY_TEST_CALLS"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _status(request: dict[str, Any]) -> dict[str, str]:
    local = str(request["username"]).split("@")[0]
    for prefix, status in (("ok", "success"), ("wait", "pending"), ("no", "fail")):
        if local.startswith(prefix):
            return {"status": status}
    # Careless app code: the message quotes the request, token and new password included.
    raise RuntimeError(f"the test function refuses {request!r}")


def confirm_user(context: Any, request: dict[str, Any]) -> dict[str, str]:
    _record({"kind": "confirm", **request})
    return _status(request)


def reset_password(context: Any, request: dict[str, Any], *args: Any) -> dict[str, str]:
    _record({"kind": "reset", "args": list(args), **request})
    return _status(request)
