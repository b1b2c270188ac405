"""The config of App Services style functions: JavaScript functions, values and environment.

```toml
environment = "production"            # context.environment.tag
[values]                              # context.values.get(name)
myValue = "x"
[js_functions.myFunc]                 # one table per JavaScript function
source = "functions/myFunc.js"        # relative to the config file
private = false                       # clients cannot call it (FunctionNotFound)
```

Each source must exist and parse (``server.runtime.js.check_source``, which compiles it without
running it); values must have an EJSON form (they cross into functions as EJSON). Any problem is
a ``ConfigError`` naming the function and the file, so ``serve.py`` stops with one clear line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import ejson
from .config_check import ConfigError

if TYPE_CHECKING:
    from .settings import Settings

MAX_NAME = 128


@dataclass(frozen=True, slots=True)
class JsFunctionSettings:
    """One JavaScript function: its source file and whether clients may call it."""

    source: Path
    private: bool = False


def js_functions(raw: dict[str, Any], base: Path) -> dict[str, JsFunctionSettings]:
    """The ``[js_functions.NAME]`` tables, sources resolved against the config's folder."""
    table = raw.get("js_functions", {})
    if not isinstance(table, dict):
        raise ConfigError("[js_functions] in the config must be a table of functions.")
    out: dict[str, JsFunctionSettings] = {}
    for name, cfg in table.items():
        if not isinstance(cfg, dict):
            raise ConfigError(f"[js_functions.{name}] must be a table with a source.")
        if not name or len(name) > MAX_NAME or name.startswith("_"):
            raise ConfigError(f"[js_functions.{name[:MAX_NAME]}]: a function name must be 1 to "
                              f"{MAX_NAME} characters and must not start with '_'.")
        source = cfg.get("source")
        if not isinstance(source, str) or not source:
            raise ConfigError(f"[js_functions.{name}] needs source, the path of its .js file "
                              "(relative to the config file).")
        path = base / source
        _check_source(name, path)
        out[name] = JsFunctionSettings(path, bool(cfg.get("private", False)))
    return out


def _check_source(name: str, path: Path) -> None:
    from .runtime.js import check_source  # Loads the engine only for apps that have JS.

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"[js_functions.{name}] source {path} cannot be read: {exc}") from exc
    problem = check_source(text)
    if problem:
        raise ConfigError(f"[js_functions.{name}] source {path} is not valid JavaScript: "
                          f"{problem}")


def values(raw: dict[str, Any]) -> dict[str, Any]:
    """The ``[values]`` table; each value must have an EJSON form."""
    table = raw.get("values", {})
    if not isinstance(table, dict):
        raise ConfigError("[values] in the config must be a table.")
    for name, value in table.items():
        try:
            ejson.dumps_canonical(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise ConfigError(f"[values] {name} cannot be given to functions (a TOML date or "
                              f"time without a zone has no EJSON form): {exc}") from exc
    return dict(table)


def environment(raw: dict[str, Any]) -> str:
    """``environment``: the tag functions read as ``context.environment.tag``."""
    tag = raw.get("environment", "")
    if not isinstance(tag, str):
        raise ConfigError("environment must be a string, e.g. \"production\".")
    return tag


def runtime_app(settings: Settings) -> str:
    """What function workers get at start (JSON; ``""`` when there is nothing App Services
    style): the JavaScript functions, the values as canonical EJSON, the environment tag and the
    custom user data collection that ``context.services`` stands in for."""
    if not (settings.js_functions or settings.values or settings.environment):
        return ""
    cd = settings.custom_user_data
    custom = ({"collection": str(cd.get("collection", "custom_user_data")),
               "user_id_field": str(cd.get("user_id_field", "user_id"))}
              if cd.get("enabled", False) else None)
    return json.dumps({
        "functions": {name: [str(f.source.resolve()), f.private]
                      for name, f in settings.js_functions.items()},
        "values": ejson.dumps_canonical(settings.values),
        "environment": settings.environment,
        "custom_data": custom,
    })
