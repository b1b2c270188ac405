"""The admin commands (``serve.py users ...``) as subprocesses on a live server's data dir.

SQLite in WAL mode lets the command and the running server share the database; every effect is
checked through the API.
"""

from __future__ import annotations

import json
import subprocess
import sys

import httpx

from server.settings import DEFAULT_CONFIG, REPO_ROOT

from .helpers import Api, assert_error


def admin(live, *args: str) -> subprocess.CompletedProcess[str]:
    database = live.settings.database_url
    return subprocess.run(
        [sys.executable, "serve.py", "--data-dir", str(live.data_dir), "--config",
         str(DEFAULT_CONFIG), "--database", database, "users", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )


def test_users_commands_against_a_running_server(live_server) -> None:
    with httpx.Client(base_url=live_server.base_url) as http:
        api = Api(http)
        ann = api.user("ann@example.com")
        anon = api.anon_ok()

        listed = admin(live_server, "list")
        assert listed.returncode == 0, listed.stderr
        lines = listed.stdout.splitlines()
        assert len(lines) == 2
        [ann_line] = [line for line in lines if line.startswith(ann["user_id"])]
        assert "local-userpass" in ann_line and "ann@example.com" in ann_line
        assert "enabled" in ann_line
        assert any(line.startswith(anon["user_id"]) and "anon-user" in line for line in lines)

        shown = admin(live_server, "show", ann["user_id"])
        assert shown.returncode == 0, shown.stderr
        profile = json.loads(shown.stdout)
        assert profile["user_id"] == ann["user_id"] and profile["disabled"] is False
        assert profile["data"]["email"] == "ann@example.com"
        assert profile["last_login_at"] >= profile["created_at"]

        disabled = admin(live_server, "disable", ann["user_id"])
        assert disabled.returncode == 0 and "disabled" in disabled.stdout
        assert_error(api.log_in("ann@example.com"), 401, "UserDisabled")
        # Disabling ended the user's sessions, and with them its tokens (issue 16 item 4).
        assert_error(api.refresh(ann["refresh_token"]), 401, "InvalidSession")
        assert_error(api.profile(ann["access_token"]), 401, "InvalidSession")

        enabled = admin(live_server, "enable", ann["user_id"])
        assert enabled.returncode == 0 and "enabled" in enabled.stdout
        assert_error(api.refresh(ann["refresh_token"]), 401, "InvalidSession")
        ann = api.log_in_ok("ann@example.com")

        deleted = admin(live_server, "delete", ann["user_id"])
        assert deleted.returncode == 0 and "deleted" in deleted.stdout
        assert_error(api.refresh(ann["refresh_token"]), 401, "InvalidSession",
                     contains="failed to find refresh token")
        assert_error(api.log_in("ann@example.com"), 401, "InvalidPassword", "unauthorized")
        assert api.profile(anon["access_token"]).status_code == 200

        unknown = admin(live_server, "show", ann["user_id"])
        assert unknown.returncode == 1
        assert f"No user with id {ann['user_id']}" in unknown.stdout
