"""``serve.py migrate-store``: an embedded SQLite store moved into PostgreSQL, losing nothing.

A server on SQLite is filled through the real API (email/password and anonymous users, a linked
identity, sessions, an API key, custom user data, a pending reset token), then stopped and
copied. A server on PostgreSQL, started from another data dir as on a new machine, then takes
the old refresh and access tokens, passwords, API key and reset link, and every row is equal.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from app.sdk import routes
from server.admin_api import paths as admin_paths
from server.settings import REPO_ROOT
from server.store.migrate import TABLES, describe_url
from tests.postgres_fixture import PostgresServer
from tests.server.helpers import Api, auth, claims, mail_tokens, read_outbox

from .cluster import APP_ID, UNLIMITED, ServeProcess, spawn, wait_ready, write_config


def migrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "serve.py", "migrate-store", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def serve(tmp: Path, name: str, database_url: str) -> ServeProcess:
    process = spawn(name, tmp, database_url, write_config(tmp / f"{name}.toml", UNLIMITED))
    wait_ready(process)
    return process


def fill(api: Api) -> dict[str, Any]:
    """Users and everything they own, made through the API; what the checks need later."""
    http = api.http
    ann = api.user("ann@example.com")
    bob = api.user("bob@example.com")
    anon = api.anon_ok()
    # An anonymous user who later linked an email/password identity.
    assert api.register("linked@example.com").status_code == 201
    linked = api.log_in("linked@example.com", link_token=anon["access_token"])
    assert linked.status_code == 200, linked.text
    key = http.post(routes.api_keys(), headers=auth(ann["refresh_token"]), json={"name": "cli"})
    assert key.status_code == 201, key.text
    color = http.post(routes.functions_call(APP_ID), headers=auth(bob["access_token"]),
                      json={"name": "set_favorite_color", "arguments": ["plum"]})
    assert color.status_code == 200, color.text
    assert api.action("reset/send", {"email": "bob@example.com"}).status_code == 204
    return {"ann": ann, "bob": bob, "anon": anon, "key": key.json()["key"]}


def rows(database_url: str) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of the copied tables, on either kind of database."""
    out: dict[str, set[tuple[Any, ...]]] = {}
    if database_url.startswith("sqlite:"):
        with sqlite3.connect(database_url.removeprefix("sqlite:")) as conn:
            for table, cols in TABLES:
                out[table] = set(conn.execute(f"SELECT {', '.join(cols)} FROM {table}"))
        return out
    with psycopg.connect(database_url) as conn:
        for table, cols in TABLES:
            query = sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(map(sql.Identifier, cols)), sql.Identifier(table))
            out[table] = set(conn.execute(query))
    return out


def test_a_filled_sqlite_store_moves_to_postgresql(postgres_server: PostgresServer,
                                                   tmp_path: Path) -> None:
    source = tmp_path / "old" / "latchkey.sqlite3"
    old = serve(tmp_path, "old", f"sqlite:{source}")
    try:
        with old.client() as http:
            made = fill(Api(http))
            made["admin"] = admin_session(tmp_path, old, f"sqlite:{source}", http)
    finally:
        old.stop()
    [reset_mail] = read_outbox(old.data_dir)
    target = postgres_server.fresh_url()

    done = migrate("--from", f"sqlite:{source}", "--to", target,
                   "--signing-key", str(old.data_dir / "signing-key"))
    assert done.returncode == 0, done.stderr
    counts = dict(line.split() for line in done.stdout.splitlines()[1:-1])
    assert counts == {"users": "3", "identities": "4", "userpass_accounts": "3",
                      "userpass_tokens": "1", "sessions": "3", "api_keys": "1",
                      "documents": "1", "admin_keys": "1", "admin_sessions": "1",
                      "meta": "1"}, done.stdout
    assert "existing tokens stay valid" in done.stdout
    assert rows(target) == rows(f"sqlite:{source}")

    new = serve(tmp_path, "new", target)  # Another data dir: no signing key file there.
    try:
        with new.client() as http:
            _check_everything_works(Api(http), made, reset_mail["body"])
    finally:
        new.stop()
    assert not (new.data_dir / "signing-key").exists()


def admin_session(tmp: Path, server: ServeProcess, database_url: str,
                  http: Any) -> dict[str, str]:
    """An admin key made with ``serve.py admin-keys create``, and a session of it."""
    made = subprocess.run([sys.executable, "serve.py", "--data-dir", str(server.data_dir),
                           "--config", str(tmp / f"{server.name}.toml"), "--database",
                           database_url, "admin-keys", "create", "mover"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    pair = json.loads(made.stdout)
    login = http.post(admin_paths.LOGIN, json={"username": pair["public_key"],
                                               "apiKey": pair["private_key"]})
    assert login.status_code == 200, login.text
    return {**pair, **login.json()}


def _check_everything_works(api: Api, made: dict[str, Any], reset_mail: str) -> None:
    http = api.http
    # The admin key and its session came along.
    admin = made["admin"]
    assert http.post(admin_paths.SESSION, headers=auth(admin["refresh_token"])).status_code \
        == 201
    assert http.post(admin_paths.LOGIN, json={"username": admin["public_key"],
                                              "apiKey": admin["private_key"]}).status_code \
        == 200
    for name in ("ann", "bob", "anon"):
        old = made[name]
        assert api.profile(old["access_token"]).json()["user_id"] == old["user_id"]
        refreshed = api.refresh(old["refresh_token"])
        assert refreshed.status_code == 201, (name, refreshed.text)
    bob_token = api.refresh(made["bob"]["refresh_token"]).json()["access_token"]
    assert claims(bob_token)["user_data"]["favorite_color"] == "plum"
    assert api.log_in_ok("ann@example.com")["user_id"] == made["ann"]["user_id"]
    # The linked email logs in as the anonymous user it was linked to.
    assert api.log_in_ok("linked@example.com")["user_id"] == made["anon"]["user_id"]
    by_key = api.login("api-key", {"key": made["key"]})
    assert by_key.status_code == 200 and by_key.json()["user_id"] == made["ann"]["user_id"]
    # The reset link mailed by the old server works on the new one.
    tokens = mail_tokens(reset_mail)
    reset = api.action("reset", {**tokens, "password": "a new password"})
    assert reset.status_code == 204, reset.text
    assert api.log_in_ok("bob@example.com", "a new password")["user_id"] == \
        made["bob"]["user_id"]
    profile = http.get(routes.profile(), headers=auth(made["anon"]["access_token"])).json()
    assert [i["provider_type"] for i in profile["identities"]] == ["anon-user", "local-userpass"]


def test_a_target_with_data_is_refused_unless_forced(postgres_server: PostgresServer,
                                                     tmp_path: Path) -> None:
    source = tmp_path / "old" / "latchkey.sqlite3"
    old = serve(tmp_path, "old", f"sqlite:{source}")
    try:
        with old.client() as http:
            user = Api(http).user("only@example.com")
    finally:
        old.stop()
    target = postgres_server.fresh_url()
    taken = serve(tmp_path, "taken", target)
    try:
        with taken.client() as http:
            Api(http).anon_ok()
            Api(http).anon_ok()
    finally:
        taken.stop()

    refused = migrate("--from", f"sqlite:{source}", "--to", target)
    assert refused.returncode == 1
    assert "not empty (it holds 2 users, 2 identities, 2 sessions)" in refused.stderr
    assert "--force" in refused.stderr
    assert len(rows(target)["users"]) == 2  # Untouched.

    forced = migrate("--from", f"sqlite:{source}", "--to", target, "--force")
    assert forced.returncode == 0, forced.stderr
    assert rows(target) == rows(f"sqlite:{source}")
    # The signing key file beside the SQLite file was found without --signing-key.
    assert "existing tokens stay valid" in forced.stdout
    new = serve(tmp_path, "new", target)
    try:
        with new.client() as http:
            assert Api(http).refresh(user["refresh_token"]).status_code == 201
    finally:
        new.stop()


def test_a_row_postgresql_cannot_hold_stops_the_copy_before_anything_lands(
    postgres_server: PostgresServer, tmp_path: Path,
) -> None:
    source = tmp_path / "old" / "latchkey.sqlite3"
    old = serve(tmp_path, "old", f"sqlite:{source}")
    try:
        with old.client() as http:
            Api(http).user("fine@example.com")
    finally:
        old.stop()
    # An email with a NUL, as a server before the check in userpass._email could store.
    with sqlite3.connect(source) as conn:
        conn.execute("INSERT INTO userpass_accounts(email, id, password_hash, confirmed,"
                     " created_at) VALUES (?, 'x', 'h', 1, 0)",
                     ("bad\x00@example.com",))
    target = postgres_server.fresh_url()
    done = migrate("--from", f"sqlite:{source}", "--to", target)
    assert done.returncode == 1
    assert "NUL character" in done.stderr and "nothing was copied" in done.stderr
    assert all(not found for found in rows(target).values())


@pytest.mark.parametrize(("source", "target", "message"), [
    ("sqlite:/nonexistent/latchkey.sqlite3", "postgresql://x@127.0.0.1:1/x",
     "There is no SQLite store at /nonexistent/latchkey.sqlite3"),
    ("postgresql://a@b/c", "postgresql://x@127.0.0.1:1/x", "copies --from sqlite:PATH"),
    ("sqlite:x", "sqlite:y", "copies --from sqlite:PATH"),
])
def test_wrong_arguments_are_explained(source: str, target: str, message: str) -> None:
    done = migrate("--from", source, "--to", target)
    assert done.returncode in (1, 2) and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_target_is_one_line_without_its_password(tmp_path: Path) -> None:
    source = tmp_path / "empty.sqlite3"
    sqlite3.connect(source).close()
    done = migrate("--from", f"sqlite:{source}", "--to",
                   "postgresql://me:s3cret@127.0.0.1:1/db?connect_timeout=2")
    assert done.returncode == 1 and "s3cret" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_urls_are_printed_without_passwords() -> None:
    assert describe_url("postgresql://me:pw@db:5432/x") == "postgresql://me:***@db:5432/x"
    assert describe_url("postgresql://db/x?password=pw&sslmode=require") == \
        "postgresql://db/x?password=***&sslmode=require"
    assert describe_url("postgresql://me@db/x") == "postgresql://me@db/x"


def test_the_command_needs_both_ends() -> None:
    done = migrate("--from", "sqlite:x")
    assert done.returncode == 2 and "--to" in done.stderr
