"""The admin console in Chromium on a store of 100,000 users: how long a page of the users table
takes, from the click to the new rows on screen.

    .venv/bin/python -m benchmarks.console_paging [--users 100000] [--pages 30]

Seeds SQLite as ``benchmarks.admin_users`` does, starts ``serve.py`` on it, makes an admin key
with ``serve.py admin-keys create``, signs in to ``/admin`` in headless Chromium, then times
(browser clock, ``performance.now()``): "Next page" 30 times at 50 rows a page, the same at 100
rows, a filter to disabled users, a provider filter, and a search by email prefix. Each timing
runs from the click to the table's new rows in the page (the request, Python in Pyodide
rendering the rows). A measurement, not a test. Results go to
``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from benchmarks.admin_users import create_schema, seed_sqlite, serve  # noqa: E402
from benchmarks.common import machine, write_json  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# Resolves with the milliseconds from the click until the table's rows are replaced (render
# replaces them once the answer is in); rejects after 30 s.
WATCH = """(selector) => new Promise((resolve, reject) => {
  const start = performance.now();
  const observer = new MutationObserver(() => {
    observer.disconnect(); resolve(performance.now() - start);
  });
  observer.observe(document.getElementById("users-body"), {childList: true});
  setTimeout(() => { observer.disconnect(); reject(new Error("no new rows in 30 s")); }, 30000);
  document.querySelector(selector).click();
})"""


def figures(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1), "n": len(ordered)}


def timed_pages(page: Page, count: int) -> list[float]:
    return [float(page.evaluate(WATCH, "#page-next")) for _ in range(count)]


def change(page: Page, select: str, value: str) -> float:
    """Milliseconds from choosing ``value`` in a filter to its first page on screen."""
    page.evaluate("""([sel, value]) => { window.__pick = () => {
        const el = document.querySelector(sel); el.value = value;
        el.dispatchEvent(new Event("change")); }; }""", [select, value])
    page.evaluate("() => { const b = document.createElement('button'); b.id = 'bench-pick';"
                  " b.hidden = true; b.onclick = () => window.__pick();"
                  " document.body.append(b); }")
    took = float(page.evaluate(WATCH, "#bench-pick"))
    page.evaluate("() => document.getElementById('bench-pick').remove()")
    return took


def measure(base: str, key: dict[str, str], pages: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/admin")
        page.wait_for_function("() => document.documentElement.dataset.ready === 'true'",
                               timeout=120_000)
        page.get_by_label("Public key").fill(key["public_key"])
        page.get_by_label("Private key").fill(key["private_key"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_function("() => document.documentElement.dataset.view === 'users'"
                               " && !document.getElementById('users-table').ariaBusy")
        results["next_page_50"] = figures(timed_pages(page, pages))
        results["rows_per_page_100"] = figures([change(page, "#page-size", "100")])
        results["next_page_100"] = figures(timed_pages(page, pages))
        results["filter_disabled"] = figures([change(page, "#filter-status", "disabled")])
        results["next_page_disabled"] = figures(timed_pages(page, min(pages, 5)))
        change(page, "#filter-status", "")
        results["filter_google"] = figures([change(page, "#filter-provider", "oauth2-google")])
        change(page, "#filter-provider", "")
        searches = []
        for prefix in ("user5", "user777", "user12345"):
            page.fill("#search-text", prefix)
            searches.append(float(page.evaluate(WATCH, "#search-form button[type=submit]")))
        results["search_prefix"] = figures(searches)
        results["caption_after"] = page.locator("#users-summary").text_content()
        browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=30)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"machine": machine(), "users": args.users,
                               "load_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="latchkey-bench-console-") as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:{data_dir / 'bench.sqlite3'}"
        create_schema(url, data_dir)
        seed_sqlite(data_dir / "bench.sqlite3", args.users)
        with serve(url, data_dir) as found:
            base, made = found.split("|", 1)
            results["browser"] = measure(base, json.loads(made), args.pages)
    results["load_after"] = os.getloadavg()
    for name, value in results["browser"].items():
        if isinstance(value, dict):
            print(f"{name:22} median {value['median_ms']:8.1f} ms  p95 {value['p95_ms']:8.1f} ms"
                  f"  (n={value['n']})")
    print(f"load average before {results['load_before']}, after {results['load_after']}")
    write_json("console_paging", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
