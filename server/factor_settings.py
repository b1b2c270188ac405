"""The settings of passkeys (``[providers.passkey]``) and second factors (``[mfa]``), issue 14.

``passkey_settings(table, public_url, cors_origins)`` and ``mfa_settings(table, app_id)`` read
the two tables into frozen dataclasses; ``server.config_check`` has checked their keys, types and
number ranges before. Parsing only: nothing here touches the network, the store or HTTP.

```toml
[providers.passkey]
enabled = true
rp_id = "example.com"                  # default: public_url's host
rp_name = "Example"                    # default: the app id
origins = ["https://app.example.com"]  # default: public_url plus [cors] allowed_origins
user_verification = "preferred"        # or "required"

[mfa]
enabled = true
required = false                       # true: every login of the providers below needs one
providers = ["local-userpass"]
```
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .config_check import ConfigError

USER_VERIFICATION = ("required", "preferred", "discouraged")
ATTESTATION = ("none", "indirect", "direct")


@dataclass(frozen=True, slots=True)
class PasskeySettings:
    """The ``passkey`` provider: the relying party, the origins it accepts, what it asks for."""

    enabled: bool = False
    #: The domain passkeys are bound to; the page's host or a registrable suffix of it.
    rp_id: str = "localhost"
    rp_name: str = "Latchkey"
    #: The page origins a ceremony may come from (``https://app.example.com``).
    origins: tuple[str, ...] = ()
    user_verification: str = "preferred"
    attestation: str = "none"
    #: How long a registration or login ceremony may take (seconds).
    challenge_seconds: float = 300.0

    @property
    def require_uv(self) -> bool:
        """Whether a ceremony without user verification (PIN, biometrics) is refused."""
        return self.user_verification == "required"


@dataclass(frozen=True, slots=True)
class MfaSettings:
    """Second factors: TOTP authenticators, recovery codes, and passkeys as a second step."""

    enabled: bool = False
    #: Every login of ``providers`` needs a second factor; users without one enrol first.
    required: bool = False
    #: The login providers whose logins ask for the second factor.
    providers: tuple[str, ...] = ("local-userpass",)
    #: The name authenticator apps show (default: the passkey RP name, else the app id).
    issuer: str = ""
    #: How long a login may wait for its second factor (seconds).
    login_seconds: float = 300.0
    #: Time steps of clock drift accepted on either side of now (30 s each).
    totp_window: int = 1


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of strings.")
    return tuple(value)


def _origin(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(f"[providers.passkey] origins: {value!r} is not an origin such as "
                          "\"https://app.example.com\".")
    return f"{parts.scheme}://{parts.netloc}"


def passkey_settings(table: dict[str, Any], app_id: str, public_url: str,
                     cors_origins: tuple[str, ...]) -> PasskeySettings:
    """``[providers.passkey]`` as settings, with the defaults that depend on the rest."""
    host = urlsplit(public_url).hostname if public_url else None
    if "origins" in table:
        origins = tuple(_origin(o) for o in _strings("[providers.passkey] origins",
                                                     table["origins"]))
    else:
        origins = tuple(f"{p.scheme}://{p.netloc}" for p in map(urlsplit, (public_url,
                        *cors_origins)) if p.scheme in ("http", "https") and p.hostname)
    uv = str(table.get("user_verification", "preferred"))
    if uv not in USER_VERIFICATION:
        raise ConfigError(f"[providers.passkey] user_verification = {uv!r} must be one of "
                          f"{', '.join(USER_VERIFICATION)}.")
    attestation = str(table.get("attestation", "none"))
    if attestation not in ATTESTATION:
        raise ConfigError(f"[providers.passkey] attestation = {attestation!r} must be one of "
                          f"{', '.join(ATTESTATION)}.")
    settings = PasskeySettings(
        enabled=bool(table.get("enabled", False)),
        rp_id=str(table.get("rp_id") or host or "localhost"),
        rp_name=str(table.get("rp_name") or app_id),
        origins=tuple(dict.fromkeys(origins)),
        user_verification=uv,
        attestation=attestation,
        challenge_seconds=float(table.get("challenge_seconds", 300.0)),
    )
    if settings.enabled and not settings.origins:
        raise ConfigError("[providers.passkey] needs origins (the pages that sign in), or set "
                          "public_url.")
    if settings.enabled:
        _check_rp_id(settings.rp_id, settings.origins)
    return settings


def _check_rp_id(rp_id: str, origins: tuple[str, ...]) -> None:
    """Refuse an ``rp_id`` no browser would use: an IP address, or no origin's host or parent.

    Such a config started, and every passkey ceremony then failed in the browser with a
    SecurityError the server never saw (found in review).
    """
    try:
        ipaddress.ip_address(rp_id.strip("[]"))
    except ValueError:
        pass
    else:
        raise ConfigError(f"[providers.passkey] rp_id = {rp_id!r} is an IP address, which "
                          "browsers refuse for passkeys: open the page by a host name (such as "
                          "localhost) and set rp_id to it.")
    hosts = [urlsplit(o).hostname or "" for o in origins]
    if not any(h == rp_id or h.endswith("." + rp_id) for h in hosts):
        raise ConfigError(f"[providers.passkey] rp_id = {rp_id!r} is neither the host of an "
                          f"origin ({', '.join(origins)}) nor a parent domain of one, so no "
                          "page could use passkeys.")


def mfa_settings(table: dict[str, Any], app_id: str, rp_name: str = "") -> MfaSettings:
    """``[mfa]`` as settings."""
    return MfaSettings(
        enabled=bool(table.get("enabled", False)),
        required=bool(table.get("required", False)),
        providers=_mfa_providers(table.get("providers", ["local-userpass"])),
        issuer=str(table.get("issuer") or rp_name or app_id),
        login_seconds=float(table.get("login_seconds", 300.0)),
        totp_window=int(table.get("totp_window", 1)),
    )


_MFA_LOGINS = ("local-userpass", "anon-user", "api-key", "custom-function", "custom-token",
               "oauth2-google", "oauth2-apple", "oauth2-facebook", "oidc")


def _mfa_providers(value: Any) -> tuple[str, ...]:
    """``[mfa] providers``: login provider types; a misspelt one asked nobody for a factor."""
    names = _strings("[mfa] providers", value)
    for name in names:
        if name not in _MFA_LOGINS and not (name.startswith("oidc-") and len(name) > 5):
            raise ConfigError(f"[mfa] providers: {name!r} is not a login provider; they are "
                              f"{', '.join(_MFA_LOGINS)} and oidc-<name>.")
    return names
