"""Social login settings: the OAuth 2.0 / OpenID Connect providers of the app config.

A provider is a ``[providers.<name>]`` table whose name is ``oauth2-google``, ``oauth2-apple``,
``oauth2-facebook``, ``oidc`` or ``oidc-<anything>`` (several generic OpenID Connect issuers side
by side). The three presets fill in their provider's well-known endpoints; a generic ``oidc``
provider names its ``issuer`` (endpoints are then discovered from
``<issuer>/.well-known/openid-configuration``) or its endpoints one by one. Every URL of a preset
can be overridden, which is how the tests point ``oauth2-google`` at a provider on loopback.

Rule 1: secrets never have to be in the config file: ``client_secret_env`` (and for Apple
``private_key_env`` / ``private_key_file``) read them from the environment or a file.

Rule 2: the browser redirect flow only ever redirects to a URL listed in ``redirect_uris`` (the
provider's own list plus ``[oauth] redirect_uris``), compared exactly; there is no open redirect.

Parsing only: nothing here touches the network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.sdk import routes

#: Algorithms an ID token may be signed with. Symmetric ones are left out on purpose: the
#: issuer's published keys are the only trust anchor we accept.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
TOKEN_AUTH_METHODS = ("client_secret_post", "client_secret_basic")
DEFAULT_STATE_SECONDS = 600.0


class OAuthConfigError(ValueError):
    """A social login provider is configured wrongly (raised as the server's ``ConfigError``)."""


@dataclass(frozen=True, slots=True)
class OAuthProviderSettings:
    """One social login provider: who we are to it, where it lives, and what we accept."""

    name: str
    kind: str
    display_name: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    issuer: str = ""
    #: Every ``iss`` value accepted in ID tokens (Google uses two spellings).
    issuers: tuple[str, ...] = ()
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    jwks_uri: str = ""
    userinfo_endpoint: str = ""
    #: Facebook's ``debug_token``: proves an access token was issued to *our* app.
    debug_token_endpoint: str = ""
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    #: Accepted ``aud`` values of ID tokens: the client id, plus e.g. a mobile app's client id.
    audiences: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    pkce: bool = True
    response_mode: str = ""
    token_auth_method: str = "client_secret_post"
    redirect_uris: tuple[str, ...] = ()
    #: The ``redirect_uri`` for ``authCode`` logins whose code the client obtained itself
    #: (Google's popup code model uses ``postmessage``); empty means our callback URL.
    code_redirect_uri: str = ""
    #: Our callback URL as registered with the provider; empty means derived from the request.
    callback_url: str = ""
    leeway_seconds: float = 60.0
    jwks_cache_seconds: float = 300.0
    jwks_min_refetch_seconds: float = 10.0
    #: Apple: the client secret is a JWT we sign with the team's key (``apple_secret.py``).
    team_id: str = ""
    key_id: str = ""
    private_key: str = field(default="", repr=False)

    @property
    def needs_discovery(self) -> bool:
        """Whether endpoints must be read from the issuer's discovery document first."""
        return bool(self.issuer) and not (self.authorization_endpoint and self.token_endpoint
                                          and self.jwks_uri)


_PRESETS: dict[str, dict[str, Any]] = {
    routes.OAUTH2_GOOGLE: {
        "display_name": "Google",
        "issuer": "https://accounts.google.com",
        "issuers": ("https://accounts.google.com", "accounts.google.com"),
        "authorization_endpoint": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_endpoint": "https://oauth2.googleapis.com/token",
        "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
        "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
        "scopes": ("openid", "email", "profile"),
        "pkce": True,
    },
    routes.OAUTH2_APPLE: {
        "display_name": "Apple",
        "issuer": "https://appleid.apple.com",
        "authorization_endpoint": "https://appleid.apple.com/auth/authorize",
        "token_endpoint": "https://appleid.apple.com/auth/token",
        "jwks_uri": "https://appleid.apple.com/auth/keys",
        # Apple sends the user's name only with form_post, and only at the first sign-in.
        "scopes": ("name", "email"),
        "response_mode": "form_post",
        "pkce": False,
    },
    routes.OAUTH2_FACEBOOK: {
        "display_name": "Facebook",
        # Facebook's OpenID Connect ID tokens ("Limited Login") are checked like any other.
        "issuer": "https://www.facebook.com",
        "authorization_endpoint": "https://www.facebook.com/v21.0/dialog/oauth",
        "token_endpoint": "https://graph.facebook.com/v21.0/oauth/access_token",
        "jwks_uri": "https://www.facebook.com/.well-known/oauth/openid/jwks/",
        "userinfo_endpoint":
            "https://graph.facebook.com/v21.0/me?fields=id,name,email,first_name,last_name,picture",
        "debug_token_endpoint": "https://graph.facebook.com/v21.0/debug_token",
        "scopes": ("email", "public_profile"),
        "pkce": False,
    },
    routes.OIDC: {"display_name": "OpenID Connect"},
}

_URL_KEYS = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
             "userinfo_endpoint", "debug_token_endpoint", "callback_url")


def social_kind(name: str) -> str | None:
    """The kind of a provider name (``oidc-keycloak`` is an ``oidc``), or ``None``."""
    if name in routes.SOCIAL_TYPES:
        return name
    if name.startswith(routes.OIDC + "-") and len(name) > len(routes.OIDC) + 1:
        return routes.OIDC
    return None


def oauth_providers(raw: dict[str, Any], providers: dict[str, dict[str, Any]],
                    config_dir: Path) -> dict[str, OAuthProviderSettings]:
    """Check every enabled social provider of the config and fill in its preset."""
    shared = _strings(_oauth_table(raw), "redirect_uris", "[oauth]")
    out: dict[str, OAuthProviderSettings] = {}
    for name, cfg in providers.items():
        kind = social_kind(name)
        if kind is None or not cfg.get("enabled", False):
            continue
        out[name] = _provider(name, kind, cfg, shared, config_dir)
    return out


def state_seconds(raw: dict[str, Any]) -> float:
    """How long a redirect flow may take, from the provider's redirect to our callback."""
    value = _oauth_table(raw).get("state_seconds", DEFAULT_STATE_SECONDS)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise OAuthConfigError("[oauth] state_seconds must be a positive number.")
    return float(value)


def _oauth_table(raw: dict[str, Any]) -> dict[str, Any]:
    table = raw.get("oauth", {})
    if not isinstance(table, dict):
        raise OAuthConfigError("[oauth] in the config must be a table.")
    return table


def _provider(name: str, kind: str, cfg: dict[str, Any], shared: tuple[str, ...],
              config_dir: Path) -> OAuthProviderSettings:
    where = f"[providers.{name}]"
    preset = dict(_PRESETS[kind])
    client_id = cfg.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise OAuthConfigError(f"{where} needs client_id, the app's id at the provider.")
    values: dict[str, Any] = {**preset, "name": name, "kind": kind, "client_id": client_id}
    for key in _URL_KEYS:
        if key in cfg:
            values[key] = _url(cfg[key], f"{where} {key}")
    if "issuers" in cfg:
        values["issuers"] = _strings(cfg, "issuers", where)
    elif "issuer" in cfg:
        values["issuers"] = (values["issuer"],)
    else:
        values.setdefault("issuers", (values["issuer"],) if values.get("issuer") else ())
    for key in ("scopes", "audiences", "algorithms"):
        if key in cfg:
            values[key] = _strings(cfg, key, where)
    for key in ("display_name", "response_mode", "token_auth_method", "code_redirect_uri",
                "team_id", "key_id"):
        if key in cfg:
            values[key] = _text(cfg[key], f"{where} {key}")
    for key in ("leeway_seconds", "jwks_cache_seconds", "jwks_min_refetch_seconds"):
        if key in cfg:
            values[key] = _seconds(cfg[key], f"{where} {key}")
    if "pkce" in cfg:
        values["pkce"] = bool(cfg["pkce"])
    values["redirect_uris"] = tuple(dict.fromkeys(
        [*_strings(cfg, "redirect_uris", where), *shared]))
    values["client_secret"] = _secret(cfg, "client_secret", config_dir, where)
    values["private_key"] = _secret(cfg, "private_key", config_dir, where)
    settings = OAuthProviderSettings(**values)
    if not settings.audiences:
        settings = replace(settings, audiences=(client_id,))
    _check(settings, where)
    return settings


def _check(s: OAuthProviderSettings, where: str) -> None:
    if not s.issuer and not (s.authorization_endpoint and s.token_endpoint):
        raise OAuthConfigError(f"{where} needs an issuer, or authorization_endpoint and "
                               "token_endpoint.")
    bad = [a for a in s.algorithms if a not in ID_TOKEN_ALGORITHMS]
    if bad or not s.algorithms:
        raise OAuthConfigError(f"{where} algorithms must be some of "
                               f"{', '.join(ID_TOKEN_ALGORITHMS)}.")
    if s.token_auth_method not in TOKEN_AUTH_METHODS:
        raise OAuthConfigError(f"{where} token_auth_method must be one of "
                               f"{', '.join(TOKEN_AUTH_METHODS)}.")
    if s.response_mode not in ("", "query", "form_post"):
        raise OAuthConfigError(f"{where} response_mode must be query or form_post.")
    if s.kind == routes.OAUTH2_APPLE and s.private_key and not (s.team_id and s.key_id):
        raise OAuthConfigError(f"{where} private_key needs team_id and key_id too.")
    for uri in s.redirect_uris:
        _redirect_uri(uri, where)


def _redirect_uri(uri: str, where: str) -> None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment or "#" in uri:
        raise OAuthConfigError(f"{where} redirect URI {uri!r} must be an absolute http(s) URL "
                               "without a fragment.")


def _url(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise OAuthConfigError(f"{what} must be an http(s) URL.")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise OAuthConfigError(f"{what} must be a string.")
    return value


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise OAuthConfigError(f"{what} must be a number of seconds, 0 or more.")
    return float(value)


def _strings(cfg: Any, key: str, where: str) -> tuple[str, ...]:
    value = cfg.get(key, ()) if isinstance(cfg, dict) else ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise OAuthConfigError(f"{where} {key} must be a string or a list of strings.")
    return tuple(v for v in values if v)


def _secret(cfg: dict[str, Any], key: str, config_dir: Path, where: str) -> str:
    """``<key>`` inline, ``<key>_env`` from the environment, or ``<key>_file`` from a file."""
    env_name, file_name = cfg.get(f"{key}_env"), cfg.get(f"{key}_file")
    if env_name:
        value = os.environ.get(str(env_name), "")
        if not value:
            raise OAuthConfigError(f"{where} {key}_env names {env_name}, which is not set.")
        return value
    if file_name:
        try:
            return (config_dir / str(file_name)).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise OAuthConfigError(f"{where} cannot read {key}_file: {exc.strerror}.") from exc
    return _text(cfg.get(key, ""), f"{where} {key}")
