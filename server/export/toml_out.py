"""Writing a config dict as TOML, for ``serve.py convert-config`` (tomllib only reads).

``dumps(raw, header)`` writes top-level keys first, then one ``[table]`` per nested table, with
lists of tables as inline tables. Keys that are not bare TOML keys (``oauth2-google`` is;
``auth/login`` is not) are quoted. ``None`` has no TOML form: ``convert`` leaves such values out.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def dumps(raw: dict[str, Any], header: str = "") -> str:
    """The TOML text of ``raw``, after ``header`` (comment lines)."""
    out: list[str] = [header] if header else []
    _table(out, [], raw)
    return "\n".join(out).strip() + "\n"


def _table(out: list[str], path: list[str], table: dict[str, Any]) -> None:
    plain = {k: v for k, v in table.items() if not isinstance(v, dict)}
    nested = {k: v for k, v in table.items() if isinstance(v, dict)}
    if path and (plain or not nested):
        out.append("")
        out.append(f"[{'.'.join(_key(p) for p in path)}]")
    for key, value in plain.items():
        out.append(f"{_key(key)} = {_value(value)}")
    for key, value in nested.items():
        _table(out, [*path, key], value)


def _key(key: str) -> str:
    return key if _BARE.fullmatch(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        # JSON's string escapes are TOML's, but for DEL, which TOML wants escaped too.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"{type(value).__name__} has no TOML form")
