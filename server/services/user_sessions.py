"""Users' own sessions: list them, end one, end all others ("sign out everywhere").

Latchkey's addition to the App Services client API. A session is listed with its device id,
the provider it was opened with, when it was made and last refreshed, and the approximate client
address it was last used from (IPv4 /24, IPv6 /48: enough to tell home from abroad, not to
locate anybody). ``current`` marks the session of the calling access token.

Rule 1: a user sees and ends only its own sessions; another user's session id answers like an
unknown one (404 ``NotFound``), so ids cannot be probed.

Rule 2: "last used" moves at a refresh, not at every request: a refresh queues a touch with the
audit writer's batch (``audit.writer``) when this process has not touched that session in the
last ``TOUCH_SECONDS``, so refreshing costs no store write of its own and a client refreshing in
a loop costs one write a minute.

HTTP-free: routes in ``server.routes.user_sessions`` call these functions.
"""

from __future__ import annotations

import time
from typing import Any

from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..store.base import SessionInfo, UserSession
from . import audit
from .context import Services
from .sessions import Caller

TOUCH_SECONDS = 60.0
#: Sessions whose last touch one process remembers; beyond it the memory starts over.
MAX_REMEMBERED = 100_000


def as_json(session: UserSession, current_session_id: str) -> dict[str, Any]:
    """A session as the client API shows it (times in Unix seconds)."""
    return {
        "session_id": session.id,
        "device_id": session.device_id,
        "provider": session.provider,
        "created_at": int(session.created_at),
        "last_used_at": int(session.last_used_at),
        "expires_at": int(session.expires_at),
        "address": session.address,
        "api_key_id": session.api_key_id,
        "current": session.id == current_session_id,
    }


async def list_sessions(services: Services, caller: Caller) -> list[dict[str, Any]]:
    """The caller's live sessions, newest first (this process's queued metadata written
    first; another process's may take a few milliseconds more)."""
    await audit.writer(services).flush()
    found = await services.store.list_session_views(caller.user.id, time.time())
    return [as_json(s, caller.session_id) for s in found]


async def revoke(services: Services, caller: Caller, session_id: str) -> None:
    """End one of the caller's sessions (its own current one too, like a log-out)."""
    if not await services.store.delete_user_session(caller.user.id, session_id):
        raise ApiError(ErrorCode.NOT_FOUND, 404, "session not found")
    audit.record(services, audit.SESSION_REVOKED, user_id=caller.user.id,
                 device_id=caller.device_id, session_id=session_id)


async def revoke_all_other(services: Services, caller: Caller) -> int:
    """End every session of the caller but the calling one; how many ended."""
    ended = await services.store.delete_other_sessions(caller.user.id, caller.session_id)
    audit.record(services, audit.OTHER_SESSIONS_REVOKED, user_id=caller.user.id,
                 device_id=caller.device_id, count=ended)
    return ended


def touch(services: Services, session_id: str, now: float | None = None) -> None:
    """Note a refresh of a session: its last use and address, at most once a minute (Rule 2)."""
    now = time.time() if now is None else now
    seen: dict[str, float] = services.extras.setdefault("session_touches", {})
    if now - seen.get(session_id, 0.0) < TOUCH_SECONDS:
        return
    if len(seen) >= MAX_REMEMBERED:
        seen.clear()
    seen[session_id] = now
    address = audit.mask_address(audit.client_address.get())
    audit.writer(services).add(info=SessionInfo(session_id, None, address, now))
