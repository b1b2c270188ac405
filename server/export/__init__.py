"""App Services export directories as app configs: read, converted, summarised.

An export (the "Export App" download, ``appservices pull`` or ``realm-cli pull``) is read by
``layout``, mapped to the dict a TOML config gives by ``convert``, and what Latchkey does not do is
listed by ``gaps``. ``server.settings`` calls ``read_export`` when ``--config`` names a directory
(or its root JSON file), so nothing after loading knows which kind of config it was;
``convert-config`` writes the same dict as TOML (``toml_out``).

```python
export = read_export(Path("myapp"), environment="production")
export.raw["app_id"], export.gaps
```

Parsing only: nothing here touches the network or imports the HTTP layer, services or store.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config_check import ConfigError
from .convert import to_raw
from .gaps import describe, find_gaps
from .layout import find_root_file, load_layout

__all__ = ["Export", "describe", "is_export", "read_export"]


@dataclass(frozen=True, slots=True)
class Export:
    """An export as config: the TOML-shaped dict, its root file, and what is not served."""

    raw: dict[str, Any]
    root_file: Path
    gaps: tuple[str, ...]


def is_export(path: Path) -> bool:
    """Whether ``path`` is an export directory or an export's root JSON file."""
    return path.is_dir() or path.suffix == ".json"


def read_export(path: Path, environment: str = "", base: Path | None = None) -> Export:
    """Read the export at ``path``; function paths are relative to ``base`` (default: the
    export directory)."""
    root_file = find_root_file(path)
    if root_file is None:
        raise ConfigError(f"{path} is not an App Services export: it has none of "
                          "realm_config.json, root_config.json, config.json or stitch.json.")
    layout = load_layout(root_file, environment)
    gaps: list[str] = []
    raw = to_raw(layout, base or layout.root, gaps)
    return Export(raw, root_file, tuple(gaps + find_gaps(layout)))
