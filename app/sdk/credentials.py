"""Credentials: what a user logs in (or links) with, and the login request body they become.

The payload keys are realm-web's (protocol section 3.1): email/password logs in with
``username``, an API key with ``key``, a custom JWT with ``token``, a custom function with the
caller's own object, Google and Apple ID tokens with ``id_token``, codes with ``authCode`` and a
Facebook access token with ``accessToken``. The body sent is ``payload`` plus ``options.device``
(section 3.2). Social credentials with a ``redirect_url`` send no body at all: they start the
browser redirect flow of section 3.5 (``app.sdk.oauth``). Standard library only.
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
    # Kept out of repr: the payload holds passwords, keys and tokens.
    payload: dict[str, Any] = field(default_factory=dict, repr=False)
    #: Anonymous credentials only: return the logged-in anonymous user instead of a new one.
    reuse: bool = False
    #: Social credentials only: the app page the provider's redirect flow returns to.
    redirect_url: str | None = None
    #: Passkey credentials only: the ceremony that talks to the authenticator and logs in.
    ceremony: Any = field(default=None, repr=False, compare=False)

    @property
    def redirects(self) -> bool:
        """Whether logging in with these credentials takes the browser redirect flow."""
        return self.redirect_url is not None

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

    @classmethod
    def passkey(cls, authenticator: Any, *, conditional: bool = False) -> Credentials:
        """Sign in with a passkey the ``authenticator`` has (``app.sdk.passkeys``): no email,
        the browser offers the passkeys it has for this site. ``conditional`` waits for the
        user to pick one from the browser's autofill of a ``webauthn`` input."""
        from .passkeys import sign_in

        return cls(routes.PASSKEY, {}, ceremony=sign_in(authenticator, conditional=conditional))

    @classmethod
    def new_passkey(cls, authenticator: Any, *, name: str | None = None,
                    user_name: str = "") -> Credentials:
        """Create an account with only a passkey (``user_name`` is what the authenticator
        shows for it; ``name`` names the passkey in the account's list)."""
        from .passkeys import sign_up

        return cls(routes.PASSKEY, {}, ceremony=sign_up(authenticator, name=name,
                                                        user_name=user_name))


    @classmethod
    def google(cls, *, id_token: str | None = None, auth_code: str | None = None,
               redirect_url: str | None = None) -> Credentials:
        """Google: an ID token, an authorization code, or the redirect flow to ``redirect_url``.

        ```python
        user = await app.log_in(Credentials.google(id_token=token_from_google_identity))
        user = await app.log_in(Credentials.google(redirect_url="https://app.example/"))
        ```
        """
        return _social(routes.OAUTH2_GOOGLE, id_token=id_token, auth_code=auth_code,
                       redirect_url=redirect_url)

    @classmethod
    def apple(cls, *, id_token: str | None = None,
              redirect_url: str | None = None) -> Credentials:
        """Sign in with Apple: an ID token, or the redirect flow to ``redirect_url``."""
        return _social(routes.OAUTH2_APPLE, id_token=id_token, redirect_url=redirect_url)

    @classmethod
    def facebook(cls, *, access_token: str | None = None,
                 redirect_url: str | None = None) -> Credentials:
        """Facebook: a user access token, or the redirect flow to ``redirect_url``."""
        return _social(routes.OAUTH2_FACEBOOK, access_token=access_token,
                       redirect_url=redirect_url)

    @classmethod
    def oidc(cls, name: str = routes.OIDC, *, id_token: str | None = None,
             auth_code: str | None = None, redirect_url: str | None = None) -> Credentials:
        """A generic OpenID Connect provider of the server, ``oidc`` or ``oidc-<name>``."""
        _require_str(name=name)
        if name != routes.OIDC and not (name.startswith(routes.OIDC + "-") and len(name) > 5):
            raise ValueError(f"An OpenID Connect provider is named 'oidc' or 'oidc-…': {name!r}.")
        return _social(name, id_token=id_token, auth_code=auth_code, redirect_url=redirect_url)


# The wire names of the social credential kinds (protocol 3.1: note the mixed case).
_SOCIAL_FIELDS = {"id_token": "id_token", "auth_code": "authCode", "access_token": "accessToken"}


def _social(provider: str, **given: str | None) -> Credentials:
    chosen = {key: value for key, value in given.items() if value is not None}
    if len(chosen) != 1:
        names = " | ".join(given)
        raise ValueError(f"{provider} credentials take exactly one of {names}.")
    (key, value), = chosen.items()
    _require_str(**{key: value})
    if not value:
        raise ValueError(f"The {key} must not be empty.")
    if key == "redirect_url":
        if "://" not in value or "#" in value:
            raise ValueError("The redirect_url must be an absolute URL without a fragment.")
        return Credentials(provider, {}, redirect_url=value)
    return Credentials(provider, {_SOCIAL_FIELDS[key]: value})


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
