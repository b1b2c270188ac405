"""Page start-up in headless Chromium: our page against two reference pages, same server.

Pages (alternating in every round, each in a fresh browser profile):

- ``latchkey``: our page, ``/`` (``index.html``, PyScript, the SDK, the UI);
- ``realm-web``: the official ``realm-web`` browser bundle constructing an ``App``
  (``benchmarks/pages/realm-web.html``);
- ``pyscript``: a bare PyScript-on-Pyodide page (``benchmarks/pages/pyscript.html``);
- ``embed``: the embed (``static/embed.js``, widget and JS API) on a page of another origin
  (``benchmarks/pages/embed.html``, served from a loopback port of its own, its API calls
  allowed by the server's ``[cors]``); ready when ``Latchkey.ready`` resolves.

Every load is a returning user: localStorage holds a signed-in email/password session, put
there through a blank page of the same origin before the measured navigation. The *cold* load
is the first visit of a fresh browser profile (empty HTTP and code caches); the *warm* load is a
new tab of the same profile a moment later, as a user coming back.

Figures, in seconds from the start of the navigation: first paint (``first-contentful-paint``),
returning user visible (``#current-user-name`` has text), ready (``<html data-ready="true">``:
on our page the SDK is up and the controls are live); and bytes over the network (the
browser's own count, ``Network.loadingFinished``'s ``encodedDataLength``: headers and bodies as
sent, compressed, 0 for a cache hit; Resource Timing cannot see other origins' bytes) and the JS
heap in use once ready.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .common import (
    APP_ID,
    CHROMIUM,
    CHROMIUM_ARGS,
    fmt_ratio,
    fmt_seconds,
    median,
    post_json,
    server_process,
    verdict,
)

PAGES = {
    "latchkey": "/",
    "embed": "{host}/",
    "realm-web": "/__bench__/pages/realm-web.html",
    "pyscript": "/__bench__/pages/pyscript.html",
}
EMBED_WARM, EMBED_COLD = 1.0, 2.5
READY_WARM, READY_COLD, USER_FACTOR = 0.5, 1.2, 2.0
COLD_BYTES = 6_000_000
PAGE_DIR = Path(__file__).resolve().parent / "pages"
#: The visits of one browser profile: the first (empty caches), the second, and a later one.
#: Chromium keeps compiled WebAssembly and JavaScript in its code cache only from the second
#: visit on, so a third visit is what a regular user sees.
KINDS = ("cold", "warm", "warm3")
EMAIL, PASSWORD = "startup@example.com", "startup-password"

# Runs before any script of every page: timestamps (ms since the navigation started) of the
# first moment the user's name has text and the first moment <html data-ready="true">.
PROBE = """
(() => {
  performance.setResourceTimingBufferSize(5000);
  const marks = window.__bench = {};
  const check = () => {
    const root = document.documentElement;
    if (marks.ready === undefined && root && root.dataset.ready === "true") {
      marks.ready = performance.now();
    }
    if (marks.user === undefined) {
      const name = document.getElementById("current-user-name");
      if (name && name.textContent.trim()) marks.user = performance.now();
    }
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
})();
"""

COLLECT = """
() => {
  const paint = performance.getEntriesByType("paint");
  const fcp = paint.find((e) => e.name === "first-contentful-paint");
  const nav = performance.getEntriesByType("navigation")[0];
  const entries = [nav, ...performance.getEntriesByType("resource")];
  const sum = (key) => entries.reduce((total, e) => total + (e[key] || 0), 0);
  return {
    first_paint: fcp ? fcp.startTime : null,
    user: window.__bench.user === undefined ? null : window.__bench.user,
    ready: window.__bench.ready === undefined ? null : window.__bench.ready,
    transfer_bytes: sum("transferSize"),
    body_bytes: sum("encodedBodySize"),
    decoded_bytes: sum("decodedBodySize"),
    requests: entries.length,
  };
}
"""


def _seed_session(base_url: str) -> dict[str, str]:
    """localStorage items of a signed-in email/password user, made with our SDK under CPython
    (the layout is realm-web's, so both SDKs restore the same user)."""
    import asyncio

    from app.sdk import Credentials, MemoryStorage
    from app.sdk.adapters.native import make_app

    post_json(f"{base_url}/api/client/v2.0/app/{APP_ID}/auth/providers/local-userpass/register",
              {"email": EMAIL, "password": PASSWORD})
    storage = MemoryStorage()

    async def log_in() -> None:
        await make_app(APP_ID, base_url, storage).log_in(
            Credentials.email_password(EMAIL, PASSWORD))

    asyncio.run(log_in())
    return {f"realm-web:{key}": value for key, value in storage.items.items()}


class HostSite:
    """The embedding page's origin: ``/`` is ``benchmarks/pages/embed.html``, ``/blank`` a
    blank page (to seed its localStorage), from a loopback port of its own."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.server_url = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                if self.path == "/":
                    text = (PAGE_DIR / "embed.html").read_text(encoding="utf-8")
                    body = text.replace("__SERVER__", site.server_url).encode()
                else:
                    body = b"<!doctype html><title>blank</title>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _urls(base_url: str, host: str, path: str) -> tuple[str, str]:
    """(the blank page that seeds localStorage, the page) for a path of ``PAGES``."""
    if path.startswith("{host}"):
        return host + "/blank", path.replace("{host}", host)
    return base_url + "/__bench__/blank", base_url + path


def _load(page: Any, url: str, timeout_s: float) -> dict[str, Any]:
    cdp = page.context.new_cdp_session(page)
    received = [0]
    cdp.on("Network.loadingFinished",
           lambda event: received.__setitem__(0, received[0] + event["encodedDataLength"]))
    cdp.send("Network.enable")
    page.goto(url, wait_until="commit")
    page.wait_for_function("() => window.__bench && window.__bench.ready !== undefined",
                           timeout=timeout_s * 1000, polling=50)
    figures: dict[str, Any] = page.evaluate(COLLECT)
    for key in ("first_paint", "user", "ready"):
        if figures[key] is not None:
            figures[key] = round(figures[key] / 1000, 3)
    figures["js_heap_bytes"] = int(cdp.send("Runtime.getHeapUsage")["usedSize"])
    figures["transfer_bytes"] = received[0]
    cdp.detach()
    return figures


def _visit(playwright: Any, base_url: str, host: str, path: str, seed: dict[str, str],
           settle_s: float, timeout_s: float) -> dict[str, Any]:
    """The visits of ``KINDS`` in one fresh profile: a cold load, then warm ones in new tabs."""
    blank, url = _urls(base_url, host, path)
    with tempfile.TemporaryDirectory(prefix="latchkey-bench-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context.add_init_script(PROBE)
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(blank)
            page.evaluate("""(items) => { localStorage.clear();
                for (const [k, v] of Object.entries(items)) localStorage.setItem(k, v); }""",
                          seed)
            visits = {"cold": _load(page, url, timeout_s)}
            for kind in KINDS[1:]:
                # A moment for the browser to finish writing its caches (HTTP, compiled code),
                # then the user comes back in a new tab.
                page.wait_for_timeout(settle_s * 1000)
                page.goto(blank)
                page = context.new_page()
                visits[kind] = _load(page, url, timeout_s)
        finally:
            context.close()
    return visits


def run(*, rounds: int = 5, settle_s: float = 2.0, timeout_s: float = 90.0) -> dict[str, Any]:
    """Run the start-up benchmark; the figures as a dict."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    loads: dict[str, list[dict[str, Any]]] = {name: [] for name in PAGES}
    failures: list[dict[str, Any]] = []
    host = HostSite()
    with tempfile.TemporaryDirectory(prefix="latchkey-bench-") as tmp, \
            server_process(Path(tmp) / "data", extra_args=["--allow-origin", host.origin]) \
            as server:
        host.server_url = server.base_url
        seed = _seed_session(server.base_url)
        with sync_playwright() as playwright:
            for i in range(rounds):
                # Rotate the order too, so no page always runs right after another.
                names = list(PAGES)
                names = names[i % len(names):] + names[:i % len(names)]
                for name in names:
                    started = time.monotonic()
                    visit = None
                    for attempt in range(2):
                        try:
                            visit = _visit(playwright, server.base_url, host.origin,
                                           PAGES[name], seed, settle_s, timeout_s)
                            break
                        except PlaywrightError as exc:
                            # A crashed or stuck renderer (seen now and then on a busy
                            # machine): counted, and the visit done again once.
                            failures.append({"page": name, "round": i, "error": str(exc)[:300]})
                            print(f"  start-up round {i + 1}/{rounds} {name}: failed "
                                  f"({str(exc).splitlines()[0][:80]}), attempt {attempt + 1}",
                                  flush=True)
                    if visit is None:
                        continue
                    loads[name].append(visit)
                    readies = ", ".join(f"{k} {visit[k]['ready']}s" for k in KINDS)
                    print(f"  start-up round {i + 1}/{rounds} {name}: ready {readies} "
                          f"({time.monotonic() - started:.1f}s)", flush=True)
    host.close()
    summary = {name: {kind: _medians([v[kind] for v in visits]) for kind in KINDS}
               for name, visits in loads.items()}
    return {"rounds": rounds, "settle_s": settle_s, "summary": summary, "loads": loads,
            "failures": failures, "load_average": list(os.getloadavg())}


def _medians(loads: list[dict[str, Any]]) -> dict[str, Any]:
    if not loads:
        return dict.fromkeys(("first_paint", "user", "ready", "transfer_bytes", "body_bytes",
                              "decoded_bytes", "js_heap_bytes", "requests"))
    keys = ("first_paint", "user", "ready", "transfer_bytes", "body_bytes", "decoded_bytes",
            "js_heap_bytes", "requests")
    return {key: median([load[key] for load in loads]) for key in keys}


def report(results: dict[str, Any]) -> list[str]:
    """Lines to print: per page and cache state, the medians; then the targets."""
    s = results["summary"]
    lines = [f"Page start-up (headless Chromium, medians of {results['rounds']} loads each; "
             "returning user)",
             "  page       cache  first paint  user shown   ready     transferred  JS heap"]
    for name in PAGES:
        for kind in KINDS:
            m = s[name][kind]
            lines.append(
                f"  {name:<10} {kind:<5}  {fmt_seconds(m['first_paint'])}     "
                f"{fmt_seconds(m['user'])}     {fmt_seconds(m['ready'])}  "
                f"{(m['transfer_bytes'] or 0) / 1e6:8.2f} MB  "
                f"{(m['js_heap_bytes'] or 0) / 1e6:6.1f} MB")
    if results.get("failures"):
        lines.append(f"  ({len(results['failures'])} visits failed and were done again; "
                     "see the JSON)")
    ours, realm, bare = s["latchkey"], s["realm-web"], s["pyscript"]
    for page, warm, cold in (("latchkey", READY_WARM, READY_COLD),
                             ("embed", EMBED_WARM, EMBED_COLD)):
        for kind, target in (("warm", warm), ("warm3", warm), ("cold", cold)):
            ready = s[page][kind]["ready"]
            lines.append(
                f"  {page} SDK ready {kind:<5}: {fmt_seconds(ready)} (target <= {target:.1f}s; "
                f"bare PyScript {fmt_seconds(bare[kind]['ready'])}, realm-web "
                f"{fmt_seconds(realm[kind]['ready'])}): "
                f"{verdict(ready is not None and ready <= target)}")
    for page in ("latchkey", "embed"):
        sent = s[page]["cold"]["transfer_bytes"]
        met = sent is not None and sent <= COLD_BYTES
        lines.append(f"  {page} bytes, cold visit: {(sent or 0) / 1e6:.2f} MB (target <= "
                     f"{COLD_BYTES / 1e6:.0f} MB): {verdict(met)}")
    load = results.get("load_average")
    if load:
        lines.append(f"  load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for kind in KINDS:
        user, ref = ours[kind]["user"], realm[kind]["user"]
        met = None if user is None or not ref else user <= USER_FACTOR * ref
        lines.append(
            f"  returning user visible {kind:<5}: {fmt_seconds(user)} vs realm-web "
            f"{fmt_seconds(ref)} = {fmt_ratio(user, ref)} (target <= {USER_FACTOR:.0f}x): "
            f"{verdict(met)}")
    return lines
