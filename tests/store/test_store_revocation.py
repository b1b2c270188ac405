"""The store side of issue 16 items 3, 4, 5 and 10, on SQLite and PostgreSQL alike.

Sessions checked with the user in one read, sessions ended by a disable and a new password,
email/password tokens deleted with their user, one account per normalised address, and the
migration of a store made before the normalised key existed.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import unicodedata
from pathlib import Path

import pytest

from server.store import Conflict, Store, open_store_for
from server.store.base import UserpassAccount, UserpassToken
from server.store.migrate import migrate_store
from server.store.sqlite import schema_statements
from tests.postgres_fixture import PostgresServer

from .test_store import T0, OpenStores, ident, session, user

pytestmark = pytest.mark.anyio


def _token(tid: str, email: str, kind: str = "reset") -> UserpassToken:
    return UserpassToken(tid, f"hash-{tid}", email, kind, T0 + 10**9, False)


async def _userpass_user(store: Store, uid: str, email: str) -> None:
    await store.create_user(user(uid), ident("local-userpass", f"up-{uid}"))
    await store.create_userpass(UserpassAccount(email, f"up-{uid}", "h", True, T0))


# Item 3: the user of an access token, only while its session lives.

async def test_get_user_for_session_needs_that_users_live_session(store: Store) -> None:
    await store.create_user(user("u1", plan="pro"), ident("anon-user", "a1"))
    await store.add_identity("u1", ident("custom-token", "c1", name="Ada"))
    await store.create_user(user("u2"), None)
    await store.create_session(session("s1", "u1"))
    await store.create_session(session("s2", "u2"))
    assert await store.get_user_for_session("u1", "s1") == await store.get_user("u1")
    assert await store.get_user_for_session("u1", "s2") is None  # Another user's session.
    assert await store.get_user_for_session("u1", "nope") is None
    assert await store.get_user_for_session("nobody", "s1") is None
    assert await store.get_user_for_session("u1\x00", "s1") is None
    await store.delete_session("s1")
    assert await store.get_user_for_session("u1", "s1") is None
    assert await store.get_user_for_session("u2", "s2") is not None


# Item 4: a disable and a new password end the user's sessions.

async def test_disabling_a_user_ends_its_sessions(store: Store) -> None:
    for uid in ("u1", "u2"):
        await store.create_user(user(uid), None)
        await store.create_session(session(f"s-{uid}", uid))
    assert await store.set_user_disabled("u1", False) is True
    assert await store.get_session("s-u1") is not None  # Enabling ends nothing.
    assert await store.set_user_disabled("u1", True) is True
    assert await store.get_session("s-u1") is None
    assert await store.get_session("s-u2") is not None
    assert await store.set_user_disabled("nobody", True) is False


async def test_a_new_password_ends_the_sessions_of_that_account_only(store: Store) -> None:
    await _userpass_user(store, "u1", "one@example.com")
    await _userpass_user(store, "u2", "two@example.com")
    for sid, uid in (("s1", "u1"), ("s1b", "u1"), ("s2", "u2")):
        await store.create_session(session(sid, uid))
    await store.set_userpass_password("one@example.com", "new-hash")
    assert [await store.get_session(s) for s in ("s1", "s1b")] == [None, None]
    assert await store.get_session("s2") is not None
    got = await store.get_userpass("one@example.com")
    assert got is not None and got.password_hash == "new-hash"
    # An account that never logged in has no user yet: its new password ends nothing else.
    await store.create_userpass(UserpassAccount("new@example.com", "up-new", "h", False, T0))
    await store.set_userpass_password("new@example.com", "h2")
    assert await store.get_session("s2") is not None


# Item 5: deleting a user takes its email/password tokens.

async def test_delete_user_takes_its_userpass_tokens(store: Store) -> None:
    await _userpass_user(store, "u1", "gone@example.com")
    await _userpass_user(store, "u2", "kept@example.com")
    await store.add_userpass_token(_token("t1", "gone@example.com"))
    await store.add_userpass_token(_token("t2", "kept@example.com"))
    assert await store.delete_user("u1") is True
    assert await store.use_userpass_token("t1", "reset", "hash-t1", T0) is None
    got = await store.use_userpass_token("t2", "reset", "hash-t2", T0)
    assert got is not None and not got.used


async def test_a_new_account_drops_tokens_left_for_its_address(store: Store) -> None:
    # Tokens a store kept from before deletions took them along must not serve a new account.
    await store.add_userpass_token(_token("orphan", "old@example.com", "confirm"))
    await store.add_userpass_token(_token("other", "other@example.com", "confirm"))
    await store.create_userpass(UserpassAccount("old@example.com", "up-1", "h", False, T0))
    assert await store.use_userpass_token("orphan", "confirm", "hash-orphan", T0) is None
    assert await store.use_userpass_token("other", "confirm", "hash-other", T0) is not None


# Item 10: one account per normalised address.

NFC = unicodedata.normalize("NFC", "Zoë@Example.com")
NFD = unicodedata.normalize("NFD", NFC)


async def test_one_account_per_normalised_address(store: Store) -> None:
    account = UserpassAccount(NFC, "id1", "h", False, T0)
    await store.create_userpass(account)
    for other in (NFD, NFC.lower(), NFD.upper()):
        assert await store.get_userpass(other) == account
        with pytest.raises(Conflict):
            await store.create_userpass(UserpassAccount(other, "id2", "h", False, T0))
    assert await store.get_userpass("zoe@example.com") is None


async def test_spellings_registered_at_once_from_several_processes_one_wins(
        open_stores: OpenStores) -> None:
    stores = await open_stores(4)
    spellings = ["Race@example.com", "race@example.com", "RACE@EXAMPLE.COM", "race@Example.com"]

    async def register(store: Store, email: str) -> bool:
        try:
            await store.create_userpass(UserpassAccount(email, f"id-{email}", "h", False, T0))
        except Conflict:
            return False
        return True

    won = await asyncio.gather(*(register(s, e) for s, e in zip(stores, spellings, strict=True)))
    assert sum(won) == 1


# The migration of a store made before ``email_key``.

def _old_schema() -> list[str]:
    """The schema as it was before ``email_key`` (main before issue 16)."""
    out = []
    for stmt in schema_statements():
        if "userpass_email_key" in stmt:
            continue
        stmt = stmt.replace(",\n    email_key TEXT", "")
        assert "email_key" not in stmt, stmt
        out.append(stmt)
    return out


#: Old accounts (email, id, created_at): two groups collide once normalised.
OLD_ACCOUNTS = [
    ("ada@example.com", "id-ada-new", T0 + 20),
    ("Ada@Example.com", "id-ada-old", T0),
    ("ADA@EXAMPLE.COM", "id-ada-mid", T0 + 10),
    (NFD, "id-zoe-nfd", T0 + 5),
    (NFC, "id-zoe-nfc", T0 + 1),
    ("solo@example.com", "id-solo", T0),
]


def _make_old_store(database_url: str) -> None:
    rows = [(e, i, "h", 1, t) for e, i, t in OLD_ACCOUNTS]
    insert = "INSERT INTO userpass_accounts(email, id, password_hash, confirmed, created_at)"
    if database_url.startswith("sqlite:"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:"))
        with conn:
            for stmt in _old_schema():
                conn.execute(stmt)
            conn.executemany(insert + " VALUES (?, ?, ?, ?, ?)", rows)
        conn.close()
        return
    import psycopg

    with psycopg.connect(database_url) as pg:
        for stmt in _old_schema():
            pg.execute(stmt.encode())
        with pg.cursor() as cur:
            cur.executemany(insert + " VALUES (%s, %s, %s, %s, %s)", rows)


async def _check_migrated(store: Store) -> None:
    async def owner(email: str) -> str | None:
        got = await store.get_userpass(email)
        return None if got is None else got.id

    # Each account still logs in by its exact address; every other spelling finds the oldest.
    for email, account_id, _ in OLD_ACCOUNTS:
        assert await owner(email) == account_id
    assert await owner("aDa@example.COM") == "id-ada-old"
    assert await owner(NFC.upper()) == "id-zoe-nfc"
    assert await owner("Solo@Example.com") == "id-solo"
    # The unique key holds from now on.
    with pytest.raises(Conflict):
        await store.create_userpass(UserpassAccount("SOLO@example.com", "id-x", "h", False, T0))
    await store.create_userpass(UserpassAccount("New@example.com", "id-new", "h", False, T0))
    assert await owner("new@EXAMPLE.com") == "id-new"


async def test_an_old_store_is_migrated_without_losing_a_row(
        database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _make_old_store(database_url)
    store = open_store_for(database_url, tmp_path)
    with caplog.at_level(logging.WARNING, "latchkey.server"):
        await store.open()
    try:
        await _check_migrated(store)
    finally:
        await store.close()
    warned = "\n".join(r.getMessage() for r in caplog.records)
    for email in ("ada@example.com", "ADA@EXAMPLE.COM", NFD):
        assert repr(email) in warned  # The newer account of each collision is named.
    assert caplog.text.count("same address") == 3
    # A second open migrates nothing again and warns no more.
    caplog.clear()
    again = open_store_for(database_url, tmp_path)
    await again.open()
    try:
        got = await again.get_userpass("aDa@example.COM")
        assert got is not None and got.id == "id-ada-old"
    finally:
        await again.close()
    assert "same address" not in caplog.text


async def test_old_stores_opened_by_several_processes_at_once(
        database_url: str, tmp_path: Path) -> None:
    _make_old_store(database_url)
    stores = [open_store_for(database_url, tmp_path) for _ in range(3)]
    try:
        await asyncio.gather(*(s.open() for s in stores))
        for store in stores:
            got = await store.get_userpass("aDa@example.COM")
            assert got is not None and got.id == "id-ada-old"
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_migrate_store_from_an_old_sqlite_store_fills_the_keys(
        postgres_server: PostgresServer, tmp_path: Path) -> None:
    source = tmp_path / "old.sqlite3"
    _make_old_store(f"sqlite:{source}")
    target = postgres_server.fresh_url()
    counts = await migrate_store(source, target)
    assert counts["userpass_accounts"] == len(OLD_ACCOUNTS)
    store = open_store_for(target, tmp_path)
    await store.open()
    try:
        await _check_migrated(store)
    finally:
        await store.close()
