"""Secrets: the signing key in the data dir, and no secret in logs, error texts or the repo."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import threading
import tomllib
from pathlib import Path

import httpx
import pytest

from server.settings import DEFAULT_CONFIG, REPO_ROOT, ConfigError, load_or_create_secret
from tests.conftest import TEST_STORE, sqlite_only

from .app_functions import recorded_calls
from .helpers import FUNCTIONS, Api, hs256, mail_tokens, userpass_overrides


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@sqlite_only  # On PostgreSQL the key is in the database: tests/store/test_signing_key.py.
def test_signing_key_is_made_on_first_start_and_kept(server_factory, tmp_path: Path) -> None:
    ddir = tmp_path / "data"
    first = server_factory(data_dir=ddir)
    key = ddir / "signing-key"
    assert key.exists() and mode(key) == 0o600 and mode(ddir) == 0o700
    value = key.read_text()
    assert len(value.strip()) >= 32
    with httpx.Client(base_url=first.base_url) as http:
        tokens = Api(http).anon_ok()
    first.stop()

    again = server_factory(data_dir=ddir)
    assert key.read_text() == value
    with httpx.Client(base_url=again.base_url) as http:
        api = Api(http)
        assert api.profile(tokens["access_token"]).status_code == 200
        assert api.refresh(tokens["refresh_token"]).status_code == 201

    # Another data dir has another key: the tokens mean nothing there.
    other = server_factory(data_dir=tmp_path / "other")
    assert (tmp_path / "other" / "signing-key").read_text() != value
    with httpx.Client(base_url=other.base_url) as http:
        assert Api(http).profile(tokens["access_token"]).status_code == 401


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    # The server and an admin command may start together on a fresh data dir.
    for attempt in range(20):
        ddir = tmp_path / f"race{attempt}"
        results: list[object] = []
        barrier = threading.Barrier(8)

        def make(ddir: Path = ddir, results: list[object] = results,
                 barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                results.append(load_or_create_secret(ddir, "signing-key"))
            except Exception as exc:  # noqa: BLE001 (collected and asserted below)
                results.append(exc)

        threads = [threading.Thread(target=make) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(map(str, results))) == 1, results
        assert isinstance(results[0], str)
        assert sorted(p.name for p in ddir.iterdir()) == ["signing-key"]
        assert mode(ddir / "signing-key") == 0o600


def test_a_damaged_key_file_is_reported(tmp_path: Path) -> None:
    ddir = tmp_path / "data"
    ddir.mkdir()
    (ddir / "signing-key").write_text("short\n")
    with pytest.raises(ConfigError, match="damaged"):
        load_or_create_secret(ddir, "signing-key")


def test_the_demo_config_holds_no_secret() -> None:
    raw = tomllib.loads(DEFAULT_CONFIG.read_text())

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if any(w in key.lower() for w in ("secret", "password", "signing", "private")):
                    assert item in ("", None, False), f"{path}.{key} holds a value"
                walk(item, f"{path}.{key}")

    walk(raw, "")


def test_no_data_files_are_tracked_by_git() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    for name in tracked:
        assert not name.startswith("data/"), name
        assert Path(name).name not in ("signing-key", "outbox.jsonl"), name
        assert not name.endswith((".sqlite3", ".sqlite3-wal", ".pem", ".key")), name


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


def test_no_secret_reaches_logs_or_error_texts(server_factory, caplog, capfd) -> None:
    caplog.set_level(logging.DEBUG)
    live = server_factory({"functions": str(FUNCTIONS), **userpass_overrides(
        confirmation="email", reset="function", reset_function="reset_password")})
    collect = Collect()
    saved = {name: logging.getLogger(name).level for name in UVICORN}
    for name in UVICORN:
        logging.getLogger(name).addHandler(collect)
        logging.getLogger(name).setLevel(logging.DEBUG)
    secrets: list[str] = []
    errors: list[httpx.Response] = []
    try:
        with httpx.Client(base_url=live.base_url) as http:
            api = Api(http)

            def fail(resp: httpx.Response) -> None:
                assert resp.status_code >= 400, resp.text
                errors.append(resp)

            password, wrong, new = "Pa55word-Alpha-7731", "Wr0ng-Bravo-4471", "N3w-Charlie-9917"
            secrets += [password, wrong, new]
            for email in ("log@example.com", "boom@example.com", "wait@example.com"):
                assert api.register(email, password).status_code == 201
            confirm = mail_tokens(live.outbox()[0]["body"])
            secrets.append(confirm["token"])
            bad_token = "f00d" * 16
            secrets.append(bad_token)
            fail(api.action("confirm", {"token": bad_token, "tokenId": confirm["tokenId"]}))
            for email in ("log@example.com", "boom@example.com", "wait@example.com"):
                tokens = mail_tokens([m for m in live.outbox() if m["to"] == email][0]["body"])
                secrets.append(tokens["token"])
                assert api.action("confirm", tokens).status_code == 204
            fail(api.action("confirm", confirm))

            fail(api.log_in("log@example.com", wrong))
            fail(api.log_in("nobody@example.com", wrong))
            tokens = api.log_in_ok("log@example.com", password)
            secrets += [tokens["access_token"], tokens["refresh_token"]]
            garbage = "garbage-token-Delta-5512"
            forged = hs256({"sub": tokens["user_id"], "exp": 2**31, "iat": 1, "typ": "access"},
                           "a key that is not the server's key, long enough")
            secrets += [garbage, forged]
            for token in (garbage, forged, tokens["refresh_token"]):
                fail(api.profile(token))
            for token in (garbage, forged, tokens["access_token"]):
                fail(api.refresh(token))
                fail(api.log_out(token))
            fail(api.log_in("log@example.com", wrong, link_token=garbage))

            # Reset functions: one raises with its request (token, new password) in the text.
            reset = {"password": new, "arguments": ["extra"]}
            fail(api.action("reset/call", {"email": "boom@example.com", **reset}))
            assert api.action("reset/call", {"email": "wait@example.com", **reset}) \
                .status_code == 204
            secrets += [c["token"] for c in recorded_calls()]
            fail(api.action("reset", {"token": garbage, "tokenId": "x", "password": new}))

            assert api.log_out(tokens["refresh_token"]).status_code == 204
            fail(api.log_out(tokens["refresh_token"]))
            fail(api.profile(tokens["access_token"]))  # It died with its session.
            other = api.log_in_ok("log@example.com", password)
            secrets += [other["access_token"], other["refresh_token"]]
            assert api.delete_user(other["access_token"]).status_code == 204
            fail(api.refresh(other["refresh_token"]))
    finally:
        for name in UVICORN:
            logging.getLogger(name).removeHandler(collect)
            logging.getLogger(name).setLevel(saved[name])

    out, err = capfd.readouterr()
    logs = "\n".join([caplog.text, *collect.lines, out, err])
    # The capture did see the traffic, and the reset function's failure.
    assert "POST /api/client/v2.0/auth/session" in logs
    assert "RuntimeError" in caplog.text
    assert len(secrets) > 12 and len(errors) > 15
    for secret in secrets:
        assert secret not in logs
        for resp in errors:
            assert secret not in resp.text
            assert all(secret not in v for v in resp.headers.values())
    # The mail (with its live tokens) went to the outbox only, readable by the owner alone.
    assert mode(live.data_dir / "outbox.jsonl") == 0o600


def test_the_outbox_is_private_even_with_a_loose_umask(make_api) -> None:
    old = os.umask(0)
    try:
        api = make_api(userpass_overrides(confirmation="email"))
        api.register("umask@example.com")
    finally:
        os.umask(old)
    assert mode(api.data_dir / "outbox.jsonl") == 0o600
    if TEST_STORE == "sqlite":  # Else the key is in the database, not the data dir.
        assert mode(api.data_dir / "signing-key") == 0o600


@sqlite_only
def test_a_sqlite_store_outside_the_data_dir_is_private(tmp_path: Path) -> None:
    # Found in review: `--database sqlite:/elsewhere/x.sqlite3` made the file (password hashes,
    # TOTP secrets) and its -wal/-shm files 0644 under the usual umask.
    import asyncio

    from server.store import open_store_for

    async def use_it(path: Path) -> None:
        store = open_store_for(f"sqlite:{path}", tmp_path / "data")
        await store.open()
        await store.set_meta_if_absent("review", "x")
        await store.close()

    old = os.umask(0o022)
    try:
        path = tmp_path / "elsewhere" / "app.sqlite3"
        path.parent.mkdir()
        asyncio.run(use_it(path))
    finally:
        os.umask(old)
    made = [p for p in path.parent.iterdir() if p.name.startswith("app.sqlite3")]
    assert made and all(mode(p) == 0o600 for p in made), {p.name: oct(mode(p)) for p in made}
