"""The operations of users' own sessions, health checks and metrics (Latchkey's additions to
the App Services API), appended to ``operations.OPERATIONS``.

It imports ``operations`` for its types; ``operations`` imports this module at its end.
"""

from __future__ import annotations

from typing import Any

from app.sdk import routes as paths

from ..admin_api import paths as admin_paths
from ..observability.routes import HEALTH_LIVE, HEALTH_READY, METRICS
from ..services.audit import AUDIT_KINDS
from .admin_schemas import ADMIN_ACCESS
from .operations import _ACCESS_401, ACCESS, Operation, _query, json_content

_ADDITION = "Latchkey's addition to the App Services API. "
_SESSION = "{session_id}"
_NO_CONTENT = {"description": "Done; no body and no `Content-Type`."}

OPS_TAGS = [
    {"name": "sessions", "description": "The signed-in user's own sessions (Latchkey's "
     "addition): list them, end one, sign out everywhere else."},
    {"name": "operations", "description": "Health checks and metrics for running Latchkey "
     "(Latchkey's addition)."},
    {"name": "admin audit", "description": "Admin API: the audit log of security events "
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

_ADMIN_401 = ("No bearer token (`MissingAuthReq`), or not the access token of a live admin "
              "session (`InvalidSession`; a client token too).")
_ADMIN_404 = ("The group is not this server's (`GroupNotFound`) or the app is not "
              "(`AppNotFound`).")
_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["_id", "time", "kind", "detail"],
    "properties": {
        "_id": {"type": "string"}, "time": {"type": "number"}, "kind": {"type": "string"},
        **{name: {"type": ["string", "null"]} for name in (
            "user_id", "provider", "address", "device_id", "reason", "actor")},
        "detail": {"type": "object"},
    },
}
_BUCKETS = {"type": "array", "items": {
    "type": "object", "required": ["start", "count"],
    "properties": {"start": {"type": "integer"}, "count": {"type": "integer"}}}}
_STATS = {"type": "object",
          "required": ["sign_ins_per_day", "sign_ups_per_day", "failed_logins_per_hour"],
          "properties": {"sign_ins_per_day": _BUCKETS, "sign_ups_per_day": _BUCKETS,
                         "failed_logins_per_hour": _BUCKETS}}

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
    Operation(
        "get", admin_paths.AUDIT_LOG, "adminAuditLog", "admin audit",
        "Latchkey's addition: the audit log",
        "Security events, newest first: `{_id, time, kind, user_id, provider, address, "
        "device_id, reason, actor, detail}` (`time` in Unix seconds; `reason` the error code "
        "of a refusal; `actor` the admin key id of an admin action; never a password, token or "
        "key). Kinds: " + "; ".join(f"`{k}` {v}" for k, v in AUDIT_KINDS.items()) + ".",
        security=ADMIN_ACCESS,
        query=(_query("user_id", "Only this user's events."),
               _query("kind", "Only these kinds, comma-separated."),
               _query("since", "Only events at or after this time (Unix seconds).",
                      {"type": "number"}),
               _query("until", "Only events before this time (Unix seconds).",
                      {"type": "number"}),
               _query("before", "The `_id` of the last event of the previous page: the next "
                      "page starts after it."),
               _query("limit", "At most this many (1 to 1000; 50 by default).",
                      {"type": "integer", "minimum": 1, "maximum": 1000})),
        ok={"200": json_content({"type": "array", "items": _EVENT}, "Newest first.")},
        errors={400: "A malformed filter (`InvalidParameter`).", 401: _ADMIN_401,
                404: _ADMIN_404},
    ),
    Operation(
        "get", admin_paths.AUDIT_STATS, "adminAuditStats", "admin audit",
        "Latchkey's addition: sign-ins, sign-ups and failed logins over time",
        "For the console's chart: successful logins (`login`) and new users "
        "(`user_created`) per UTC day for the last `days` days, today included, and refused "
        "logins (`login_error`) per hour for the last `hours` hours; every bucket is listed, "
        "empty ones with 0. `start` is the bucket's first second (Unix seconds).",
        security=ADMIN_ACCESS,
        query=(_query("days", "Days of daily counts (1 to 366; 30 by default).",
                      {"type": "integer", "minimum": 1, "maximum": 366}),
               _query("hours", "Hours of hourly counts (1 to 744; 48 by default).",
                      {"type": "integer", "minimum": 1, "maximum": 744})),
        ok={"200": json_content(_STATS, "The three series.")},
        errors={400: "A malformed span (`InvalidParameter`).", 401: _ADMIN_401,
                404: _ADMIN_404},
    ),
)
