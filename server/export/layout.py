"""Reading an App Services export directory: its files as plain JSON, whatever its layout.

``load_layout(root_file, environment)`` reads the root config (``realm_config.json`` or
``root_config.json``: config version 20210101; ``config.json``: 20200603; ``stitch.json``:
20180301) and the parts Latchkey uses into one ``Layout``: the auth providers (from
``auth/providers.json``, or one file each in ``auth_providers/``), custom user data (from
``auth/custom_user_data.json``, or the root's ``custom_user_data_config``), functions (from
``functions/config.json`` with ``functions/<name>.js``, or ``functions/<name>/config.json`` with
``source.js``), values and the chosen environment. ``%(%%environment.values.X)`` and
``%(%%environment.tag)`` expansions in string fields are resolved on the way in.

Rule: a file that is there but is not valid JSON of the expected shape stops the load with a
``ConfigError`` naming the file; a part that is absent is simply empty.

Parsing only: nothing here touches the network; it imports no HTTP layer, service or store.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config_check import ConfigError

#: Root config files and the config version each layout writes.
ROOT_FILES = ("realm_config.json", "root_config.json", "config.json", "stitch.json")
_EXPANSION = re.compile(r"%\(%%environment\.(values\.([A-Za-z0-9_.-]+)|tag)\)")


@dataclass(frozen=True, slots=True)
class Function:
    """One function of the export: its config and the path of its source."""

    name: str
    config: dict[str, Any]
    source: Path


@dataclass(slots=True)
class Layout:
    """The parts of an export that Latchkey reads, as JSON values."""

    root: Path
    root_file: Path
    config: dict[str, Any]
    environment: str = ""
    environment_values: dict[str, Any] = field(default_factory=dict)
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    custom_user_data: dict[str, Any] = field(default_factory=dict)
    functions: list[Function] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)


def find_root_file(path: Path) -> Path | None:
    """The root config file of an export at ``path`` (the directory or the file itself)."""
    if path.is_file():
        return path if path.name in ROOT_FILES and path.suffix == ".json" else None
    if path.is_dir():
        return next((path / n for n in ROOT_FILES if (path / n).is_file()), None)
    return None


def load_layout(root_file: Path, environment: str = "") -> Layout:
    """Read the export whose root config is ``root_file``; ``environment`` picks
    ``environments/<name>.json`` (default: the root config's ``environment``)."""
    root = root_file.parent
    config = _object(root_file)
    env = environment or str(config.get("environment") or "")
    env_values = _environment(root, env)
    layout = Layout(root, root_file, config, env, env_values)
    legacy = root_file.name in ("config.json", "stitch.json")
    layout.providers = _providers_legacy(root, config) if legacy else _providers(root)
    layout.custom_user_data = (config.get("custom_user_data_config") or {}) if legacy else \
        _optional_object(root / "auth" / "custom_user_data.json")
    layout.functions = _functions_legacy(root) if legacy else _functions(root)
    layout.values = [_object(p) for p in _json_files(root / "values")]
    expand = _Expander(env, env_values)
    layout.config = expand(layout.config)
    layout.providers = expand(layout.providers)
    layout.custom_user_data = expand(layout.custom_user_data)
    layout.values = expand(layout.values)
    return layout


def read_json(path: Path) -> Any:
    """A JSON file's value; ``ConfigError`` naming the file when it is unreadable or invalid."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}.") from exc


def _object(path: Path) -> dict[str, Any]:
    value = read_json(path)
    if not isinstance(value, dict):
        raise ConfigError(f"{path} must hold a JSON object.")
    return value


def _optional_object(path: Path) -> dict[str, Any]:
    return _object(path) if path.is_file() else {}


def _json_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _environment(root: Path, env: str) -> dict[str, Any]:
    folder = root / "environments"
    if not env:
        return {}
    path = folder / f"{env}.json"
    if not path.is_file():
        if folder.is_dir():
            known = ", ".join(p.stem for p in _json_files(folder)) or "none"
            raise ConfigError(f"The export has no environment {env!r} "
                              f"(environments/{env}.json); it has: {known}.")
        return {}
    values = _object(path).get("values", {})
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: values must be a JSON object.")
    return values


def _providers(root: Path) -> dict[str, dict[str, Any]]:
    path = root / "auth" / "providers.json"
    if not path.is_file():
        return _providers_legacy(root, {})
    value = read_json(path)
    # Older tools wrote a list of providers; current ones an object keyed by provider name.
    items = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(p, dict) for p in items):
        raise ConfigError(f"{path} must hold an object of provider configs.")
    return {str(p.get("name") or p.get("type")): p for p in items}


def _providers_legacy(root: Path, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for item in config.get("auth_providers", []) or []:
        if isinstance(item, dict):
            found[str(item.get("name") or item.get("type"))] = item
    for path in _json_files(root / "auth_providers"):
        item = _object(path)
        found[str(item.get("name") or item.get("type") or path.stem)] = item
    return found


def _functions(root: Path) -> list[Function]:
    folder = root / "functions"
    path = folder / "config.json"
    if not path.is_file():
        return _functions_legacy(root)
    configs = read_json(path)
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        raise ConfigError(f"{path} must hold a JSON array of function configs.")
    out = []
    for cfg in configs:
        name = cfg.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{path}: every function needs a name.")
        source = folder / f"{name}.js"
        if not source.resolve().is_relative_to(folder.resolve()):
            # "../../x" read any .js file of the machine as a function (found in review).
            raise ConfigError(f"{path} lists the function {name!r}, whose source would be "
                              "outside the export's functions folder.")
        if not source.is_file():
            raise ConfigError(f"{path} lists the function {name!r}, but functions/{name}.js "
                              "is not there.")
        out.append(Function(name, cfg, source))
    return out


def _functions_legacy(root: Path) -> list[Function]:
    folder = root / "functions"
    out = []
    for cfg_path in sorted(folder.glob("*/config.json")) if folder.is_dir() else []:
        cfg = _object(cfg_path)
        name = str(cfg.get("name") or cfg_path.parent.name)
        source = cfg_path.parent / "source.js"
        if not source.is_file():
            raise ConfigError(f"{cfg_path.parent} has a config.json but no source.js.")
        out.append(Function(name, cfg, source))
    return out


class _Expander:
    """Resolves ``%(%%environment...)`` in every string of a JSON value."""

    def __init__(self, tag: str, values: dict[str, Any]) -> None:
        self.tag, self.values = tag, values

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, str) or "%(%%environment." not in value:
            return value
        whole = _EXPANSION.fullmatch(value)
        if whole:  # A whole-string expansion keeps the value's JSON type.
            return self._lookup(whole)
        return _EXPANSION.sub(lambda m: str(self._lookup(m)), value)

    def _lookup(self, match: re.Match[str]) -> Any:
        if match.group(1) == "tag":
            return self.tag
        name = match.group(2)
        if name not in self.values:
            where = f"environments/{self.tag}.json" if self.tag else "no environment chosen"
            raise ConfigError(f"The export uses %(%%environment.values.{name}), which is not "
                              f"set ({where}); choose the environment with --environment.")
        return self.values[name]
