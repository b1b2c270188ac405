"""App secrets: the values behind the secret names an app config refers to.

App Services exports never hold secrets, only their names: a provider's ``secret_config``
(``clientSecret``, ``signingKeys``) and values with ``from_secret``. The config keeps those
names (``[providers.X.secret_config]``, ``[secret_values]``); ``resolve_secrets(raw, data_dir)``
puts the values in their place before the config is checked, so the rest of the server reads
an ordinary config.

A secret named ``N`` comes from the environment variable ``LATCHKEY_SECRET_N`` (characters other
than letters, digits and ``_`` may be written as ``_``), else from ``secrets.json`` in the data
dir: a JSON object of names and values, readable by its owner only (mode 0600, or the server
refuses it). A missing secret stops the load with a message that names it, where it is used and
where it may come from; no message ever holds a secret's value.

It imports only the standard library and ``server.config_check``.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config_check import ConfigError

ENV_PREFIX = "LATCHKEY_SECRET_"
SECRETS_FILE = "secrets.json"
#: The tables that may hold a ``secret_config``: providers and mail.
_OWNERS = ("providers", "mail")


def env_names(name: str) -> tuple[str, ...]:
    """The environment variables a secret may come from, as written and with ``_`` for others."""
    plain = ENV_PREFIX + name
    safe = ENV_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", name)
    return (plain,) if safe == plain else (plain, safe)


class SecretSource:
    """Looks secrets up in the environment, then in the data dir's secrets file."""

    def __init__(self, data_dir: Path, environ: Mapping[str, str] | None = None) -> None:
        self.path = data_dir / SECRETS_FILE
        self.environ = os.environ if environ is None else environ
        self._file: dict[str, str] | None = None

    def get(self, name: str) -> str | None:
        """The secret's value, or ``None`` when neither place has it."""
        for var in env_names(name):
            value = self.environ.get(var)
            if value:
                return value
        return self._from_file().get(name)

    def _from_file(self) -> dict[str, str]:
        if self._file is None:
            self._file = _read_file(self.path)
        return self._file


def resolve_secrets(raw: dict[str, Any], source: SecretSource) -> dict[str, Any]:
    """``raw`` with every ``secret_config`` and ``[secret_values]`` replaced by the values.

    ``secret_config`` entries land in their table under the same key (a string, or a list for
    a list of names); ``[secret_values]`` entries land in ``[values]``.
    """
    missing: list[str] = []
    out = dict(raw)
    for owner in _OWNERS:
        section = out.get(owner)
        if not isinstance(section, dict):
            continue
        tables = section.items() if owner == "providers" else [("", section)]
        resolved = {}
        for name, table in tables:
            if isinstance(table, dict) and "secret_config" in table:
                where = f"[{owner}.{name}]" if name else f"[{owner}]"
                table = _fill(table, where, source, missing)
            resolved[name] = table
        out[owner] = resolved if owner == "providers" else resolved[""]
    names = out.pop("secret_values", None)
    if names is not None:
        if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
            raise ConfigError("[secret_values] maps value names to secret names (strings).")
        values = dict(out.get("values") or {})
        for value_name, secret in names.items():
            got = source.get(secret)
            if got is None:
                missing.append(_missing(secret, f"the value {value_name!r}", source))
            values[value_name] = got
        out["values"] = values
    if missing:
        raise ConfigError("\n".join(missing))
    return out


def _fill(table: dict[str, Any], where: str, source: SecretSource,
          missing: list[str]) -> dict[str, Any]:
    refs = table["secret_config"]
    if not isinstance(refs, dict):
        raise ConfigError(f"{where} secret_config must be a table of setting = secret name.")
    filled = {k: v for k, v in table.items() if k != "secret_config"}
    if table.get("enabled") is False:
        return filled  # A disabled provider's secrets are not needed to run the app.
    for key, names in refs.items():
        many = isinstance(names, list)
        wanted = names if many else [names]
        if not all(isinstance(n, str) and n for n in wanted):
            raise ConfigError(f"{where} secret_config {key} must name secrets (strings).")
        found = []
        for secret in wanted:
            got = source.get(secret)
            if got is None:
                missing.append(_missing(secret, f"{where} {key}", source))
            found.append(got)
        filled[key] = found if many else found[0]
    return filled


def _missing(secret: str, used_by: str, source: SecretSource) -> str:
    return (f"The secret {secret!r} (used by {used_by}) is not set: set the environment "
            f"variable {env_names(secret)[-1]}, or add it to {source.path} (mode 0600).")


def _read_file(path: Path) -> dict[str, str]:
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"Cannot read the secrets file {path}: {exc.strerror}.") from exc
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(f"The secrets file {path} may be read by others (mode "
                          f"{stat.S_IMODE(info.st_mode):o}); make it private: chmod 600 {path}")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        # The parser's message may quote the file, and so a secret: name the file only.
        raise ConfigError(f"The secrets file {path} is not a readable JSON object of "
                          "secret names and values.") from exc
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"The secrets file {path} must be a JSON object of secret names and "
                          "string values.")
    return value
