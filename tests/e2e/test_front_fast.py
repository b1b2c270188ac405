"""The page under a strict Content-Security-Policy (no ``'unsafe-eval'``), and what a cold visit
costs in bytes: from the browser's own network events, not a timing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import LiveServer, make_settings, start_server

from .ui_helpers import violations, wait_ready, watch

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(make_settings(tmp_path_factory.mktemp("front") / "data"))
    yield live
    live.stop()


def test_the_page_runs_without_unsafe_eval(page: Page, server: LiveServer) -> None:
    watch(page)
    response = page.goto(server.base_url + "/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in policy and "'wasm-unsafe-eval'" in policy
    wait_ready(page)
    assert page.locator("#login-email").is_enabled()
    assert violations(page) == []
    # The policy is enforced: a string evaluated as JavaScript is refused, and reported.
    # (From a task of the page's own: Playwright's evaluate itself may evaluate strings.)
    refused = page.evaluate("""() => new Promise((resolve) => setTimeout(() => {
        try { resolve(String(new Function("return 1")())); } catch (e) { resolve(e.name); }
    }))""")
    assert refused == "EvalError"
    assert [v.split()[0] for v in violations(page)] == ["script-src"]
