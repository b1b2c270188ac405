"""Write screenshots of the admin console at 1280 px, light and dark, into docs/screenshots/.

    python scripts/screenshots_console.py [--out docs/screenshots]

Starts a server on a fresh temporary data dir, makes an admin key with ``serve.py admin-keys
create`` (as an operator does), adds a few users, logins and failed logins through the real
APIs, then opens ``/admin`` in Chromium (``/usr/bin/chromium``) and saves
``console-sign-in-{light,dark}.png``, ``console-users-{light,dark}.png`` and
``console-user-{light,dark}.png``. The activity charts show when the server has the audit log.
Not a test: it asserts nothing beyond the page getting ready.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.sdk import routes  # noqa: E402
from server import create_app  # noqa: E402
from server.admin_api import paths  # noqa: E402
from server.settings import Settings  # noqa: E402

PASSWORD = "correct horse 1"
PEOPLE = ["ada@example.com", "grace@example.com", "katherine@example.com",
          "margaret@example.com", "radia@example.com", "barbara@example.com"]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def serve(settings: Settings) -> tuple[str, uvicorn.Server]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
    threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])),
                     daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server


def admin_key(data_dir: Path) -> dict[str, str]:
    done = subprocess.run([sys.executable, "serve.py", "--data-dir", str(data_dir),
                           "admin-keys", "create", "screenshots"], cwd=REPO, check=True,
                          capture_output=True, text=True, env={**os.environ, "DATABASE_URL": ""})
    key: dict[str, str] = json.loads(done.stdout)
    return key


def seed(base: str, app_id: str, key: dict[str, str]) -> None:
    app = routes.app_path(app_id)
    with httpx.Client(base_url=base) as http:
        tokens = http.post(paths.LOGIN, json={"username": key["public_key"],
                                             "apiKey": key["private_key"]}).json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        group = http.get(paths.PROFILE, headers=auth).json()["roles"][0]["group_id"]
        app_object = http.get(paths.fill(paths.APPS, group_id=group), headers=auth).json()[0]
        ids = {"group_id": group, "app_object_id": app_object["_id"]}
        for email in PEOPLE:
            http.post(f"{app}/auth/providers/local-userpass/register",
                      json={"email": email, "password": PASSWORD})
            http.post(f"{app}/auth/providers/local-userpass/login",
                      json={"username": email, "password": PASSWORD})
        http.post(f"{app}/auth/providers/local-userpass/login",
                  json={"username": PEOPLE[0], "password": "not the password"})
        for _ in range(3):
            http.post(f"{app}/auth/providers/anon-user/login", json={})
        found = http.get(paths.fill(paths.USER_SEARCH, **ids), params={"q": PEOPLE[3]},
                         headers=auth).json()
        http.put(paths.fill(paths.USER_DISABLE, user_id=found[0]["_id"], **ids), headers=auth)
        ada = http.get(paths.fill(paths.USER_SEARCH, **ids), params={"q": PEOPLE[0]},
                       headers=auth).json()[0]
        http.put(paths.fill(paths.USER_CUSTOM_DATA, user_id=ada["_id"], **ids), headers=auth,
                 json={"plan": "pro", "team": "analytics"})


def shoot(page: Page, base: str, key: dict[str, str], out: Path, scheme: str) -> None:
    page.goto(base + "/admin")
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'",
                           timeout=120_000)
    page.get_by_label("Public key").fill(key["public_key"])
    page.screenshot(path=str(out / f"console-sign-in-{scheme}.png"))
    page.get_by_label("Private key").fill(key["private_key"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_function("() => document.documentElement.dataset.view === 'users'")
    page.wait_for_function("() => !document.getElementById('users-table').ariaBusy")
    page.wait_for_timeout(500)  # the charts arrive on their own request
    page.screenshot(path=str(out / f"console-users-{scheme}.png"), full_page=True)
    page.get_by_role("button", name=f"Open {PEOPLE[0]}").click()
    page.wait_for_function("() => document.documentElement.dataset.view === 'user'")
    page.wait_for_timeout(500)
    page.screenshot(path=str(out / f"console-user-{scheme}.png"), full_page=True)
    page.evaluate("() => sessionStorage.clear()")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        settings = Settings.load(None, data_dir, database_url=f"sqlite:{data_dir}/latchkey.sqlite3",
                                 overrides={"mail": {"console": False}})
        base, server = serve(settings)
        try:
            key = admin_key(data_dir)
            seed(base, settings.app_id, key)
            with sync_playwright() as play:
                browser = play.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                for scheme in ("light", "dark"):
                    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                                  color_scheme=scheme)
                    shoot(context.new_page(), base, key, args.out, scheme)
                    context.close()
                browser.close()
        finally:
            server.should_exit = True
    print(f"Screenshots written to {args.out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
