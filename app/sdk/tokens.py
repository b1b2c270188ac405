"""Tokens: reading JWT claims without verifying them, and the login response that carries tokens.

Clients never verify signatures (protocol section 6); the server does. The SDK reads the access
token's ``exp`` (to refresh shortly before expiry), ``user_data`` (custom user data) and
``baas_device_id``. Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from typing import Any

#: Refresh an access token this many seconds before its ``exp``, so it does not expire in flight.
EXPIRY_LEEWAY = 10.0
#: The device id that means "no device" (protocol section 3.3).
ZERO_DEVICE_ID = "0" * 24


def decode_payload(token: str) -> dict[str, Any]:
    """The claims of a JWT, without any signature check.

    ```python
    claims = decode_payload(user.access_token)
    claims["sub"] == user.id
    ```

    Raises ``ValueError`` when the token is not a three-part JWT with a JSON object payload.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("Expected a token with three dot-separated parts.")
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        payload = json.loads(base64.urlsafe_b64decode(segment.encode("ascii")))
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValueError(f"The token's payload is not base64url-encoded JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValueError("The token's payload is not a JSON object.")
    return payload


def expires_at(token: str) -> float | None:
    """The token's ``exp`` claim in seconds since the epoch, or ``None`` if it has none or is not
    a readable JWT."""
    try:
        exp = decode_payload(token).get("exp")
    except ValueError:
        return None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    return float(exp)


def is_expiring(token: str, *, now: float | None = None, leeway: float = EXPIRY_LEEWAY) -> bool:
    """Whether the token expires within ``leeway`` seconds.

    A token without a readable ``exp`` counts as fresh: the server is the judge, and its 401
    still triggers a refresh.
    """
    exp = expires_at(token)
    if exp is None:
        return False
    return exp - (time.time() if now is None else now) <= leeway


def custom_data(token: str) -> dict[str, Any]:
    """The ``user_data`` claim of an access token, or ``{}`` when it has none."""
    data = decode_payload(token).get("user_data")
    return dict(data) if isinstance(data, dict) else {}


def device_id(token: str) -> str | None:
    """The ``baas_device_id`` claim, or ``None`` when absent, unreadable or all zeros."""
    try:
        value = decode_payload(token).get("baas_device_id")
    except ValueError:
        return None
    return value if isinstance(value, str) and value != ZERO_DEVICE_ID else None


@dataclass(frozen=True, slots=True)
class AuthResponse:
    """A login (or link) response: ``{user_id, access_token, refresh_token, device_id}``."""

    user_id: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    device_id: str

    @classmethod
    def from_json(cls, body: Any, *, require_refresh_token: bool = True) -> AuthResponse:
        """Validate a decoded login response; ``ValueError`` names the first bad field."""
        if not isinstance(body, dict):
            raise ValueError("Expected a JSON object in the login response.")
        refresh = body.get("refresh_token")
        if refresh is not None and not isinstance(refresh, str):
            raise ValueError("Expected 'refresh_token' to be a string.")
        if require_refresh_token and refresh is None:
            raise ValueError("No refresh token in the login response.")
        return cls(
            user_id=_required_str(body, "user_id"),
            access_token=_required_str(body, "access_token"),
            refresh_token=refresh,
            device_id=_required_str(body, "device_id"),
        )


def parse_access_token(body: Any) -> str:
    """The ``access_token`` of a refresh (``POST /auth/session``) response."""
    if not isinstance(body, dict):
        raise ValueError("Expected a JSON object in the session response.")
    return _required_str(body, "access_token")


def _required_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"Expected '{name}' to be a non-empty string in the response.")
    return value
