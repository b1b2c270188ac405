"""Checking an app config before anything uses it: known keys, value types and number ranges.

``check(raw, tables)`` walks the parsed TOML and raises ``ConfigError`` at the first problem, with
a message that names the key as written in the file, the value, and what is allowed, e.g.
``[tokens] refresh_token_days = 0.0005 is out of range: allowed 0.0208 to 180 days (30 minutes
to 180 days, App Services' range)``. ``serve.py`` prints it and exits before serving.

Rule 1: every number's range is in one table, ``RANGES``, keyed by its place in the file
(``"security.max_body_bytes"``; ``<social>`` stands for every social provider). A new setting is
its dataclass field plus one line here; ``tests/server/test_settings.py`` fails for a number
field of a checked table that has no range.

Rule 2: an unknown key stops the server, naming it and the closest known key: a typo such as
``acess_token_minutes`` would otherwise leave the default silently in force. The keys of the
``[mail]``, ``[security]`` and ``[providers.local-userpass]`` tables (and of the provider tables
read into dataclasses) are the fields of their dataclass, so a field added there is known at once.

Rule 3: TOML values are typed, and the types are checked as such: ``true`` is not a number,
``"60"`` is not a number, ``1.5`` is not a whole number, ``nan`` and ``inf`` are no numbers at all.

Parsing only: nothing here touches the network or the file system.
"""

from __future__ import annotations

import difflib
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from app.sdk import routes

from .oauth_settings import social_kind


class ConfigError(ValueError):
    """The app config file is missing, unreadable or invalid."""


@dataclass(frozen=True, slots=True)
class Range:
    """The allowed values of one number: ``low`` to ``high`` (both included), in ``unit``."""

    low: float
    high: float
    unit: str = ""
    note: str = ""

    def allows(self, value: float) -> bool:
        """Whether ``value`` is in the range."""
        return self.low <= value <= self.high

    def describe(self) -> str:
        """The range in words, as error messages show it."""
        text = f"{_number(self.low)} to {_number(self.high)}"
        text += f" {self.unit}" if self.unit else ""
        return f"{text} ({self.note})" if self.note else text


_DAY_MINUTES = 24 * 60
_MIB = 1024 * 1024

#: Every number of the config and what it may be (Rule 1). ``<social>`` is any social provider.
RANGES: dict[str, Range] = {
    "function_time_limit_seconds": Range(0.1, 3600, "seconds"),
    "function_workers": Range(1, 64),
    "function_memory_limit_mib": Range(64, 65536, "MiB"),
    "function_result_limit_kib": Range(1, 16384, "KiB"),
    "tokens.access_token_minutes": Range(1, _DAY_MINUTES, "minutes",
                                         "1 minute to 24 hours; App Services uses 30"),
    "tokens.refresh_token_days": Range(30 / _DAY_MINUTES, 180, "days",
                                       "30 minutes to 180 days, App Services' range"),
    "providers.local-userpass.token_minutes": Range(1, 7 * _DAY_MINUTES, "minutes",
                                                    "1 minute to 7 days"),
    "providers.custom-token.jwks_cache_seconds": Range(0, 86400, "seconds"),
    "providers.custom-token.jwks_min_refetch_seconds": Range(0, 3600, "seconds"),
    "providers.custom-token.leeway_seconds": Range(0, 300, "seconds"),
    "providers.<social>.leeway_seconds": Range(0, 300, "seconds"),
    "providers.<social>.jwks_cache_seconds": Range(0, 86400, "seconds"),
    "providers.<social>.jwks_min_refetch_seconds": Range(0, 3600, "seconds"),
    "oauth.state_seconds": Range(1, 3600, "seconds"),
    "mail.smtp_port": Range(1, 65535),
    "security.max_body_bytes": Range(1024, 64 * _MIB, "bytes", "1 KiB to 64 MiB"),
    "security.login_failures_per_account": Range(1, 10**9),
    "security.login_attempts_per_address": Range(1, 10**9),
    "security.rate_window_seconds": Range(1, 86400, "seconds"),
    "security.mails_per_address": Range(1, 10**6),
    "security.logins_per_address": Range(1, 10**9),
    "security.logins_per_identity": Range(1, 10**9),
    "security.email_requests_per_address": Range(1, 10**9),
    "security.login_slowdown_after": Range(1, 10**9),
    "security.login_slowdown_window_seconds": Range(60, 30 * 86400, "seconds"),
    "security.login_max_delay_seconds": Range(1, 86400, "seconds"),
    "security.header_timeout_seconds": Range(1, 300, "seconds"),
    "security.body_timeout_seconds": Range(1, 600, "seconds"),
    "security.keep_alive_seconds": Range(1, 300, "seconds"),
    "security.max_connections": Range(16, 1_000_000),
    "providers.passkey.challenge_seconds": Range(10, 3600, "seconds"),
    "mfa.login_seconds": Range(30, 3600, "seconds"),
    "mfa.totp_window": Range(0, 2, "time steps of 30 seconds"),
    "audit.retention_days": Range(1, 3650, "days"),
    "audit.prune_interval_minutes": Range(1, 1440, "minutes"),
    "custom_user_data.max_bytes": Range(256, 256 * 1024, "bytes",
                                        "every access token carries the document"),
}

# A key's kind: the types its value may have; ``None`` means its reader checks it (lists,
# tables, strings or lists).
Kind = tuple[type, ...] | None
Schema = dict[str, Kind]
NUMBER: Kind = (int, float)
WHOLE: Kind = (int,)
TEXT: Kind = (str,)
FLAG: Kind = (bool,)

_TOP: Schema = {
    "app_id": TEXT, "functions": TEXT, "function_time_limit_seconds": NUMBER,
    "function_workers": WHOLE, "function_memory_limit_mib": WHOLE,
    "function_result_limit_kib": WHOLE,
    "public_url": TEXT, "tokens": (dict,), "cors": (dict,), "providers": (dict,),
    "custom_user_data": (dict,), "mail": (dict,), "security": (dict,), "oauth": (dict,),
    "environment": TEXT, "values": (dict,), "js_functions": (dict,),
    "mfa": (dict,),
    "audit": (dict,), "metrics": (dict,), "logging": (dict,),
}
_TABLES: dict[str, Schema] = {
    "tokens": {"access_token_minutes": NUMBER, "refresh_token_days": NUMBER},
    "cors": {"allowed_origins": None},
    "custom_user_data": {"enabled": FLAG, "collection": TEXT, "user_id_field": TEXT,
                         "max_bytes": WHOLE},
    "oauth": {"redirect_uris": None, "state_seconds": NUMBER},
}
_PROVIDERS: dict[str, Schema] = {
    routes.ANON_USER: {"enabled": FLAG},
    routes.API_KEY: {"enabled": FLAG},
    routes.CUSTOM_FUNCTION: {"enabled": FLAG, "function_name": TEXT},
}
# Keys that name where a secret or key comes from, beside the setting they fill in.
_SOURCES: dict[str, Schema] = {
    routes.CUSTOM_TOKEN: {"signing_key_env": TEXT, "public_key_file": TEXT},
    "<social>": {"client_secret_env": TEXT, "client_secret_file": TEXT,
                 "private_key_env": TEXT, "private_key_file": TEXT},
}
_NOT_IN_FILE = ("name", "kind")
# One ``[js_functions.NAME]`` table (``server.js_settings``); ``[values]`` holds any values.
_JS_FUNCTION: Schema = {"source": TEXT, "private": FLAG}


def schema_of(cls: type) -> Schema:
    """The keys of a config table read into the dataclass ``cls``: its fields and their kinds."""
    hints = typing.get_type_hints(cls)
    kinds: dict[Any, Kind] = {bool: FLAG, int: WHOLE, float: NUMBER, str: TEXT}
    return {f.name: kinds.get(hints[f.name]) for f in fields(cls) if f.name not in _NOT_IN_FILE}


def check(raw: Mapping[str, Any], tables: Mapping[str, type], *, ranges: bool = True) -> None:
    """Check a parsed config; ``tables`` maps a table (``"mail"``, ``"providers.<social>"``) to
    the dataclass it is read into. ``ranges=False`` checks keys and types only (for tests that
    shorten lifetimes below what an operator may set, to watch tokens expire)."""
    _table("", raw, _TOP, ranges)
    schemas = {name: schema_of(cls) for name, cls in tables.items()}
    for name in ("tokens", "cors", "custom_user_data", "oauth", "mail", "security", "mfa",
                 "audit", "metrics", "logging"):
        schema = _TABLES.get(name) or schemas.get(name)
        if schema is not None and isinstance(raw.get(name), dict):
            _table(name, raw[name], schema, ranges)
    for provider, table in (raw.get("providers") or {}).items():
        _provider(str(provider), table, schemas, ranges)
    for name, table in (raw.get("js_functions") or {}).items():
        if isinstance(table, dict):
            _table(f"js_functions.{name}", table, _JS_FUNCTION, ranges)


def _provider(name: str, table: Any, schemas: Mapping[str, Schema], ranges: bool) -> None:
    where = f"providers.{name}"
    kind = "<social>" if social_kind(name) is not None else name
    schema = _PROVIDERS.get(kind) or schemas.get(f"providers.{kind}")
    if schema is None:
        known = [*_PROVIDERS, *(k.removeprefix("providers.") for k in schemas
                                if k.startswith("providers.") and k != "providers.<social>"),
                 *routes.SOCIAL_TYPES, "oidc-<name>"]
        raise ConfigError(f"[{where}] is not a provider{_closest(name, known)}; the providers "
                          f"are {', '.join(sorted(set(known)))}.")
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] in the config must be a table.")
    schema = {"enabled": FLAG, **schema, **_SOURCES.get(kind, {})}
    _table(where, table, schema, ranges, range_prefix=f"providers.{kind}")


def _table(where: str, table: Mapping[str, Any], schema: Schema, ranges: bool,
           range_prefix: str | None = None) -> None:
    for key, value in table.items():
        shown = f"[{where}] {key}" if where else str(key)
        if key not in schema:
            raise ConfigError(f"{_place(where)}has an unknown key {key!r}"
                              f"{_closest(str(key), list(schema))}; the keys there are "
                              f"{', '.join(sorted(schema))}.")
        prefix = range_prefix if range_prefix is not None else where
        _value(shown, value, schema[key], RANGES.get(f"{prefix}.{key}" if prefix else key),
               ranges)


def _value(shown: str, value: Any, kind: Kind, allowed: Range | None, ranges: bool) -> None:
    if kind is None:
        return
    numeric = kind in (NUMBER, WHOLE)
    wrong = isinstance(value, bool) and bool not in kind
    wrong = wrong or not isinstance(value, kind)
    if numeric and not wrong and not math.isfinite(value):
        wrong = True
    if wrong:
        raise ConfigError(f"{shown} = {_toml(value)} must be {_expected(kind, allowed)}.")
    if numeric and ranges and allowed is not None and not allowed.allows(value):
        raise ConfigError(f"{shown} = {_toml(value)} is out of range: allowed "
                          f"{allowed.describe()}.")


def _expected(kind: Kind, allowed: Range | None) -> str:
    if kind == FLAG:
        return "true or false"
    if kind == TEXT:
        return "a string (in quotes)"
    if kind == (dict,):
        return "a table"
    what = "a whole number" if kind == WHOLE else "a number"
    return f"{what}, {allowed.describe()}" if allowed is not None else what


def _place(where: str) -> str:
    return f"[{where}] " if where else "The config "


def _closest(key: str, known: list[str]) -> str:
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):_}" if abs(value) >= 10**5 else str(int(value))
    return f"{value:.4g}"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value[:80])
    if isinstance(value, dict):
        return "{...}"
    if isinstance(value, list):
        return "[...]"
    return f"{value:g}" if isinstance(value, float) else str(value)
