"""An App Services export as Latchkey's config: the same dict a TOML config file gives.

``to_raw(layout, base)`` maps the export's root config, auth providers, custom user data, values
and functions to the keys of the TOML config (README "Configuration"), so that the one settings
path (``server.config_check`` and ``server.settings``) checks and reads both. Secrets stay
references: a provider's ``secret_config`` keeps naming secrets (``[providers.X.secret_config]``)
and values read from a secret go to ``[secret_values]``; ``server.app_secrets`` fills them in at
load, from the environment or the secrets file. What does not map is noted in ``gaps`` (one
line per setting) for the start-up summary (``server.export.gaps``).

Function source paths are written relative to ``base``: the export directory when the server
reads it, the current directory when ``convert-config`` writes a TOML file there.

Parsing only: nothing here touches the network; it imports no HTTP layer, service or store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from app.sdk import routes

from ..config_check import ConfigError
from .layout import Function, Layout

_SOCIAL = (routes.OAUTH2_GOOGLE, routes.OAUTH2_APPLE, routes.OAUTH2_FACEBOOK)


def to_raw(layout: Layout, base: Path, gaps: list[str]) -> dict[str, Any]:
    """The TOML-shaped config of an export; settings that do not map are appended to ``gaps``."""
    config = layout.config
    app_id = config.get("app_id") or config.get("client_app_id")
    if not isinstance(app_id, str) or not app_id:
        raise ConfigError(f"{layout.root_file} has no app_id (the client app id, e.g. "
                          "\"myapp-abcde\"); add it, or export the app again.")
    raw: dict[str, Any] = {"app_id": app_id}
    if layout.environment:
        raw["environment"] = layout.environment
    origins = config.get("allowed_request_origins") or \
        (config.get("security") or {}).get("allowed_request_origins")
    if isinstance(origins, list) and origins:
        raw["cors"] = {"allowed_origins": [str(o) for o in origins]}
    providers = {}
    for name, cfg in layout.providers.items():
        table = provider_table(name, cfg, gaps)
        if table is not None:
            providers[str(cfg.get("type") or name)] = table
    if providers:
        raw["providers"] = providers
    custom = _custom_user_data(layout.custom_user_data, gaps)
    if custom:
        raw["custom_user_data"] = custom
    values, secret_values = _values(layout.values, gaps)
    if values:
        raw["values"] = values
    if secret_values:
        raw["secret_values"] = secret_values
    functions = {f.name: _function(f, base, gaps) for f in layout.functions}
    if functions:
        raw["js_functions"] = functions
    return raw


def provider_table(name: str, cfg: dict[str, Any], gaps: list[str]) -> dict[str, Any] | None:
    """One ``[providers.<type>]`` table from an export's provider config, or ``None``."""
    kind = str(cfg.get("type") or name)
    config = cfg.get("config") or {}
    secret = cfg.get("secret_config") or {}
    table: dict[str, Any] = {"enabled": not cfg.get("disabled", False)}
    if kind in (routes.ANON_USER, routes.API_KEY):
        pass
    elif kind == routes.LOCAL_USERPASS:
        table.update(_userpass(config))
    elif kind == routes.CUSTOM_FUNCTION:
        table["function_name"] = str(config.get("authFunctionName") or "")
    elif kind == routes.CUSTOM_TOKEN:
        table.update(_custom_token(config, secret, cfg.get("metadata_fields") or []))
    elif kind in _SOCIAL:
        table.update(_social(kind, cfg, config, secret, gaps))
    else:
        gaps.append(f"auth provider {name!r} ({kind}): Latchkey has no such provider; "
                    "its users cannot log in")
        return None
    if cfg.get("domain_restrictions"):
        gaps.append(f"auth provider {kind}: domain_restrictions "
                    f"({', '.join(map(str, cfg['domain_restrictions']))}) are not enforced")
    return table


def _userpass(config: dict[str, Any]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    if config.get("autoConfirm"):
        table["confirmation"] = "auto"
    elif config.get("runConfirmationFunction"):
        table["confirmation"] = "function"
    else:
        table["confirmation"] = "email"
    table["reset"] = "function" if config.get("runResetFunction") else "email"
    for ours, theirs in (("confirmation_function", "confirmationFunctionName"),
                         ("reset_function", "resetFunctionName"),
                         ("confirm_url", "emailConfirmationUrl"),
                         ("reset_url", "resetPasswordUrl"),
                         ("confirm_subject", "confirmEmailSubject"),
                         ("reset_subject", "resetPasswordSubject")):
        if config.get(theirs):
            table[ours] = str(config[theirs])
    return table


def _custom_token(config: dict[str, Any], secret: dict[str, Any],
                  metadata: list[Any]) -> dict[str, Any]:
    algorithm = str(config.get("signingAlgorithm") or "HS256")
    table: dict[str, Any] = {"algorithm": algorithm}
    keys = secret.get("signingKeys") or ([secret["signingKey"]] if secret.get("signingKey")
                                         else [])
    if config.get("useJWKURI") and config.get("jwkURI"):
        table["jwks_url"] = str(config["jwkURI"])
    elif algorithm == "HS256":
        table["secret_config"] = {"signing_keys": [str(k) for k in keys]}
    elif keys:
        table["secret_config"] = {"public_key": str(keys[0])}
    audience = config.get("audience")
    if audience:
        table["audience"] = [str(a) for a in audience] if isinstance(audience, list) \
            else str(audience)
    fields = [{"name": str(m.get("name")), "field_name": str(m.get("field_name") or
                                                             str(m.get("name")).rsplit(".")[-1]),
               "required": bool(m.get("required", False))}
              for m in metadata if isinstance(m, dict) and m.get("name")]
    if fields:
        table["metadata_fields"] = fields
    return table


def _social(kind: str, cfg: dict[str, Any], config: dict[str, Any], secret: dict[str, Any],
            gaps: list[str]) -> dict[str, Any]:
    table: dict[str, Any] = {"client_id": str(config.get("clientId") or "")}
    if secret.get("clientSecret"):
        table["secret_config"] = {"client_secret": str(secret["clientSecret"])}
    uris = cfg.get("redirect_uris") or []
    if uris:
        table["redirect_uris"] = [str(u) for u in uris]
    if cfg.get("metadata_fields"):
        gaps.append(f"auth provider {kind}: metadata_fields are not chosen one by one; "
                    "Latchkey keeps the provider's standard profile fields (name, email, "
                    "picture, ...)")
    return table


def _custom_user_data(cfg: dict[str, Any], gaps: list[str]) -> dict[str, Any]:
    if not cfg:
        return {}
    table: dict[str, Any] = {"enabled": bool(cfg.get("enabled", False))}
    if cfg.get("collection_name"):
        table["collection"] = str(cfg["collection_name"])
    if cfg.get("user_id_field"):
        table["user_id_field"] = str(cfg["user_id_field"])
    if cfg.get("on_user_creation_function_name"):
        gaps.append("custom user data: the user creation function "
                    f"{cfg['on_user_creation_function_name']!r} is not run")
    return table


def _values(items: list[dict[str, Any]], gaps: list[str]) -> tuple[dict[str, Any],
                                                                   dict[str, str]]:
    values: dict[str, Any] = {}
    secret_values: dict[str, str] = {}
    for item in items:
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError("Every file in values/ needs a name.")
        if item.get("from_secret"):
            secret_values[name] = str(item.get("value"))
        elif item.get("value") is None:
            gaps.append(f"value {name!r} is null, which a TOML config cannot hold; "
                        "context.values.get returns undefined for it")
        else:
            values[name] = item["value"]
    return values, secret_values


def _function(function: Function, base: Path, gaps: list[str]) -> dict[str, Any]:
    cfg = function.config
    private = bool(cfg.get("private", False))
    if cfg.get("can_evaluate") and not private:
        # Who may call it is a rule expression Latchkey cannot evaluate: keeping the function
        # callable by every user would open it wider than the app meant.
        private = True
        gaps.append(f"function {function.name!r}: its can_evaluate rule is not evaluated, so "
                    "clients cannot call it (other functions and logins still can)")
    source = Path(os.path.relpath(function.source, base))
    if source.parts and source.parts[0] == "..":  # Far from base: the absolute path is clearer.
        source = function.source.resolve()
    return {"source": source.as_posix(), "private": private}
