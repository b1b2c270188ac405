"""Access and refresh tokens: HS256 JWTs signed with the server's key.

Access token claims: ``exp``, ``iat``, ``sub`` (user id), ``typ`` = ``access``, ``user_data``
(custom user data at issue time), ``baas_device_id``, ``baas_id`` (session id), ``baas_app``
(app id) and a random ``jti``. Refresh tokens are JWT-shaped too (realm-core parses them):
``typ`` = ``refresh``,
``baas_id`` names the stored session and a random ``jti`` makes every token unique; the store keeps
only its SHA-256, so a stolen database does not yield usable tokens.

Every authenticated request verifies one of these tokens and many sign one, so this module signs
and verifies them itself (RFC 7515/7519 compact form, HS256 only) instead of through PyJWT, which
re-prepares the key and validates generic options on every call (about 4x the time). The tokens
are byte-for-byte what PyJWT makes, and the checks are PyJWT's for this use: the header must name
HS256 (never ``none`` or another algorithm, and no ``crit``), the signature is compared in
constant time before anything in the payload is trusted, ``exp``, ``iat`` and ``sub`` are
required, ``exp`` must be in the future and ``iat`` not, ``nbf`` is honoured, ``sub`` and ``jti``
must be strings, and a token with an audience is refused. ``tests/server/test_tokens.py`` checks
both directions against PyJWT.

Stricter than PyJWT, so that a token has exactly one spelling and its times one meaning: every
segment must be canonical unpadded base64url (the alphabet only, no ``=``, unused bits zero, so
``abc`` and ``abd`` cannot name the same bytes), and ``exp``, ``iat`` and ``nbf`` must be JSON
integers (not strings, floats or booleans) between 0 and the end of year 9999.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

ALGORITHM = "HS256"
_REQUIRED = ("exp", "iat", "sub")
_TIME_CLAIMS = ("exp", "iat", "nbf")
#: 9999-12-31T23:59:59Z: the latest time a ``datetime`` holds.
MAX_TIME = 253_402_300_799
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


_TO_STANDARD = str.maketrans("-_", "+/")
_TO_URL = bytes.maketrans(b"+/", b"-_")


def _unb64(segment: str) -> bytes:
    # The decoder skips characters outside the alphabet and ignores unused bits; re-encoding
    # and comparing keeps exactly one spelling per value. (``binascii`` directly: ``base64``'s
    # wrappers cost more than the decoding, on every request.)
    if not _B64URL.fullmatch(segment):
        raise ValueError("not base64url")
    data = binascii.a2b_base64(segment.translate(_TO_STANDARD) + "=" * (-len(segment) % 4))
    if binascii.b2a_base64(data, newline=False).translate(_TO_URL).rstrip(b"=") != \
            segment.encode("ascii"):
        raise ValueError("not canonical base64url")
    return data


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


#: The header PyJWT writes for HS256 (sorted keys), encoded once.
_HEADER = _b64(_json({"alg": ALGORITHM, "typ": "JWT"}))
_HEADER_TEXT = _HEADER.decode("ascii")


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
        return self._encode(claims)

    def refresh_token(self, user_id: str, session_id: str, device_id: str, lifetime: int) -> str:
        """A new refresh token."""
        now = int(time.time())
        claims = {
            "exp": now + lifetime, "iat": now, "sub": user_id, "typ": "refresh",
            "baas_id": session_id, "baas_device_id": device_id, "baas_app": self.app_id,
            "jti": secrets.token_urlsafe(16),
        }
        return self._encode(claims)

    def _encode(self, claims: dict[str, Any]) -> str:
        signing_input = _HEADER + b"." + _b64(_json(claims))
        signature = hmac.digest(self._key, signing_input, hashlib.sha256)
        return (signing_input + b"." + _b64(signature)).decode("ascii")

    def _decode(self, token: str) -> dict[str, Any]:
        """The payload of a well-formed token with a valid signature; ``TokenError`` otherwise."""
        try:
            header_b64, payload_b64, signature_b64 = token.split(".")
            if header_b64 != _HEADER_TEXT:  # Ours is always the same: known to be fine.
                header = json.loads(_unb64(header_b64))
                if (not isinstance(header, dict) or header.get("alg") != ALGORITHM
                        or "crit" in header):
                    raise TokenError("invalid token")
            signing_input = f"{header_b64}.{payload_b64}".encode("ascii")
            expected = hmac.digest(self._key, signing_input, hashlib.sha256)
            # The signature's one canonical spelling, compared as text: the same as decoding
            # the segment strictly (``_unb64``) and comparing the bytes, without the decoding.
            given = signature_b64.encode("utf-8", "surrogatepass")
            if not hmac.compare_digest(_b64(expected), given):
                raise TokenError("invalid token")
            raw = json.loads(_unb64(payload_b64))
        except (ValueError, binascii.Error, RecursionError) as exc:
            raise TokenError("invalid token") from exc
        if not isinstance(raw, dict):
            raise TokenError("invalid token")
        return raw

    def verify(self, token: str, typ: str) -> Claims:
        """The claims of a valid token of the given type, or ``TokenError``."""
        raw = self._decode(token)
        _check_times(raw, time.time())
        if raw.get("typ") != typ:
            raise TokenError(f"invalid {typ} token: incorrect token type")
        if raw.get("baas_app") != self.app_id:
            raise TokenError("token belongs to another app")
        return Claims(
            sub=str(raw["sub"]), typ=typ, session_id=str(raw.get("baas_id", "")),
            app_id=self.app_id, device_id=str(raw.get("baas_device_id", "")),
            exp=int(raw["exp"]), raw=raw,
        )

    def admin_token(self, typ: str, key_id: str, session_id: str, device_id: str,
                    lifetime: int) -> str:
        """An Admin API token (``server.admin_api``): ``typ`` is ``admin_access`` or
        ``admin_refresh``, so it never passes for a client token nor a client token for it."""
        now = int(time.time())
        return self._encode({
            "exp": now + lifetime, "iat": now, "sub": key_id, "typ": typ,
            "baas_id": session_id, "baas_device_id": device_id, "baas_app": self.app_id,
            "jti": secrets.token_urlsafe(16),
        })


def _check_times(raw: dict[str, Any], now: float) -> None:
    # PyJWT's claim checks with no leeway, in its order: required claims, iat, nbf, exp, then
    # audience, subject and token id.
    if any(raw.get(name) is None for name in _REQUIRED):
        raise TokenError("invalid token")
    for name in _TIME_CLAIMS:
        value = raw.get(name, 0)
        if type(value) is not int or not 0 <= value <= MAX_TIME:  # bool is an int subclass
            raise TokenError("invalid token")
    iat, exp, nbf = raw["iat"], raw["exp"], raw.get("nbf")
    if iat > now or (nbf is not None and nbf > now):
        raise TokenError("invalid token")
    if exp <= now:
        raise TokenError("token expired")
    if "aud" in raw or not isinstance(raw["sub"], str) or not isinstance(raw.get("jti", ""), str):
        raise TokenError("invalid token")


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (a token or an API key), as stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(secret: str, stored: str) -> bool:
    """Constant-time comparison of a secret against its stored digest."""
    return hmac.compare_digest(digest(secret), stored)
