"""A Pyodide memory snapshot, made at setup in headless Chromium, for a page start in under 1 s.

A snapshot is Pyodide's whole memory right after it started and imported the standard library
modules the pages use (``PRELOAD``). Restoring it (``server/pyodide_boot.mjs``) skips the
interpreter's start-up and those imports: the slow part of a start, which no cache helps with.

Rules that must hold:

1. The snapshot is made by the browser the pages run in, from the same files at the same URL
   path as the pages load them (``/vendor/pyodide@<tag>/``), so the restored state is exactly
   what an ordinary start would have made. Node could make one too, but it leaves its own
   traces in the interpreter (its locale, the script's path in ``os.environ``).
2. The base snapshot holds only the standard library and Pyodide's own modules. The app's
   snapshot (``APP_MODULES``) holds the SDK and ``app.messages`` imported too, from the files
   as they were when it was made: it is named by their digest (``server.assets``), so a change
   to any of them falls back to the base snapshot until setup makes a new one. Pyodide refuses
   a snapshot of another build. The app's modules are imported from ``/home/pyodide/app``,
   where PyScript's ``[files]`` and the embed put them, so the restored package finds its other
   modules there; none of them imports ``js`` at import time or keeps state made then.
3. Nothing else is needed to make it: a throwaway loopback HTTP server (stdlib) serves Pyodide
   and a one-off page, Chromium runs the page headless, the page posts the snapshot back.
4. It is kept and served without its zero pages (``pack_pages``): about half of Pyodide's 31.5
   MB of memory is zeros, which cost nothing over brotli but do cost decoding and copying in
   the browser at every start (a warm visit read 31.5 MB from the cache in 0.6 s here). The
   boot module (``server/pyodide_boot.mjs``) puts the zeros back.
"""

from __future__ import annotations

import json
import mimetypes
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 180.0
MAX_BYTES = 512 * 1024 * 1024
#: Standard library and Pyodide modules that the pages import (measured on index.html), so they
#: come back imported. Leaving one out only costs its import time; none holds page state.
PRELOAD = (
    "asyncio", "base64", "binascii", "bisect", "collections", "collections.abc", "contextlib",
    "copy", "dataclasses", "datetime", "decimal", "enum", "fnmatch", "functools", "glob",
    "heapq", "hmac", "html", "html.entities", "http", "importlib.util", "inspect", "io",
    "ipaddress", "json", "logging", "math", "numbers", "pathlib", "platform", "random", "re",
    "secrets", "shutil", "string", "struct", "tempfile", "textwrap", "threading", "tokenize",
    "traceback", "typing", "urllib.parse", "warnings", "weakref", "zipfile",
    "pyodide.code", "pyodide.ffi", "pyodide.webloop",
)
#: Files of the app's snapshot (rule 2), repo-relative, and the modules imported from them: the
#: SDK's core (not its browser adapter, which holds a reference to JavaScript's globals) and the
#: messages, which the page and the embed both use.
APP_FILES = ("app/__init__.py", "app/messages.py", "app/sdk/**/*.py")
APP_EXCLUDE = frozenset({"app/sdk/adapters/browser.py", "app/sdk/adapters/native.py"})
APP_MODULES = ("app", "app.messages", "app.sdk", "app.sdk.app", "app.sdk.credentials",
               "app.sdk.ejson", "app.sdk.errors", "app.sdk.events", "app.sdk.fetcher",
               "app.sdk.functions", "app.sdk.http", "app.sdk.oauth", "app.sdk.providers",
               "app.sdk.routes", "app.sdk.storage", "app.sdk.tokens", "app.sdk.user",
               "app.sdk.adapters")
APP_ROOT = "/home/pyodide"

PAGE = """<!doctype html>
<meta charset="utf-8"><title>Pyodide snapshot</title>
<script type="module">
const report = (path, body) => fetch(path, { method: "POST", body });
try {
  const { loadPyodide } = await import(INDEX_URL + "pyodide.mjs");
  const pyodide = await loadPyodide({ indexURL: INDEX_URL, _makeSnapshot: MAKE_SNAPSHOT });
  for (const [path, text] of Object.entries(APP_SOURCES)) {
    pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    pyodide.FS.writeFile(path, text);
  }
  pyodide.runPython(IMPORTS);
  const snapshot = MAKE_SNAPSHOT ? pyodide.makeMemorySnapshot() : new Uint8Array(0);
  // After the snapshot, so that nothing of it is in the snapshot (server.app_bytecode).
  if (COMPILE) await report("/bytecode", pyodide.runPython(COMPILE));
  await report("/snapshot", snapshot);
} catch (error) {
  await report("/error", String((error && error.stack) || error));
}
</script>
"""


PAGES_MAGIC = b"LKPG"
PAGE_BYTES = 4096


def pack_pages(memory: bytes, page: int = PAGE_BYTES) -> bytes:
    """``memory`` without its zero pages (rule 4): ``LKPG``, the page size and the length
    (``<II``), a bitmap of the pages kept (bit ``i % 8`` of byte ``i // 8``), then those pages
    in order (the last one may be short)."""
    count = (len(memory) + page - 1) // page
    bitmap = bytearray((count + 7) // 8)
    zero = bytes(page)
    kept = []
    for index in range(count):
        chunk = memory[index * page:(index + 1) * page]
        if chunk != zero[:len(chunk)]:
            bitmap[index >> 3] |= 1 << (index & 7)
            kept.append(chunk)
    return PAGES_MAGIC + struct.pack("<II", page, len(memory)) + bytes(bitmap) + b"".join(kept)


def unpack_pages(packed: bytes) -> bytes:
    """The memory ``pack_pages`` packed (what the boot module does, for tests)."""
    if packed[:4] != PAGES_MAGIC:
        raise ValueError("not a packed snapshot")
    page, length = struct.unpack("<II", packed[4:12])
    count = (length + page - 1) // page
    at = 12 + (count + 7) // 8
    memory = bytearray(length)
    for index in range(count):
        if packed[12 + (index >> 3)] & (1 << (index & 7)):
            size = min(page, length - index * page)
            memory[index * page:index * page + size] = packed[at:at + size]
            at += size
    if at != len(packed):
        raise ValueError("the packed snapshot is truncated or too long")
    return bytes(memory)


class SnapshotUnavailable(Exception):
    """No snapshot could be made here; the text says why (no browser, a failure)."""


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium to use: ``explicit``, ``$LATCHKEY_CHROMIUM`` or a usual name on PATH."""
    for candidate in (explicit, os.environ.get("LATCHKEY_CHROMIUM"), *CHROMIUM_CANDIDATES):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


class _Exchange:
    """What the page posted back."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.snapshot: bytes | None = None
        self.bytecode: str | None = None
        self.error: str | None = None


def app_files(root: Path) -> dict[str, Path]:
    """The files of the app's snapshot: ``{repo-relative path: file}``, sorted (rule 2)."""
    found: dict[str, Path] = {}
    for pattern in APP_FILES:
        for path in root.glob(pattern):
            rel = path.relative_to(root).as_posix()
            if "__pycache__" not in path.parts and rel not in APP_EXCLUDE:
                found[rel] = path
    return dict(sorted(found.items()))


def _handler(pyodide_dir: Path, prefix: str, exchange: _Exchange,
             app_sources: dict[str, str], overrides: dict[str, Path],
             make_snapshot: bool, compile_script: str) -> type[BaseHTTPRequestHandler]:
    modules = PRELOAD + (APP_MODULES if app_sources else ())
    imports = "import " + ", ".join(modules)
    if app_sources:
        imports = f"import os, sys; os.chdir({APP_ROOT!r}); sys.path.insert(0, '')\n{imports}"
    sources = {f"{APP_ROOT}/{rel}": text for rel, text in app_sources.items()}
    page = (PAGE.replace("INDEX_URL", json.dumps(prefix), 2)
                .replace("APP_SOURCES", json.dumps(sources))
                .replace("IMPORTS", json.dumps(imports))
                .replace("MAKE_SNAPSHOT", json.dumps(make_snapshot), 2)
                .replace("COMPILE)", json.dumps(compile_script) + ")", 2).encode())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/":
                self._send(200, page, "text/html; charset=utf-8")
                return
            name = path.removeprefix(prefix)
            target = (pyodide_dir / name).resolve()
            if (not path.startswith(prefix) or not target.is_file()
                    or not target.is_relative_to(pyodide_dir.resolve())):
                self._send(404, b"not found", "text/plain")
                return
            target = overrides.get(name, target)
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if target.suffix == ".mjs":
                kind = "text/javascript"
            self._send(200, target.read_bytes(), kind)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BYTES:
                self._send(413, b"too large", "text/plain")
                return
            body = self.rfile.read(length)
            if self.path == "/bytecode":
                exchange.bytecode = body.decode("utf-8", "replace")
                self._send(204, b"", "text/plain")
                return
            if self.path == "/snapshot":
                exchange.snapshot = body
            else:
                exchange.error = body.decode("utf-8", "replace")
            self._send(204, b"", "text/plain")
            exchange.done.set()

    return Handler


def build_snapshot(pyodide_dir: Path, target: Path, tag: str, *, chromium: str | None = None,
                   app_sources: dict[str, str] | None = None,
                   overrides: dict[str, Path] | None = None, make_snapshot: bool = True,
                   compile_script: str = "", timeout: float = TIMEOUT_SECONDS) -> str | None:
    """Make the snapshot of the Pyodide in ``pyodide_dir`` (build ``tag``) into ``target``;
    ``overrides``: ``{file name: the copy the server serves in its place}``. With
    ``compile_script`` (``server.app_bytecode``), what it evaluates to in that Pyodide, run
    after the snapshot is made; without ``make_snapshot``, only that."""
    browser = find_chromium(chromium)
    if browser is None:
        raise SnapshotUnavailable("no Chromium found; install it (apt-get install chromium)")
    exchange = _Exchange()
    prefix = f"/vendor/pyodide@{tag}/"
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 _handler(pyodide_dir, prefix, exchange, app_sources or {},
                                          overrides or {}, make_snapshot, compile_script))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    with tempfile.TemporaryDirectory(prefix="latchkey-snapshot-") as profile:
        args = [browser, "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", url]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox.
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            finished = exchange.done.wait(timeout)
        finally:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            server.shutdown()
            server.server_close()
    if not finished:
        raise SnapshotUnavailable(f"Chromium made no snapshot within {timeout:.0f} s")
    if exchange.snapshot is None:
        raise SnapshotUnavailable(f"the snapshot page failed: {exchange.error}")
    if make_snapshot:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(pack_pages(exchange.snapshot))
        partial.replace(target)
    return exchange.bytecode
