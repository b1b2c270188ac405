"""The data dir: the server's private directory, and the secrets kept in it as files.

Secrets are never in the config: they are generated on first start into the data dir, each in
its own file readable by its owner only (0600). It imports only the standard library and
``server.config_check`` (for ``ConfigError``); nothing of the HTTP layer or the store.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from .config_check import ConfigError


def ensure_data_dir(data_dir: Path) -> None:
    """Create the data dir, readable by its owner only."""
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)


def load_or_create_secret(data_dir: Path, name: str, nbytes: int = 32) -> str:
    """A secret kept in ``data_dir/name`` with mode 0600, generated on first use.

    The file appears complete or not at all, and the first process to make it wins: the server
    and an admin command starting together on a fresh data dir read the same value.
    """
    ensure_data_dir(data_dir)
    path = data_dir / name
    if not path.exists():
        _create_secret(path, secrets.token_urlsafe(nbytes))
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 32:
        raise ConfigError(f"The secret file {path} is damaged; remove it to make a new one.")
    return value


def _create_secret(path: Path, value: str) -> None:
    # Written in full to a private temporary file, then hard-linked into place: the link is
    # atomic and fails if the name exists, so nobody ever reads a half-written secret.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(value + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # Another process made it first; everybody uses that one.
        except OSError:
            # A file system without hard links: create the name exclusively, then write.
            with contextlib.suppress(FileExistsError), \
                    os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
                              "w", encoding="ascii") as fh:
                fh.write(value + "\n")
    finally:
        tmp.unlink(missing_ok=True)
