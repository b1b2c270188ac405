"""The operations of users' own sessions, health checks and metrics (Latchkey's additions to
the App Services API), appended to ``operations.OPERATIONS``.

It imports ``operations`` for its types; ``operations`` imports this module at its end.
"""

from __future__ import annotations

from typing import Any

from app.sdk import routes as paths

from ..observability.routes import HEALTH_LIVE, HEALTH_READY, METRICS
from .operations import _ACCESS_401, ACCESS, Operation, json_content

_ADDITION = "Latchkey's addition to the App Services API. "
_SESSION = "{session_id}"
_NO_CONTENT = {"description": "Done; no body and no `Content-Type`."}

OPS_TAGS = [
    {"name": "sessions", "description": "The signed-in user's own sessions (Latchkey's "
     "addition): list them, end one, sign out everywhere else."},
    {"name": "operations", "description": "Health checks and metrics for running Latchkey "
     "(Latchkey's addition)."},
]

_SESSION_ITEM: dict[str, Any] = {
    "type": "object",
    "required": ["session_id", "device_id", "provider", "created_at", "last_used_at",
                 "expires_at", "address", "api_key_id", "current"],
    "properties": {
        "session_id": {"type": "string"},
        "device_id": {"type": "string"},
        "provider": {"type": ["string", "null"],
                     "description": "The provider the session was opened with (null for "
                     "sessions older than this field)."},
        "created_at": {"type": "integer", "description": "Unix seconds."},
        "last_used_at": {"type": "integer", "description": "Unix seconds of the last refresh "
                         "(updated at most once a minute), else of the login."},
        "expires_at": {"type": "integer", "description": "Unix seconds."},
        "address": {"type": "string", "description": "The approximate client address of the "
                    "last login or refresh: its IPv4 /24 or IPv6 /48 network, or empty."},
        "api_key_id": {"type": ["string", "null"],
                       "description": "The API key the session was opened with, if any."},
        "current": {"type": "boolean", "description": "Whether this is the caller's session."},
    },
}
_HEALTH = {"type": "object", "required": ["status"],
           "properties": {"status": {"enum": ["UP", "DOWN"]},
                          "checks": {"type": "array", "items": {"type": "object"}}}}

OPS_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get", paths.sessions(), "listSessions", "sessions", "The caller's sessions",
        _ADDITION + "Every live session of the caller's user, newest first; `current` marks "
        "the one of this access token.", security=ACCESS,
        ok={"200": json_content({"type": "array", "items": _SESSION_ITEM}, "Newest first.")},
        errors={401: _ACCESS_401},
    ),
    Operation(
        "delete", paths.sessions(), "revokeOtherSessions", "sessions",
        "Sign out everywhere else",
        _ADDITION + "Ends every session of the caller's user but the one of this access "
        "token; their refresh and access tokens stop working at once.", security=ACCESS,
        ok={"200": json_content({"type": "object", "required": ["revoked"],
                                 "properties": {"revoked": {"type": "integer"}}},
                                "How many sessions ended.")},
        errors={401: _ACCESS_401},
    ),
    Operation(
        "delete", paths.user_session(_SESSION), "revokeSession", "sessions", "End one session",
        _ADDITION + "Ends one session of the caller's user (the caller's own too, like a "
        "logout).", security=ACCESS, ok={"204": _NO_CONTENT},
        errors={401: _ACCESS_401,
                404: "Not one of the caller's live sessions (`NotFound`)."},
    ),
    Operation(
        "get", HEALTH_LIVE, "healthLive", "operations", "Liveness",
        _ADDITION + "200 while the process answers (Keycloak's name).",
        ok={"200": json_content(_HEALTH, "`{\"status\": \"UP\"}`.")},
    ),
    Operation(
        "get", HEALTH_READY, "healthReady", "operations", "Readiness",
        _ADDITION + "200 when the config is loaded and the store answers within 2 s; 503 "
        "with `\"status\": \"DOWN\"` and the failing check otherwise.",
        ok={"200": json_content(_HEALTH, "Ready.")},
        errors={503: "Not ready (`InternalServerError`); the body also has `\"status\": "
                     "\"DOWN\"` and `checks`, the failing one with `data.error`."},
    ),
    Operation(
        "get", METRICS, "metrics", "operations", "Prometheus metrics",
        _ADDITION + "The Prometheus text format, every server process summed. Readable with "
        "`Authorization: Bearer <token>` when `[metrics] token_env` names a set variable, "
        "else from the loopback interface only, not through a proxy.",
        ok={"200": {"description": "The metrics.",
                    "content": {"text/plain": {"schema": {"type": "string"}}}}},
        errors={404: "`[metrics] enabled = false`, or the caller may not read them "
                     "(`NotFound`)."},
    ),
)
