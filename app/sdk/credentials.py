"""Credentials: what a user logs in (or links) with, and the login request body they become.

The payload keys are realm-web's (protocol section 3.1): email/password logs in with
``username``, an API key with ``key``, a custom JWT with ``token``, a custom function with the
caller's own object. The body sent is ``payload`` plus ``options.device`` (section 3.2).
Standard library only.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass, field
from typing import Any

from . import routes
from .ejson import ObjectId

SDK_VERSION = "0.1.0"


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to authenticate: a provider plus its payload.

    ```python
    user = await app.log_in(Credentials.email_password("ada@example.com", "s3cret-pass"))
    anon = await app.log_in(Credentials.anonymous())
    ```
    """

    provider_type: str
    payload: dict[str, Any] = field(default_factory=dict)
    #: Anonymous credentials only: return the logged-in anonymous user instead of a new one.
    reuse: bool = False

    @property
    def provider_name(self) -> str:
        """The provider name used in the login path; it always equals the provider type."""
        return self.provider_type

    @classmethod
    def anonymous(cls, reuse: bool = True) -> Credentials:
        """An anonymous user; with ``reuse`` (the default) the one already logged in, if any."""
        return cls(routes.ANON_USER, {}, reuse=reuse)

    @classmethod
    def email_password(cls, email: str, password: str) -> Credentials:
        """A user registered with ``app.email_password_auth.register_user``."""
        _require_str(email=email, password=password)
        return cls(routes.LOCAL_USERPASS, {"username": email, "password": password})

    @classmethod
    def api_key(cls, key: str) -> Credentials:
        """The secret of a user API key (``user.api_keys.create(name).key``)."""
        _require_str(key=key)
        return cls(routes.API_KEY, {"key": key})

    @classmethod
    def jwt(cls, token: str) -> Credentials:
        """A JWT issued by an external identity provider (custom JWT authentication)."""
        _require_str(token=token)
        return cls(routes.CUSTOM_TOKEN, {"token": token})

    @classmethod
    def function(cls, payload: dict[str, Any]) -> Credentials:
        """Any object, passed to the app's custom authentication function."""
        if not isinstance(payload, dict):
            raise TypeError("The function credentials payload must be a dict.")
        if "options" in payload:
            # The login body puts device information under "options"; a caller key of that
            # name would be overwritten without a trace.
            raise ValueError("The function credentials payload must not have a key 'options'.")
        return cls(routes.CUSTOM_FUNCTION, dict(payload))


def _require_str(**values: object) -> None:
    for name, value in values.items():
        if not isinstance(value, str):
            raise TypeError(f"The {name} must be a string, got {type(value).__name__}.")


def device_info(device_id: str | None) -> dict[str, Any]:
    """The ``options.device`` object of a login request.

    The stored device id travels as an ObjectId (``{"$oid": ...}`` once EJSON-encoded), and only
    when there is one.
    """
    # Pyodide reports sys.platform "emscripten"; CPython reports its OS.
    name = "pyodide" if sys.platform == "emscripten" else "cpython"
    info: dict[str, Any] = {
        "platform": name,
        "platformVersion": platform.python_version(),
        "sdkVersion": SDK_VERSION,
    }
    if device_id is not None:
        info["deviceId"] = ObjectId(device_id)
    return info


def login_body(credentials: Credentials, device_id: str | None) -> dict[str, Any]:
    """The body of ``POST .../auth/providers/<provider>/login``: payload plus ``options``."""
    return {**credentials.payload, "options": {"device": device_info(device_id)}}
