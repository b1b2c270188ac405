"""Access and refresh tokens: HS256 JWTs signed with the server's key (PyJWT).

Access token claims: ``exp``, ``iat``, ``sub`` (user id), ``typ`` = ``access``, ``user_data``
(custom user data at issue time), ``baas_device_id``, ``baas_id`` (session id), ``baas_app``
(app id) and a random ``jti``. Refresh tokens are JWT-shaped too (realm-core parses them):
``typ`` = ``refresh``,
``baas_id`` names the stored session and a random ``jti`` makes every token unique; the store keeps
only its SHA-256, so a stolen database does not yield usable tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Claims:
    """The verified claims of one of our tokens."""

    sub: str
    typ: str
    session_id: str
    app_id: str
    device_id: str
    exp: int
    raw: dict[str, Any]


class TokenError(Exception):
    """A token is malformed, expired, foreign or of the wrong type; the text says which."""


class TokenSigner:
    """Signs and verifies this server's tokens with one HMAC key."""

    def __init__(self, key: str, app_id: str) -> None:
        self._key = key.encode()
        self.app_id = app_id

    def access_token(
        self, user_id: str, session_id: str, device_id: str, user_data: dict[str, Any],
        lifetime: int,
    ) -> str:
        """A new access token."""
        now = int(time.time())
        claims = {
            "exp": now + lifetime, "iat": now, "sub": user_id, "typ": "access",
            "user_data": user_data, "baas_device_id": device_id, "baas_id": session_id,
            "baas_app": self.app_id,
            # Two tokens issued in the same second must still differ, so a client can tell a
            # refreshed token from the old one.
            "jti": secrets.token_urlsafe(8),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def refresh_token(self, user_id: str, session_id: str, device_id: str, lifetime: int) -> str:
        """A new refresh token."""
        now = int(time.time())
        claims = {
            "exp": now + lifetime, "iat": now, "sub": user_id, "typ": "refresh",
            "baas_id": session_id, "baas_device_id": device_id, "baas_app": self.app_id,
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str, typ: str) -> Claims:
        """The claims of a valid token of the given type, or ``TokenError``."""
        try:
            raw = jwt.decode(
                token, self._key, algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError("invalid token") from exc
        if raw.get("typ") != typ:
            raise TokenError(f"invalid {typ} token: incorrect token type")
        if raw.get("baas_app") != self.app_id:
            raise TokenError("token belongs to another app")
        return Claims(
            sub=str(raw["sub"]), typ=typ, session_id=str(raw.get("baas_id", "")),
            app_id=self.app_id, device_id=str(raw.get("baas_device_id", "")),
            exp=int(raw["exp"]), raw=raw,
        )


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (a token or an API key), as stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, stored: str) -> bool:
    """Constant-time comparison of a secret against its stored digest."""
    return hmac.compare_digest(digest(secret), stored)
