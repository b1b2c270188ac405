"""The Admin API's operations (``/api/admin/v3.0``), appended to ``operations.OPERATIONS``.

Paths come from ``server.admin_api.paths``. Summaries of Latchkey's additions to the App
Services Admin API start with "Latchkey's addition".
"""

from __future__ import annotations

from typing import Any

from ..admin_api import paths
from .admin_schemas import ADMIN_ACCESS, ADMIN_REFRESH
from .operations import _BODY_ERRORS, NO_CONTENT, Operation, _query, json_content
from .schemas import ref

ADDITION = "Latchkey's addition (not in App Services' Admin API): "

ADMIN_TAGS: list[dict[str, str]] = [
    {"name": "admin auth", "description": "Admin API: logging in with an admin key."},
    {"name": "admin users", "description": "Admin API: the app, its users, pending "
     "registrations and API keys, as the `appservices` CLI calls them."},
]

_ADMIN_401 = ("No bearer token (`MissingAuthReq`), or not the access token of a live admin "
              "session (`InvalidSession`; a client token too).")
_APP_404 = ("The group is not this server's (`GroupNotFound`) or the app is not "
            "(`AppNotFound`)")
_USER_404 = _APP_404 + ", or no such user (`UserNotFound`)."
_LIMIT = _query("limit", "At most this many (1 to 1000; 50 by default).",
                {"type": "integer", "minimum": 1, "maximum": 1000})
_AFTER = _query("after", "The `_id` of the last one of the previous page: the next page "
                "starts after it.")


def _admin(method: str, path: str, op_id: str, summary: str, *, ok: dict[str, Any],
           errors: dict[int, str] | None = None, description: str = "",
           query: tuple[dict[str, Any], ...] = (), body: str | None = None,
           examples: dict[str, Any] | None = None, tag: str = "admin users") -> Operation:
    found = {401: _ADMIN_401, 404: _APP_404 + ".", **(errors or {})}
    if body is not None:
        found = {**_BODY_ERRORS, **found}
    return Operation(method, path, op_id, tag, summary, description, security=ADMIN_ACCESS,
                     query=query, body=body, examples=examples or {}, ok=ok, errors=found)


def _list(name: str, text: str) -> dict[str, Any]:
    return {"200": json_content({"type": "array", "items": ref(name)}, text)}


AUTH_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "post", paths.LOGIN, "adminLogIn", "admin auth", "Log in with an admin key",
        "The key pair comes from `python serve.py admin-keys create NAME` on the server. "
        "Rate limited per client address and per key and address, like email/password "
        "logins.",
        body="AdminLoginBody",
        examples={"example": {"username": "abcdefgh",
                              "apiKey": "(the 64-character private key)"}},
        ok={"200": json_content(ref("AdminLoginResponse"), "An admin session.")},
        errors={**_BODY_ERRORS,
                401: "Unknown or wrong key pair, or a disabled key (`AuthError`).",
                429: "Too many login attempts from this address (`TooManyRequests`)."},
    ),
    Operation(
        "post", paths.SESSION, "adminRefresh", "admin auth", "A new admin access token",
        security=ADMIN_REFRESH,
        ok={"201": json_content(ref("AdminAccessToken"), "A fresh access token.")},
        errors={401: "No bearer token (`MissingAuthReq`), or not the refresh token of a live "
                     "admin session (`InvalidSession`)."},
    ),
    Operation(
        "delete", paths.SESSION, "adminLogOut", "admin auth", "Log out: end the admin session",
        security=ADMIN_REFRESH, ok={"204": NO_CONTENT},
        errors={401: "No bearer token (`MissingAuthReq`), or no such admin session "
                     "(`InvalidSession`)."},
    ),
    Operation(
        "get", paths.PROFILE, "adminProfile", "admin auth", "The admin's profile and role",
        "`roles[].group_id` is the group (project) id to use in every other path.",
        security=ADMIN_ACCESS,
        ok={"200": json_content(ref("AdminProfile"), "The admin.")},
        errors={401: _ADMIN_401},
    ),
)

ADMIN_OPERATIONS: tuple[Operation, ...] = AUTH_OPERATIONS
