"""The admin console (``admin.html``) in Chromium, against one real server for the module.

The admin key is made by ``python serve.py admin-keys create``, as an operator makes it. Each
test is one browser story (a Pyodide start costs seconds): a refused key, then signing in,
paging, filtering and searching the users; then a user's page and every action on it, and a
pending registration confirmed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from app.sdk import routes
from server.admin_api import paths as admin_paths
from tests.conftest import LiveServer, make_settings, start_server
from tests.server.admin_helpers import Admin

from .ui_helpers import REPO, open_app, shot, violations, watch

pytestmark = pytest.mark.browser

PASSWORD = "correct horse 1"
EMAILS = [f"user{i}@example.com" for i in range(6)]
PENDING = "waiting@example.com"
HAS_AUDIT = hasattr(admin_paths, "AUDIT_LOG")


def admin_key_command(live: LiveServer, name: str) -> dict[str, str]:
    """``python serve.py admin-keys create NAME`` on the server's store; its JSON line."""
    done = subprocess.run(
        [sys.executable, "serve.py", "--data-dir", str(live.data_dir),
         "--database", live.settings.database_url, "admin-keys", "create", name],
        cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DATABASE_URL": ""}, check=True)
    key: dict[str, str] = json.loads(done.stdout)
    return key


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    overrides = {"providers": {"local-userpass": {"confirmation": "email"}}}
    server = start_server(make_settings(tmp_path_factory.mktemp("console") / "data", overrides))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def key(live: LiveServer) -> dict[str, str]:
    """An admin key, and the users the console shows: 6 email/password users (user1 has a
    device, an API key and custom data), 5 anonymous users and one pending registration."""
    made = admin_key_command(live, "console tests")
    app = routes.app_path(live.app_id)
    with httpx.Client(base_url=live.base_url) as http:
        admin = Admin(http, live.settings, made["public_key"], made["private_key"])
        ids = {}
        for email in EMAILS:
            resp = admin.post(admin_paths.USERS, {"email": email, "password": PASSWORD})
            assert resp.status_code == 201, resp.text
            ids[email] = resp.json()["_id"]
        for _ in range(5):
            assert http.post(f"{app}/auth/providers/anon-user/login", json={}).status_code == 200
        login = http.post(f"{app}/auth/providers/local-userpass/login",
                          json={"username": EMAILS[1], "password": PASSWORD}).json()
        created = http.post(routes.api_keys(), json={"name": "laptop"},
                            headers={"Authorization": f"Bearer {login['refresh_token']}"})
        assert created.status_code == 201, created.text
        assert admin.put(admin_paths.USER_CUSTOM_DATA, {"plan": "pro"},
                         user_id=ids[EMAILS[1]]).status_code == 204
        assert http.post(f"{app}/auth/providers/local-userpass/register",
                         json={"email": PENDING, "password": PASSWORD}).status_code == 201
    return {**made, **{f"id:{e}": i for e, i in ids.items()}}


@pytest.fixture
def api(live: LiveServer, key: dict[str, str]) -> Iterator[tuple[httpx.Client, Admin]]:
    """The Admin API of the server, to check what the console did."""
    with httpx.Client(base_url=live.base_url) as http:
        yield http, Admin(http, live.settings, key["public_key"], key["private_key"])


def sign_in(page: Page, key: dict[str, str], private: str | None = None) -> None:
    page.get_by_label("Public key").fill(key["public_key"])
    page.get_by_label("Private key").fill(private or key["private_key"])
    page.get_by_role("button", name="Sign in").click()


def caption(page: Page) -> Any:
    return page.locator("#users-summary")


def test_bad_key_then_sign_in_page_filter_and_search(page: Page, live: LiveServer,
                                                     key: dict[str, str]):
    watch(page)
    open_app(page, live.base_url + "/admin")
    expect(page.locator("html")).to_have_attribute("data-view", "signin")

    # A wrong private key: a clear message, still on the sign-in form, nothing stored.
    sign_in(page, key, "not-the-key")
    expect(page.locator("#key-form-error")).to_contain_text("That admin key was refused")
    expect(page.locator("html")).to_have_attribute("data-view", "signin")

    sign_in(page, key)
    expect(page.locator("html")).to_have_attribute("data-view", "users")
    expect(page.locator("#users-title")).to_be_focused()
    expect(page.locator("#who-key")).to_have_text(key["public_key"])
    expect(caption(page)).to_have_text("Users 1 to 11, in id order.")
    expect(page.locator("#users-head th[aria-sort='ascending']")).to_have_text("User id")
    # The activity charts come from the audit log; without one (404) the section is hidden.
    if HAS_AUDIT:
        daily = page.get_by_role("img", name="sign-ins in the last 30 days")
        expect(daily).to_be_visible()
        expect(page.locator("#chart-daily rect.series-1")).to_have_count(30)
        expect(page.locator("#chart-hourly rect")).to_have_count(48)
        page.locator("#chart-hourly summary").click()
        expect(page.locator("#chart-hourly table tbody tr")).to_have_count(48)
    else:
        expect(page.locator("#activity")).to_be_hidden()
    # The session is in this tab's sessionStorage, never in localStorage, and the private key
    # is not kept at all.
    stored = page.evaluate("() => [JSON.stringify(sessionStorage), localStorage.length]")
    assert "refresh_token" in stored[0] and key["private_key"] not in stored[0]
    assert stored[1] == 0
    shot(page, "console-users")

    # Pages of 10: the cursor moves forward and back; the live region says where we are.
    page.get_by_label("Rows per page").select_option("10")
    expect(caption(page)).to_have_text("Users 1 to 10, in id order; more follow.")
    page.get_by_role("button", name="Next page").click()
    expect(caption(page)).to_have_text("Users 11 to 11, in id order.")
    expect(page.locator("#live")).to_have_text("Users 11 to 11, in id order.")
    expect(page.locator("#page-next")).to_be_disabled()
    expect(page.locator("#page-prev")).to_be_focused()
    page.get_by_role("button", name="Previous page").click()
    expect(caption(page)).to_have_text("Users 1 to 10, in id order; more follow.")

    # Filters: the provider, then a status; a search by the start of an address.
    page.get_by_label("Provider").select_option("anon-user")
    expect(caption(page)).to_have_text("Users 1 to 5, in id order.")
    expect(page.locator("#users-body")).to_contain_text("Anonymous user")
    page.get_by_label("Provider").select_option("")
    page.get_by_label("Status").select_option("disabled")
    expect(caption(page)).to_have_text("No users here.")
    page.get_by_label("Status").select_option("")
    page.get_by_label("Search by email or user id").fill("USER1")
    page.get_by_label("Search by email or user id").press("Enter")
    expect(caption(page)).to_have_text("1 users found for “USER1”.")
    expect(page.get_by_role("button", name=f"Open {EMAILS[1]}")).to_be_visible()

    # A reload of the tab keeps the admin signed in. Its access token is refused (spoilt
    # here): the console refreshes once and carries on with a new one.
    page.evaluate("""() => {
        const k = "latchkey-admin:session", s = JSON.parse(sessionStorage.getItem(k));
        s.access_token = "spoilt"; sessionStorage.setItem(k, JSON.stringify(s)); }""")
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'")
    expect(page.locator("html")).to_have_attribute("data-view", "users")
    expect(caption(page)).to_contain_text("Users 1 to")
    assert "spoilt" not in page.evaluate("() => sessionStorage.getItem('latchkey-admin:session')")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("html")).to_have_attribute("data-view", "signin")
    expect(page.locator("#key-form-message")).to_have_text("Signed out.")
    assert page.evaluate("() => sessionStorage.length") == 0
    assert violations(page) == []


def test_user_page_actions_delete_and_pending(page: Page, live: LiveServer,
                                              key: dict[str, str], api):
    watch(page)
    http, admin = api
    user_id = key[f"id:{EMAILS[1]}"]
    open_app(page, live.base_url + "/admin")
    sign_in(page, key)
    page.get_by_label("Search by email or user id").fill(user_id)
    page.get_by_role("button", name="Search", exact=True).click()
    # By keyboard: the row's button opens the user, focus moves to its heading.
    page.get_by_role("button", name=f"Open {EMAILS[1]}").focus()
    page.keyboard.press("Enter")

    expect(page.locator("html")).to_have_attribute("data-view", "user")
    expect(page.locator("#user-title")).to_be_focused()
    expect(page.locator("#user-title")).to_have_text(EMAILS[1])
    expect(page.locator("#user-identities")).to_contain_text("Email and password")
    expect(page.locator("#user-devices tbody tr")).to_have_count(1)
    expect(page.locator("#user-keys")).to_contain_text("laptop")
    # The document as stored, with the user id field the server keeps in it.
    assert json.loads(page.locator("#custom-json").input_value())["plan"] == "pro"
    audit = page.locator("#user-audit-section")
    if HAS_AUDIT:
        expect(audit).to_be_visible()
    else:
        expect(audit).to_be_hidden()
    shot(page, "console-user")

    # Custom data: refused unless a JSON object, then saved.
    area = page.get_by_label("Custom user data (JSON object)")
    area.fill("[1, 2")
    page.get_by_role("button", name="Save custom data").click()
    expect(page.locator("#custom-form-error")).to_contain_text("not valid JSON")
    expect(area).to_have_attribute("aria-invalid", "true")
    area.fill('{"plan": "team", "seats": 5}')
    page.get_by_role("button", name="Save custom data").click()
    expect(page.locator("#custom-form-message")).to_have_text("Custom data saved.")
    saved = admin.get(admin_paths.USER_CUSTOM_DATA, user_id=user_id).json()
    assert saved["plan"] == "team" and saved["seats"] == 5

    # Disable (its sessions end), enable; revoke sessions; a password reset by mail.
    page.get_by_role("button", name=f"Disable {EMAILS[1]}").click()
    expect(page.locator("#user-message")).to_contain_text("is disabled")
    expect(page.locator("#user-fact-status")).to_have_text("Disabled")
    assert admin.get(admin_paths.USER, user_id=user_id).json()["disabled"] is True
    expect(page.locator("#user-devices")).to_have_text("No live sessions.")
    page.get_by_role("button", name=f"Enable {EMAILS[1]}").click()
    expect(page.locator("#user-fact-status")).to_have_text("Enabled")
    http.post(f"{routes.app_path(live.app_id)}/auth/providers/local-userpass/login",
              json={"username": EMAILS[1], "password": PASSWORD})
    page.get_by_role("button", name="Revoke all sessions").click()
    expect(page.locator("#user-message")).to_contain_text("Every session")
    assert admin.get(admin_paths.USER_DEVICES, user_id=user_id).json() == []
    page.get_by_role("button", name="Send a password reset").click()
    expect(page.locator("#user-message")).to_contain_text(f"sent to {EMAILS[1]}")
    assert any(m["to"] == EMAILS[1] for m in live.outbox())

    # Delete: the dialog closes on Escape (focus back on the button), then deletes for good.
    page.get_by_role("button", name="Delete user").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#delete-cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#user-delete")).to_be_focused()
    assert admin.get(admin_paths.USER, user_id=user_id).status_code == 200
    # Back to the list and in again: focus returns to the row the user was opened from.
    page.get_by_role("button", name="Back to the users").click()
    expect(page.get_by_role("button", name=f"Open {EMAILS[1]}")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#user-title")).to_be_focused()
    page.get_by_role("button", name="Delete user").click()
    page.get_by_role("button", name="Delete for good").click()
    expect(page.locator("html")).to_have_attribute("data-view", "users")
    expect(page.locator("#users-message")).to_have_text(f"{EMAILS[1]} was deleted.")
    expect(page.locator("#users-title")).to_be_focused()
    assert admin.get(admin_paths.USER, user_id=user_id).status_code == 404

    # A pending registration, confirmed from its own list.
    page.get_by_label("Search by email or user id").fill("")
    page.get_by_label("Status").select_option("pending")
    expect(caption(page)).to_have_text("Pending registrations 1 to 1, in id order.")
    page.get_by_role("button", name=f"Confirm {PENDING}").click()
    expect(page.locator("#users-message")).to_have_text(f"{PENDING} is confirmed and can sign in.")
    expect(caption(page)).to_have_text("No pending registrations here.")
    assert admin.get(admin_paths.PENDING_USERS).json() == []
    assert violations(page) == []
