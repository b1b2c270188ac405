"""``serve.py import-users`` and ``import-custom-data`` as an operator runs them, then the
imported users logging in to the real server: ids, identities and dates kept, a second run
changing nothing, bad lines reported by number, email/password users setting a password first.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import serve
from app.sdk import routes
from server.settings import DEFAULT_CONFIG
from tests.conftest import TEST_STORE, database_url_for

from .helpers import Api, hs256, mail_tokens

# Thousands on SQLite; PostgreSQL commits each user with a round trip per statement, so fewer
# there (benchmarks/bench_import_users.py imports more on both).
USERS = 2000 if TEST_STORE == "sqlite" else 400
JWT_KEY = "an HS256 key of at least 32 bytes, for the test"
TOKEN_OVERRIDES = {"providers": {"custom-token": {"enabled": True, "signing_keys": [JWT_KEY]}}}


def _serve(data_dir: Path, *args: str) -> Ran:
    """``serve.py <args>`` on the data dir: its real entry point, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    argv = ["--config", str(DEFAULT_CONFIG), "--data-dir", str(data_dir),
            "--database", database_url_for(data_dir), *args]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = serve.main(argv)
    return Ran(status, out.getvalue(), err.getvalue())


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _oid(n: int, prefix: str = "6") -> str:
    return f"{prefix}{n:023x}"


def admin_api_user(n: int) -> dict[str, Any]:
    """User ``n`` as the App Services Admin API lists it: each fourth provider in turn."""
    kind = ("local-userpass", "anon-user", "oauth2-google", "custom-token")[n % 4]
    ident_id = _oid(n, "7") if kind == "local-userpass" else f"{kind}-{n}"
    data = {"email": f"user{n}@example.com"} if kind in ("local-userpass",
                                                          "oauth2-google") else {}
    return {"_id": _oid(n), "type": "normal", "disabled": n % 97 == 0,
            "identities": [{"id": ident_id, "provider_type": kind,
                            "provider_id": "5f1111111111111111111111",
                            **({"provider_data": data} if data else {})}],
            "data": {**data, "signupSource": "web"},
            "creation_date": 1_600_000_000 + n, "last_authentication_date": 1_700_000_000 + n}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A data dir into which the users file was imported twice, with both runs' output."""
    root = tmp_path_factory.mktemp("import")
    lines = [json.dumps(admin_api_user(n)) for n in range(USERS)]
    clash = admin_api_user(8)  # Another user claiming user 8's identity: skipped whole.
    clash["_id"] = _oid(99_999)
    lines[10:10] = ["{not json", json.dumps({"identities": []}), json.dumps(clash)]
    users_file = root / "users.jsonl"
    users_file.write_text("\n".join(lines) + "\n")
    data_dir = root / "data"
    runs = []
    for _ in range(2):
        started = time.monotonic()
        done = _serve(data_dir, "import-users", str(users_file))
        runs.append((done, time.monotonic() - started))
    return {"data_dir": data_dir, "runs": runs, "file": users_file}


def test_the_first_run_imports_every_user_and_names_the_bad_lines(
        imported: dict[str, Any]) -> None:
    done, seconds = imported["runs"][0]
    assert done.returncode == 1, done.stderr
    assert f"Users: {USERS} imported, 0 already there, 3 skipped." in done.stdout
    assert "line 11: skipped, not JSON" in done.stdout
    assert "line 12: skipped, _id must be a non-empty string" in done.stdout
    assert f"line 13: skipped, an identity or email address of user {_oid(99_999)} belongs " \
           "to another user already" in done.stdout
    print(f"first import of {USERS} users: {seconds:.2f} s")


def test_a_second_run_changes_nothing(imported: dict[str, Any]) -> None:
    done, seconds = imported["runs"][1]
    assert f"Users: 0 imported, {USERS} already there, 3 skipped." in done.stdout
    listing = _serve(imported["data_dir"], "users", "list")
    assert len(listing.stdout.splitlines()) == USERS
    assert _oid(99_999) not in listing.stdout
    print(f"second import of {USERS} users: {seconds:.2f} s")


def test_imported_users_keep_their_ids_identities_and_dates(
        imported: dict[str, Any], make_api: Callable[..., Api]) -> None:
    api = make_api(TOKEN_OVERRIDES, data_dir=imported["data_dir"])
    shown = json.loads(_serve(imported["data_dir"], "users", "show", _oid(2)).stdout)
    assert shown["identities"] == [{"id": "oauth2-google-2", "provider_type": "oauth2-google",
                                    "provider_id": "5f1111111111111111111111",
                                    "provider_data": {"email": "user2@example.com"}}]
    assert shown["data"] == {"email": "user2@example.com", "signupSource": "web"}
    assert (shown["created_at"], shown["last_login_at"]) == (1_600_000_002, 1_700_000_002)
    assert _serve(imported["data_dir"], "users", "show", _oid(97)).stdout.count(
        '"disabled": true') == 1
    # A custom JWT with the exported identity's subject logs in as the same user.
    jwt = hs256({"sub": "custom-token-3", "exp": int(time.time()) + 60}, JWT_KEY)
    resp = api.login(routes.CUSTOM_TOKEN, {"token": jwt})
    assert resp.status_code == 200, resp.text
    assert resp.json()["user_id"] == _oid(3)


def test_an_imported_email_user_sets_a_password_then_is_the_same_user(
        imported: dict[str, Any], make_api: Callable[..., Api]) -> None:
    api = make_api(data_dir=imported["data_dir"])
    email = "user4@example.com"
    for guess in ("latchkey-timing-equaliser", "correct horse"):
        assert api.log_in(email, guess).status_code == 401
    assert api.action("reset/send", {"email": email}).status_code in (200, 204)
    tokens = api.last_mail_tokens(email)
    assert api.action("reset", {**tokens, "password": "a new password"}).status_code in (200, 204)
    session = api.log_in_ok(email, "a new password")
    assert session["user_id"] == _oid(4)
    profile = api.profile(session["access_token"]).json()
    assert [i["id"] for i in profile["identities"]] == [_oid(4, "7")]


def test_send_reset_mails_each_user_without_a_password_paced(tmp_path: Path) -> None:
    users_file = tmp_path / "users.json"
    users = [admin_api_user(n) for n in (0, 1, 4, 8)]  # Three email/password users.
    users[1]["identities"].append({"id": "64c000000000000000000001", "provider_type": "api-key",
                                   "provider_id": "p"})
    users_file.write_text(json.dumps(users))
    data_dir = tmp_path / "data"
    started = time.monotonic()
    done = _serve(data_dir, "import-users", str(users_file), "--send-reset",
                  "--reset-rate", "20")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Users: 4 imported" in done.stdout
    assert "1 user(s) logged in with API keys, which App Services never exports" in done.stdout
    outbox = [json.loads(line) for line in (data_dir / "outbox.jsonl").read_text().splitlines()]
    assert sorted(m["to"] for m in outbox) == ["user0@example.com", "user4@example.com",
                                                "user8@example.com"]
    assert all(set(mail_tokens(m["body"])) == {"token", "tokenId"} for m in outbox)
    assert time.monotonic() - started >= 3 / 20
    assert "token" not in done.stdout  # No link on the console.


def test_custom_data_imports_from_mongoexport_keyed_by_the_user_id_field(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    lines = [
        json.dumps({"_id": {"$oid": "64b000000000000000000001"}, "user_id": _oid(1),
                    "favoriteColor": "blue", "visits": {"$numberLong": "9007199254740993"},
                    "since": {"$date": {"$numberLong": "1600000000000"}}}),
        "",
        '{"_id": {"$oid": "64b000000000000000000002"}, "favoriteColor": "red"}',
        "not json at all",
    ]
    mongoexport = tmp_path / "users.json"
    mongoexport.write_text("\n".join(lines) + "\n")
    for _ in range(2):
        done = _serve(data_dir, "import-custom-data", str(mongoexport))
        assert "Custom user data: 1 document(s) written, 2 skipped." in done.stdout
        assert "line 3: skipped, it has no user_id string" in done.stdout
        assert "line 4: skipped, not canonical EJSON" in done.stdout
    got = json.loads(_serve(data_dir, "custom-data", "get", _oid(1)).stdout)
    assert got["favoriteColor"] == "blue"
    assert got["visits"] == 9007199254740993
    assert got["_id"] == {"$oid": "64b000000000000000000001"}
    assert got["since"] == {"$date": "2020-09-13T12:26:40Z"}


def test_dates_beyond_the_year_9999_are_skipped_and_the_users_list_still_prints(
        tmp_path: Path) -> None:
    # Found in review: 1e300 seconds and a $date of 10^17 ms were imported as they came, then
    # `serve.py users list` died with OverflowError on them.
    bad = [1e300, {"$date": {"$numberLong": "99999999999999999"}},
           {"$date": {"$numberLong": "-5"}}, {"$date": "nan"}]
    users = [admin_api_user(n) for n in range(len(bad) + 1)]
    for user, date in zip(users, bad, strict=False):
        user["creation_date"] = date
    users_file = tmp_path / "users.jsonl"
    users_file.write_text("".join(json.dumps(u) + "\n" for u in users))
    done = _serve(tmp_path / "data", "import-users", str(users_file))
    assert f"Users: 1 imported, 0 already there, {len(bad)} skipped." in done.stdout
    for line in range(1, len(bad) + 1):
        assert f"line {line}: skipped, creation_date must be a date from 1970 to 9999" \
            in done.stdout
    listed = _serve(tmp_path / "data", "users", "list")
    assert listed.returncode == 0 and _oid(len(bad)) in listed.stdout


def test_a_user_with_a_nul_character_is_skipped_on_both_stores(tmp_path: Path) -> None:
    # Found in review: PostgreSQL stopped the whole import with a traceback
    # (UntranslatableCharacterError) on a NUL in provider data; SQLite kept it.
    users = [admin_api_user(n) for n in range(3)]
    users[0]["identities"][0]["provider_data"] = {"name": "Ada\x00"}
    users[1]["data"] = {"nick\x00": "x"}
    users_file = tmp_path / "users.jsonl"
    users_file.write_text("".join(json.dumps(u) + "\n" for u in users))
    done = _serve(tmp_path / "data", "import-users", str(users_file))
    assert "Users: 1 imported, 0 already there, 2 skipped." in done.stdout, done.stderr
    assert "line 1: skipped, it holds a NUL character, which a store cannot keep" in done.stdout
    assert "line 2: skipped, it holds a NUL character" in done.stdout
