"""axe-core in the browser tests: audit what a page shows, fail on serious or critical findings.

axe-core comes from npm (``node_modules/axe-core``, a dev dependency); it is evaluated in the page
through Playwright, which the page's Content-Security-Policy does not govern. It reaches into open
shadow roots, so the embed's widget is audited the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

_RUN = """async (selector) => {
  const result = await axe.run(selector ? { include: [selector] } : document,
                               { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => v.id + " (" + v.impact + "): " + v.help + " at " +
         v.nodes.map((n) => JSON.stringify(n.target)).join(", "));
}"""


def audit(page: Page, view: str, selector: str | None = None) -> list[str]:
    """The serious and critical axe findings of what ``page`` shows, each named by ``view``."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm install` (it is in package.json).")
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[Any] = page.evaluate(_RUN, selector)
    return [f"{view}: {item}" for item in found]
