"""How many ways in a user may have, and which may be added to an existing user.

App Services links a new identity to a user only from a provider that proves somebody: an
email/password account, an API key's owner, a custom JWT subject, a social account. Anonymous
credentials prove nobody (every call mints a fresh identity), so linking them to a user only
grew its profile, its tokens' work and its store rows without bound; they are refused, as App
Services refuses linking an email/password or social user to an anonymous one. Every other
addition (a link, a passkey) stops at ``MAX_IDENTITIES``, far more than any person uses, so one
account can never be inflated into a large profile, token or row count.

HTTP-free; raises ``ApiError`` for the route to render.
"""

from __future__ import annotations

from app.sdk import routes
from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..store.base import UserRecord

__all__ = ["MAX_IDENTITIES", "check_room"]

#: The most identities (ways to log in, passkeys included) one user may have.
MAX_IDENTITIES = 25


def check_room(user: UserRecord, provider_type: str) -> None:
    """Raise 400 ``BadRequest`` if ``user`` may not gain an identity of ``provider_type``."""
    if provider_type == routes.ANON_USER:
        raise ApiError(ErrorCode.BAD_REQUEST, 400,
                       "anonymous credentials cannot be linked to a user: they identify nobody")
    if len(user.identities) >= MAX_IDENTITIES:
        raise ApiError(ErrorCode.BAD_REQUEST, 400,
                       f"a user has at most {MAX_IDENTITIES} identities; remove one first")
