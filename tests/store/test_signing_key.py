"""Where the token signing key lives: the data dir for SQLite, the database for PostgreSQL.

Every process behind one address must sign with the same key. Processes on one SQLite file share
a data dir; processes on one PostgreSQL database may run on several machines, so they share the
key through the store.
"""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from server import build_services
from server.services.context import Services
from server.services.tokens import TokenSigner
from server.settings import DEFAULT_CONFIG, Settings

pytestmark = pytest.mark.anyio


async def start(database_url: str, data_dirs: list[Path]) -> list[Services]:
    """Services as several processes build them at once, one per data dir given."""
    settings = [Settings.load(DEFAULT_CONFIG, d, database_url=database_url,
                              overrides={"mail": {"console": False}}) for d in data_dirs]
    return list(await asyncio.gather(*(build_services(s) for s in settings)))


def all_verify_each_other(signers: list[TokenSigner]) -> bool:
    tokens = [s.access_token("u1", "s1", "d1", {}, 60) for s in signers]
    return all(s.verify(t, "access").sub == "u1" for s in signers for t in tokens)


async def test_processes_on_one_database_share_one_signing_key(
    database_url: str, tmp_path: Path
) -> None:
    sqlite = database_url.startswith("sqlite:")
    # SQLite processes share the data dir that holds the file; PostgreSQL ones may share nothing.
    dirs = [tmp_path / "data"] * 4 if sqlite else [tmp_path / f"host{i}" for i in range(4)]
    services = await start(database_url, dirs)
    try:
        stored = await services[0].store.get_meta("signing_key")
    finally:
        await asyncio.gather(*(s.store.close() for s in services))
    signers = [s.signer for s in services]
    assert all_verify_each_other(signers)
    if sqlite:
        key_file = tmp_path / "data" / "signing-key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and stored is None
        key = key_file.read_text().strip()
    else:
        assert stored is not None and len(stored) == 43
        assert not any((d / "signing-key").exists() for d in dirs)
        key = stored
    assert all_verify_each_other([*signers, TokenSigner(key, services[0].settings.app_id)])


async def test_the_key_survives_a_restart(database_url: str, tmp_path: Path) -> None:
    dirs = [tmp_path / "data"]
    (first,) = await start(database_url, dirs)
    token = first.signer.access_token("u1", "s1", "d1", {}, 60)
    await first.store.close()
    (again,) = await start(database_url, dirs)
    await again.store.close()
    assert again.signer.verify(token, "access").sub == "u1"
