"""The schema both stores create: ``schema.sql`` as a list of statements, and its version.

It imports only the standard library; the SQLite and PostgreSQL stores both read it at ``open``.
"""

from __future__ import annotations

from importlib import resources

SCHEMA_VERSION = "1"


def schema_statements() -> list[str]:
    """The schema as a list of SQL statements (shared with the PostgreSQL store)."""
    text = resources.files(__package__).joinpath("schema.sql").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [stmt.strip() for stmt in "\n".join(lines).split(";") if stmt.strip()]
