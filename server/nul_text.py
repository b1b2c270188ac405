"""Text that one store keeps and the other refuses: the NUL character.

PostgreSQL cannot store ``\\x00`` in ``text`` or ``jsonb``; SQLite can. A value an outside party
chooses that reaches an identity (a login function's user id or name, a custom JWT's ``sub`` or
its metadata claims, an imported user's provider data) was kept on SQLite and was a 500
``InternalServerError`` on PostgreSQL. The services refuse such values up front, so both stores
answer alike (``tests/server/test_custom_function.py``, ``test_custom_jwt.py``).
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 200  # Bodies nest at most 100 levels (server.routes.common); room for EJSON wrappers.


def holds_nul(value: Any, depth: int = 0) -> bool:
    """Whether any string in ``value`` (dict keys included, nested lists and dicts) has a NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return any(holds_nul(k, depth + 1) or holds_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(holds_nul(item, depth + 1) for item in value)
    return False
