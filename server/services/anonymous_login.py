"""Anonymous login in one store write: the rate limit, the new user, its identity and session.

An anonymous login always makes a new user, so none of the general path's reads can find
anything (the identity's owner, the user's state, its second factors): what it writes is known
before it starts. ``log_in`` does the same as ``providers.prove``, ``users.login_identity`` and
``sessions.open_session`` do for it, in one ``Store.create_user_session`` call, where the general
path takes four writes and three reads (a rate limit hit, the user, the session, its last login).

Rule 1: the answer, the rows, the audit events (``user_created`` and ``login``), the session's
metadata and the metrics are the general path's; the tests of anonymous login hold either way.

Rule 2: only a plain anonymous login takes this path: the provider enabled, no second factor
asked of ``anon-user`` logins (``applies``), no ``?link=true``. Anything else goes the general
way, which also answers the errors.

HTTP-free: ``server.routes.auth`` passes the client address and device id in.
"""

from __future__ import annotations

import time

from app.sdk import routes
from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..store.base import Conflict, Session, UserRecord
from . import audit, ratelimit, sessions, users
from .context import Services
from .tokens import digest

ATTEMPTS = 3


def applies(services: Services) -> bool:
    """Whether an anonymous login can take this path (Rule 2)."""
    mfa = services.settings.mfa
    return (services.settings.provider_enabled(routes.ANON_USER)
            and not (mfa.enabled and routes.ANON_USER in mfa.providers))


async def log_in(services: Services, address: str, device_id: str) -> dict[str, str]:
    """A new anonymous user and its session: the login answer ``{access_token, refresh_token,
    user_id, device_id}``; 429 when the client address is at its login limit."""
    rate = ratelimit.login_hit(services, address)
    lifetime = services.settings.refresh_token_seconds
    for _ in range(ATTEMPTS):
        now = time.time()
        user = UserRecord(users.new_id(), "normal", False, now)
        identity = users.make_identity(services, routes.ANON_USER, users.anonymous_identity_id())
        session_id = users.new_id()
        refresh = services.signer.refresh_token(user.id, session_id, device_id, lifetime)
        session = Session(session_id, user.id, digest(refresh), device_id, now, now + lifetime)
        try:
            written = await services.store.create_user_session(user, identity, session, rate)
        except Conflict:
            continue  # An id taken at the same moment (never seen): new ids, and again.
        if not written:
            raise ratelimit.too_many_requests(ratelimit.LOGIN_MESSAGE, rate.window if rate else 1)
        # ``user`` has no last login, so its first login is recorded as a new user's.
        audit.session_opened(services, user, session_id, device_id, routes.ANON_USER, None)
        return {
            "access_token": await sessions.access_token(services, user.id, session_id,
                                                        device_id),
            "refresh_token": refresh,
            "user_id": user.id,
            "device_id": device_id,
        }
    raise ApiError(ErrorCode.INTERNAL_SERVER_ERROR, 500, "could not create the user")
