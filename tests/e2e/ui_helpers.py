"""Helpers of the page tests (``test_ui_*.py``): open a page and wait for Python, fill the forms,
follow emailed links, watch for CSP violations, and save screenshots to ``test-results/ui``.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.conftest import LiveServer

REPO = Path(__file__).resolve().parents[2]
# test-results/ is git-ignored (and emptied by pytest-playwright at each session start);
# LATCHKEY_SCREENSHOTS sends the screenshots elsewhere, e.g. to refresh docs/screenshots.
SHOTS = Path(os.environ.get("LATCHKEY_SCREENSHOTS", REPO / "test-results" / "ui"))
READY_MS = 30_000
PASSWORD = "correct horse 1"

# Runs before any page script; it is not subject to the page's CSP, and records what the CSP
# refused so a test can assert there was nothing.
CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile));
"""
# An alert() in a test page means injected HTML ran; record it instead of blocking the page.
ALERT_WATCH = "window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));"


def run_async(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run SDK code under CPython from a test: Playwright's sync API owns this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def watch(page: Page) -> Page:
    """Record CSP violations and alerts on every document this page loads."""
    page.add_init_script(CSP_WATCH)
    page.add_init_script(ALERT_WATCH)
    return page


def wait_ready(page: Page, timeout: int = READY_MS) -> None:
    """Wait until Python has started and the controls are live."""
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'",
                           timeout=timeout)


def open_app(page: Page, url: str) -> Page:
    """Go to a page of ours and wait until Python is ready."""
    page.goto(url)
    wait_ready(page)
    return page


def violations(page: Page) -> list[str]:
    """The CSP violations reported on the current document."""
    return list(page.evaluate("() => window.__csp || []"))


def alerts(page: Page) -> list[str]:
    """Texts passed to ``alert()`` on the current document."""
    return list(page.evaluate("() => window.__alerts || []"))


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``test-results/ui/<name>.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def task(page: Page, name: str) -> None:
    """Show the sign-in panel's task ``name`` (``signin``, ``register``, ...) if it is not."""
    if page.locator("#signin").get_attribute("data-task") == name:
        return
    if name == "signin":
        page.locator(".task-back button").click()
    else:
        button = page.locator(f'#signin [data-goto="{name}"]:visible')
        if button.count() == 0:
            # Not offered from here: from sign-in, or (to resend) from "Create an account".
            task(page, "register" if name == "resend" else "signin")
        page.locator(f'#signin [data-goto="{name}"]:visible').first.click()
    expect(page.locator("#signin")).to_have_attribute("data-task", name)


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in with the email/password form."""
    task(page, "signin")
    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def register(page: Page, email: str, password: str = PASSWORD) -> None:
    """Go to "Create an account" and submit it."""
    task(page, "register")
    page.locator("#register-email").fill(email)
    page.locator("#register-password").fill(password)
    page.get_by_role("button", name="Create account").click()


def expect_signed_in(page: Page, label: str, timeout: float | None = None) -> None:
    """The account panel shows ``label`` as the current user (within ``timeout`` ms)."""
    expect(page.locator("html")).to_have_attribute("data-view", "account", timeout=timeout)
    expect(page.locator("#current-user-name")).to_have_text(label, timeout=timeout)


def account_row(page: Page, label: str) -> Any:
    """The account list entry whose name is ``label``."""
    return page.locator("#accounts-list > li").filter(
        has=page.locator(".account-name", has_text=label))


def account_menu(page: Page, label: str, action: str) -> None:
    """Open the chooser's menu of the account ``label`` and press the item named ``action``
    (its accessible name, e.g. "Log out ada@example.com")."""
    row = account_row(page, label)
    item = row.get_by_role("button", name=action, exact=True)
    if not item.is_visible():
        row.get_by_role("button", name=f"More for {label}").click()
    item.click()


def emailed_link(live: LiveServer, to: str, page_name: str, timeout: float = 10) -> str:
    """The path and query of the newest ``/<page_name>`` link mailed to ``to``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for mail in reversed(live.outbox()):
            if mail["to"] != to:
                continue
            # An absolute link: mail clients cannot open a bare path.
            match = re.search(rf"https?://[^/\s]+/{re.escape(page_name)}\?\S+", mail["body"])
            if match:
                url = urlsplit(match.group(0))
                return f"{url.path}?{url.query}"
        time.sleep(0.05)
    raise AssertionError(f"No {page_name} link was mailed to {to}.")
