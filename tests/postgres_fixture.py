"""A PostgreSQL server for tests: ``TEST_DATABASE_URL``, or a private throwaway cluster.

``PostgresServer.start()`` uses ``TEST_DATABASE_URL`` when it is set (a database the tests may
create schemas in). Otherwise it runs Debian's binaries (``/usr/lib/postgresql/*/bin``, the
``postgresql`` package that ``scripts/setup test`` installs) on a fresh cluster in a temp dir:
loopback only, a free port, trust auth, no fsync. It never touches the system's own cluster.
It returns ``None`` when neither exists, so the caller can skip with ``UNAVAILABLE``.

Each test gets ``fresh_url()``: the same database with a new empty schema first on the
``search_path``, which is much faster than a database per test and needs no ``CREATEDB``.

PostgreSQL refuses to run as root; as root the cluster runs as the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, LiteralString

if TYPE_CHECKING:
    from psycopg.sql import Composed

UNAVAILABLE = ("PostgreSQL is not available: set TEST_DATABASE_URL, or install Debian's "
               "postgresql package (scripts/setup test does).")


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that has ``initdb``, if any."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return found[-1] if found else None


class PostgresServer:
    """A database for tests, and the private cluster behind it when we started one."""

    def __init__(self, url: str, cluster: Path | None = None, bin_dir: Path | None = None):
        self.url = url
        self.cluster = cluster
        self.bin_dir = bin_dir
        self.schemas: list[str] = []
        import psycopg  # The postgres extra; only imported when a server is there to use.

        self._admin = psycopg.connect(url, autocommit=True)

    @classmethod
    def start(cls) -> PostgresServer | None:
        """Connect to ``TEST_DATABASE_URL`` or start a private cluster; ``None`` if neither."""
        if url := os.environ.get("TEST_DATABASE_URL"):
            return cls(url)
        bin_dir = find_bin_dir()
        if bin_dir is None:
            return None
        cluster = Path(tempfile.mkdtemp(prefix="latchkey-pg-"))
        try:
            port = _start_cluster(bin_dir, cluster)
            return cls(f"postgresql://postgres@127.0.0.1:{port}/postgres", cluster, bin_dir)
        except BaseException:
            _stop_cluster(bin_dir, cluster)
            raise

    def fresh_url(self) -> str:
        """A URL whose tables land in a new, empty schema of the test database."""
        schema = f"t_{uuid.uuid4().hex[:12]}"
        self._admin.execute(_sql("CREATE SCHEMA {}", schema))
        self.schemas.append(schema)
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}options=-c%20search_path%3D{schema}"

    def stop(self) -> None:
        """Drop the test schemas (on a given database) or remove the private cluster."""
        try:
            if self.cluster is None:
                for schema in self.schemas:
                    self._admin.execute(_sql("DROP SCHEMA IF EXISTS {} CASCADE", schema))
        finally:
            self._admin.close()
            if self.cluster is not None and self.bin_dir is not None:
                _stop_cluster(self.bin_dir, self.cluster)


def _sql(template: LiteralString, name: str) -> Composed:
    from psycopg import sql

    return sql.SQL(template).format(sql.Identifier(name))


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_cluster(bin_dir: Path, cluster: Path) -> int:
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(cluster, owner.pw_uid, owner.pw_gid)
    data = cluster / "data"
    subprocess.run(
        _as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]),
        cwd=cluster, check=True, capture_output=True, timeout=120)
    last = ""
    for _ in range(3):  # Another process may take the free port before the server binds it.
        port = _free_port()
        options = (f"-k {cluster} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        done = subprocess.run(
            _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(cluster / "log"),
                       "-o", options, "-w", "-t", "60", "start"]),
            cwd=cluster, capture_output=True, text=True, timeout=90)
        if done.returncode == 0:
            return port
        last = done.stdout + done.stderr + _tail(cluster / "log")
    raise RuntimeError(f"The test PostgreSQL cluster did not start:\n{last}")


def _stop_cluster(bin_dir: Path, cluster: Path) -> None:
    if (cluster / "data" / "postmaster.pid").exists():
        subprocess.run(
            _as_owner([str(bin_dir / "pg_ctl"), "-D", str(cluster / "data"), "-m", "immediate",
                       "-w", "stop"]),
            cwd=cluster, capture_output=True, timeout=60)
    shutil.rmtree(cluster, ignore_errors=True)


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return ""
