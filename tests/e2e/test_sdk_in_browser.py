"""Tier (d): the SDK scenario suite inside real Pyodide in Chromium, against the real server.

The page loads Pyodide from our own server (``/vendor/pyodide``), copies the SDK and
``tests/sdk/scenarios.py`` into its file system and runs every scenario with the browser adapters
(``fetch`` and ``localStorage`` through ``pyodide.ffi``). One page load runs them all, since a
Pyodide start costs seconds.
"""

from __future__ import annotations

import pytest

from tests.sdk import scenarios

from .conftest import read_result

pytestmark = pytest.mark.browser


def test_every_scenario_passes_in_pyodide(page, harness_server):
    page.goto(f"{harness_server.base_url}/__tests__/harness.html")
    report = read_result(page, timeout_ms=180_000)
    assert "fatal" not in report, report.get("fatal")
    assert report["python"].startswith("3.")
    results = report["results"]
    assert set(results) == {fn.__name__ for fn in scenarios.ALL}
    failed = {name: r["traceback"] for name, r in results.items() if not r["ok"]}
    assert not failed, "\n\n".join(f"{n}:\n{tb}" for n, tb in failed.items())


def test_browser_session_survives_a_reload(page, harness_server):
    """localStorage for real: log in, reload the page, and the user is back with no request."""
    page.goto(f"{harness_server.base_url}/__tests__/harness.html?step=login")
    before = read_result(page)
    assert "fatal" not in before, before.get("fatal")
    assert before["requests"] == 3  # location, login, profile
    keys = page.evaluate("Object.keys(localStorage)")
    assert f"realm-web:app(latchkey-demo):user({before['user_id']}):refreshToken" in keys
    page.goto(f"{harness_server.base_url}/__tests__/harness.html?step=restore")
    after = read_result(page)
    assert "fatal" not in after, after.get("fatal")
    assert after["user_id"] == before["user_id"]
    assert after["requests"] == 0
    assert after["state"] == "LoggedIn"
    assert after["requests_after_profile"] == 2  # location, then the profile with the stored token


def test_two_tabs_refresh_an_expired_token_once(page, harness_server):
    """Web Locks for real: two tabs holding one expired token send one refresh between them."""
    url = f"{harness_server.base_url}/__tests__/harness.html?only=_none_"
    page.goto(url)
    read_result(page)
    login = page.evaluate("p => window.runHarness(p)", {"step": "tab_login"})
    other = page.context.new_page()
    other.goto(url)
    read_result(other)
    tabs = [page, other]
    for tab in tabs:
        held = tab.evaluate("p => window.runHarness(p)", {"step": "tab_hold"})
        assert held["user_id"] == login["user_id"]
    for tab in tabs:  # Start both before waiting for either.
        tab.evaluate("p => { window.pending = window.runHarness(p); }", {"step": "tab_call"})
    results = [tab.evaluate("() => window.pending") for tab in tabs]
    assert all(r["answers"] == ["bonjour"] * 5 for r in results), results
    assert sum(r["refreshes"] for r in results) == 1, results
