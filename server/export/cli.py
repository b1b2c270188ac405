"""``serve.py convert-config DIR`` and the start-up summary of a served export.

``convert_config(path, environment)`` prints the TOML config equivalent to an export: the same
dict the server reads from the directory, checked by ``server.config_check`` as any config is,
with secrets as references (``secret_config``, ``[secret_values]``), never values. Function
paths are relative to the current directory, where ``> app.toml`` puts the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..app_secrets import SecretSource, resolve_secrets
from ..config_check import ConfigError, check
from . import describe, read_export
from .toml_out import dumps


class _Placeholders(SecretSource):
    """Stands in for every secret, so that a converted config is checked without them."""

    def __init__(self) -> None:
        super().__init__(Path("."), {})

    def get(self, name: str) -> str | None:
        return "x" * 64


def convert_config(path: Path, environment: str = "") -> int:
    """Print the export at ``path`` as TOML; the exit status."""
    from ..settings import CHECKED_TABLES

    try:
        export = read_export(path, environment, base=Path.cwd())
        check(resolve_secrets(export.raw, _Placeholders()), CHECKED_TABLES)
    except ConfigError as exc:
        print(f"serve.py convert-config: {exc}", file=sys.stderr)
        return 2
    header = [f"# Latchkey config converted from the App Services export {export.root_file}",
              "# Secrets are referenced by name: give each as LATCHKEY_SECRET_<name> or in",
              "# <data dir>/secrets.json (README \"Migrating from App Services\")."]
    summary = describe(list(export.gaps), prefix="# ")
    if summary:
        header.append("#")
        header.append(summary)
    sys.stdout.write(dumps(export.raw, "\n".join(header) + "\n"))
    return 0


def startup_summary(config_path: Path, environment: str = "") -> str:
    """The summary of what a served export does not get, or ``""`` for a TOML config."""
    if config_path.suffix != ".json":
        return ""
    return describe(list(read_export(config_path, environment).gaps))
