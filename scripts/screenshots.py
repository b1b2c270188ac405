"""Screenshots of every sign-in and account view, for the README: ``docs/screenshots/``.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts a demo server (email confirmation on) on a temp data dir, opens the page and the embed
(on a second origin with a strict CSP of its own) in Debian's Chromium, walks through the views
and saves each at 1280 and 375 px wide, light and dark: ``<view>-<width>-<scheme>.png``. Not a
test: nothing is asserted beyond the views showing up.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import Page, Route, expect, sync_playwright  # noqa: E402

from tests.conftest import make_settings, start_server  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.test_ui_embed import HostPage  # noqa: E402
from tests.e2e.ui_helpers import PASSWORD, account_menu, log_in, register, task  # noqa: E402

WIDTHS = (1280, 375)
SCHEMES = ("light", "dark")


def shoot_all(page: Page, out: Path, name: str, *, element: str | None = None) -> None:
    """Save the current view at every width and colour scheme."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900 if width > 500 else 780})
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            path = out / f"{name}-{width}-{scheme}.png"
            if element:
                box = page.locator(element).bounding_box()
                assert box, f"{element} is not on the page"
                clip = {"x": max(box["x"] - 8, 0), "y": max(box["y"] - 8, 0),
                        "width": min(box["width"] + 16, width), "height": box["height"] + 16}
                page.screenshot(path=str(path), clip=clip, animations="disabled")
            else:
                page.screenshot(path=str(path), full_page=True, animations="disabled")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="light")


def page_views(page: Page, base: str, out: Path) -> None:
    page.goto(base)
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'",
                           timeout=60_000)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("sign-in", lambda: None),
        ("sign-in-problems", lambda: page.get_by_role("button", name="Sign in",
                                                      exact=True).click()),
        ("create-account", lambda: task(page, "register")),
        ("forgot-password", lambda: task(page, "forgot")),
        ("resend-confirmation", lambda: task(page, "resend")),
    ]
    for name, step in steps:
        step()
        page.wait_for_timeout(150)
        shoot_all(page, out, f"page-{name}")
    register(page, "dave@example.com")
    expect(page.locator("#register-form-message")).to_contain_text("Check your email")
    shoot_all(page, out, "page-check-your-email")
    task(page, "signin")
    page.get_by_role("button", name="Continue without an account").click()
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    shoot_all(page, out, "page-anonymous-account")
    page.get_by_role("button", name="Add another account").click()
    shoot_all(page, out, "page-add-another-account")
    page.get_by_role("button", name="Your app's login").click()
    shoot_all(page, out, "page-custom-function")
    page.locator("#custom-payload").fill('{"username": "Ada Lovelace", "secret": "v3ry-s3cret"}')
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    page.get_by_role("button", name="More for Anonymous user").click()
    shoot_all(page, out, "page-account-menu")
    page.get_by_role("button", name="Delete account Anonymous user").click()
    shoot_all(page, out, "page-delete-confirmation")
    page.keyboard.press("Escape")


def password_user_views(page: Page, base: str, out: Path, email: str) -> None:
    page.goto(base)
    page.wait_for_function("() => document.documentElement.dataset.ready === 'true'",
                           timeout=60_000)
    page.get_by_role("button", name="Add another account").click()
    log_in(page, email)
    expect(page.locator("html")).to_have_attribute("data-view", "account")
    page.locator("#apikey-name").fill("backup script")
    page.locator("#apikeys-section").get_by_role("button", name="Create key").click()
    expect(page.locator("#apikey-new-value")).not_to_be_empty()
    page.locator("#account-details").evaluate("(d) => d.open = true")
    shoot_all(page, out, "page-account-api-keys")
    account_menu(page, email, f"Log out {email}")


def widget_views(page: Page, base: str, out: Path) -> None:
    host = HostPage()
    try:
        host.serve(base)
        # Pyodide's download is held for the loading view: compiling it would keep the page
        # from painting a screenshot on a busy machine.
        held: list[Route] = []
        page.route("**/pyodide.asm.wasm", lambda route: held.append(route))
        page.goto(host.origin + "/")
        page.wait_for_function("() => document.querySelector('#login').shadowRoot",
                               timeout=60_000)
        shoot_all(page, out, "widget-loading", element="#login")
        for _ in range(200):
            if held:
                break
            page.wait_for_timeout(50)
        for route in held:
            route.continue_()
        page.unroute("**/pyodide.asm.wasm")
        page.wait_for_function("() => window.Latchkey")
        page.evaluate("() => Latchkey.ready.then(() => true)")
        page.wait_for_timeout(500)
        widget = page.locator("#login")
        expect(widget.get_by_role("button", name="Sign in", exact=True)).to_be_enabled()
        shoot_all(page, out, "widget-sign-in", element="#login")
        widget.get_by_role("button", name="Sign in", exact=True).click()
        shoot_all(page, out, "widget-sign-in-problems", element="#login")
        widget.get_by_role("button", name="Create an account").click()
        shoot_all(page, out, "widget-create-account", element="#login")
        widget.get_by_label("Email").fill("shopper@example.com")
        widget.get_by_label("Password (6 to 128 characters)").fill(PASSWORD)
        widget.get_by_role("button", name="Create account", exact=True).click()
        expect(widget.locator(".lk-notice")).to_contain_text("Check your email")
        shoot_all(page, out, "widget-check-your-email", element="#login")
        widget.get_by_role("button", name="Sign in", exact=True).click()
        widget.get_by_role("button", name="Forgot your password?").click()
        shoot_all(page, out, "widget-forgot-password", element="#login")
        widget.get_by_role("button", name="Back to sign in").click()
        widget.get_by_role("button", name="Continue without an account").click()
        expect(widget.locator(".lk-who")).to_contain_text("Signed in as")
        page.evaluate("() => Latchkey.logIn('function', {username: 'Grace', secret: "
                      "'v3ry-s3cret'})")
        widget.get_by_role("button", name="More for Grace").click()
        shoot_all(page, out, "widget-account-chooser", element="#login")
    finally:
        host.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--only", choices=("page", "widget"), help="one of the two sets")
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        live = start_server(make_settings(Path(tmp) / "data", {
            "providers": {"local-userpass": {"confirmation": "email"}},
            "cors": {"allowed_origins": ["*"]}}))
        try:
            from app.sdk.adapters.native import make_app
            from tests.e2e.ui_helpers import run_async

            sdk = make_app("latchkey-demo", live.base_url)
            run_async(sdk.email_password_auth.register_user("ada@example.com", PASSWORD))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                     args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                if args.only != "widget":
                    page_views(page, live.base_url, out)
                    run_async(_confirm(live, "ada@example.com"))
                    password_user_views(page, live.base_url, out, "ada@example.com")
                if args.only != "page":
                    widget_views(browser.new_page(viewport={"width": 1280, "height": 900}),
                                 live.base_url, out)
                browser.close()
        finally:
            live.stop()
    print(f"Screenshots in {out}")


async def _confirm(live: object, email: str) -> None:
    from app.sdk.adapters.native import make_app
    from tests.e2e.ui_helpers import emailed_link

    link = emailed_link(live, email, "confirm.html")  # type: ignore[arg-type]
    token = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    await make_app("latchkey-demo", live.base_url).email_password_auth.confirm_user(  # type: ignore[attr-defined]
        token["token"], token["tokenId"])


if __name__ == "__main__":
    main()
