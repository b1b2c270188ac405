"""Custom JWT settings: the ``[providers.custom-token]`` table of the app config, checked.

``custom_token_settings`` turns the table into ``CustomTokenSettings``: the algorithm, and the
keys a token is checked with (HS256 secrets inline or from the environment, an RS256/ES256 public
key inline or from a file, or a JWKS URL), the audience, the leeway and the metadata fields.

Parsing only: nothing here touches the network or imports the HTTP layer or the store; PyJWT is
loaded only to check a configured public key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config_check import ConfigError


@dataclass(frozen=True, slots=True)
class MetadataField:
    """A claim of a custom JWT copied into the profile ``data``: path, key, and whether required."""

    name: str
    field_name: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class CustomTokenSettings:
    """Custom JWT provider options (App Services' ``custom-token`` config).

    HS256 tokens are checked with ``signing_keys`` (any of them, so keys can be rotated); RS256 and
    ES256 tokens with ``public_key`` (PEM) or the keys published at ``jwks_url``.
    """

    enabled: bool = False
    algorithm: str = "HS256"
    signing_keys: tuple[str, ...] = field(default=(), repr=False)
    public_key: str = ""
    jwks_url: str = ""
    jwks_cache_seconds: float = 300.0
    jwks_min_refetch_seconds: float = 10.0
    audience: tuple[str, ...] = ()
    leeway_seconds: float = 0.0
    metadata_fields: tuple[MetadataField, ...] = ()



TOKEN_ALGORITHMS = ("HS256", "RS256", "ES256")
MIN_HMAC_KEY_BYTES = 32


def custom_token_settings(cfg: dict[str, Any], config_dir: Path) -> CustomTokenSettings:
    """Check ``[providers.custom-token]`` and gather its keys (inline, from a file or the env)."""
    if not cfg.get("enabled", False):
        return CustomTokenSettings()
    algorithm = cfg.get("algorithm", "HS256")
    if algorithm not in TOKEN_ALGORITHMS:
        raise ConfigError(f"custom-token algorithm must be one of {', '.join(TOKEN_ALGORITHMS)}.")
    keys: tuple[str, ...] = ()
    public_key = jwks_url = ""
    if algorithm == "HS256":
        keys = _hmac_keys(cfg)
    else:
        public_key, jwks_url = _public_key(cfg, config_dir, algorithm)
    return CustomTokenSettings(
        enabled=True, algorithm=algorithm, signing_keys=keys, public_key=public_key,
        jwks_url=jwks_url,
        jwks_cache_seconds=_number(cfg, "jwks_cache_seconds", 300.0),
        jwks_min_refetch_seconds=_number(cfg, "jwks_min_refetch_seconds", 10.0),
        audience=_strings(cfg, "audience"),
        leeway_seconds=_number(cfg, "leeway_seconds", 0.0),
        metadata_fields=_metadata_fields(cfg.get("metadata_fields", [])),
    )


def _hmac_keys(cfg: dict[str, Any]) -> tuple[str, ...]:
    keys = list(_strings(cfg, "signing_keys"))
    env_name = cfg.get("signing_key_env", "")
    if env_name:
        value = os.environ.get(str(env_name), "")
        if not value:
            raise ConfigError(f"custom-token signing_key_env names {env_name}, which is not set.")
        keys.append(value)
    if not keys:
        raise ConfigError("custom-token HS256 needs signing_keys or signing_key_env.")
    if any(len(k.encode()) < MIN_HMAC_KEY_BYTES for k in keys):
        raise ConfigError(f"custom-token HS256 keys must be at least {MIN_HMAC_KEY_BYTES} bytes.")
    return tuple(keys)


def _public_key(cfg: dict[str, Any], config_dir: Path, algorithm: str) -> tuple[str, str]:
    sources = [k for k in ("public_key", "public_key_file", "jwks_url") if cfg.get(k)]
    if len(sources) != 1:
        raise ConfigError(f"custom-token {algorithm} needs exactly one of public_key, "
                          "public_key_file or jwks_url.")
    if sources[0] == "jwks_url":
        url = str(cfg["jwks_url"])
        if not url.startswith(("https://", "http://")):
            raise ConfigError("custom-token jwks_url must be an http(s) URL.")
        return "", url
    pem = str(cfg["public_key"]) if sources[0] == "public_key" else \
        _read_text(config_dir / str(cfg["public_key_file"]))
    import jwt  # The server's JWT library; loaded here only when a public key is configured.

    try:
        key = jwt.get_algorithm_by_name(algorithm).prepare_key(pem)
    except (jwt.InvalidKeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"custom-token public key is not a valid {algorithm} key.") from exc
    if hasattr(key, "private_bytes"):
        raise ConfigError("custom-token public_key holds a private key; give the public key.")
    return pem, ""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from exc


def _number(cfg: dict[str, Any], key: str, default: float) -> float:
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"custom-token {key} must be a number of seconds, 0 or more.")
    return float(value)


def _strings(cfg: dict[str, Any], key: str) -> tuple[str, ...]:
    value = cfg.get(key, ())
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"custom-token {key} must be a string or a list of strings.")
    return tuple(v for v in values if v)


def _metadata_fields(value: Any) -> tuple[MetadataField, ...]:
    if not isinstance(value, list):
        raise ConfigError("custom-token metadata_fields must be a list of tables.")
    fields = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise ConfigError("each custom-token metadata field needs a claim name.")
        field_name = item.get("field_name") or name.rsplit(".", 1)[-1]
        fields.append(MetadataField(name, str(field_name), bool(item.get("required", False))))
    return tuple(fields)
