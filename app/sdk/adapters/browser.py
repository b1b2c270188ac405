"""The browser adapters: ``FetchTransport`` (``fetch``), ``LocalStorage`` (``localStorage``), and
for redirect logins ``PopupOpener`` / ``PageRedirect`` (``window.open`` / ``location``) and
``handle_auth_redirect()`` (``location.hash``).

This is the only SDK module that imports ``js`` or ``pyodide`` (STYLE rule 10). The import is
guarded, so the module still imports under CPython for type checking and tests; using the
classes there raises ``RuntimeError``.

Conversion happens at once, at this edge: a request body leaves as JSON text (never a proxied
dict), and a response arrives as ``int`` status, ``dict`` headers and ``str`` body. A failed
``fetch`` (``JsException``: offline, CORS, DNS) becomes ``OSError``, which the fetcher reports as
``AppError`` with ``ErrorCode.NETWORK_ERROR``. Nothing here creates a ``PyProxy`` (``to_js``
copies the options into a plain JS object), so there is no proxy to destroy.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from .. import oauth
from ..http import Request, Response
from ..storage import Storage

try:
    import js
    from pyodide.ffi import JsException, create_proxy, to_js
except ImportError:  # CPython: no browser here.
    js = None
    JsException = OSError
    create_proxy = None
    to_js = None

#: Request header of the quiet-errors opt-in, and the response header with the real status
#: (``server/quiet_status.py``); response header names arrive in lower case.
QUIET_HEADER = "X-Latchkey-Quiet-Errors"
STATUS_HEADER = "x-latchkey-status"
EMPTY_HEADER = "x-latchkey-empty"

#: The prefix realm-web puts before every key, so both SDKs share sessions on one origin.
REALM_WEB_PREFIX = "realm-web"


def _require_browser(what: str) -> Any:
    if js is None:
        raise RuntimeError(f"{what} needs Pyodide in a browser; use app.sdk.adapters.native.")
    return js


class FetchTransport:
    """Sends requests with the browser's ``fetch``.

    ```python
    app = App("latchkey-demo", base_url=origin, transport=FetchTransport(),
              storage=LocalStorage())
    ```
    """

    async def send(self, request: Request) -> Response:
        """Send the request with ``fetch`` and return the whole response."""
        browser = _require_browser("FetchTransport")
        # Credentialed like realm-web's link request: the server binds a social login or link
        # to this browser with a cookie (path of its callback only) that a page on another
        # origin stores only from a credentialed answer. The API sets no other cookie.
        # The quiet-errors header asks our server to answer an expected 4xx with 200 and the
        # real status in X-Latchkey-Status (server/quiet_status.py), so the browser's console
        # shows no red line for a wrong password; the status is put back below. An empty answer
        # comes with the body "null" (else Chromium shows it as cancelled) and is emptied again.
        headers = {**request.headers, QUIET_HEADER: "1"}
        init: dict[str, Any] = {"method": request.method, "headers": headers,
                                "credentials": "include"}
        if request.body is not None:
            init["body"] = request.body
        options = to_js(init, dict_converter=browser.Object.fromEntries)
        try:
            reply = await browser.fetch(request.url, options)
            text = await reply.text()
            entries = browser.Object.fromEntries(reply.headers.entries()).to_py()
        except JsException as exc:
            raise OSError(f"fetch failed: {exc}") from exc
        answer = {str(name): str(value) for name, value in entries.items()}
        status = int(reply.status)
        real = answer.pop(STATUS_HEADER, "")
        if status == 200 and real.isdigit():
            status = int(real)
        body = "" if answer.pop(EMPTY_HEADER, "") == "1" else str(text)
        return Response(status, answer, body)


class LocalStorage(Storage):
    """The browser's ``localStorage``, with every key under ``realm-web:``.

    ``backend`` is any object with ``getItem``, ``setItem``, ``removeItem``, ``key`` and
    ``length`` (``window.localStorage`` by default).
    """

    def __init__(self, prefix: str = REALM_WEB_PREFIX, backend: Any = None) -> None:
        if backend is None:
            backend = _require_browser("LocalStorage").localStorage
        self._backend = backend
        self._prefix = f"{prefix}:" if prefix else ""

    def get(self, key: str) -> str | None:
        value = self._backend.getItem(self._prefix + key)
        # JS null arrives as None or as pyodide's falsy ``jsnull``; only strings are values.
        return value if isinstance(value, str) else None

    def set(self, key: str, value: str) -> None:
        self._backend.setItem(self._prefix + key, value)

    def remove(self, key: str) -> None:
        self._backend.removeItem(self._prefix + key)

    def clear(self, prefix: str = "") -> None:
        start = self._prefix + prefix
        # Collect first: removing while indexing would skip keys.
        keys = [self._backend.key(i) for i in range(int(self._backend.length))]
        for key in keys:
            if isinstance(key, str) and key.startswith(start):
                self._backend.removeItem(key)


class _Popup:
    """A JS window, as ``oauth.AuthWindow``: ``closed`` arrives as a Python ``bool``."""

    def __init__(self, window: Any) -> None:
        self._window = window

    @property
    def closed(self) -> bool:
        try:
            return bool(self._window.closed)
        except JsException:
            return True

    def close(self) -> None:
        self._window.close()


class PopupOpener:
    """Opens the provider's login page in a popup, as realm-web does.

    ```python
    app = App(app_id, base_url=origin, transport=FetchTransport(), storage=LocalStorage(),
              window_opener=PopupOpener())
    user = await app.log_in(Credentials.google(redirect_url=origin + "/"))
    ```

    Call ``log_in`` from a click handler: browsers open popups only for a user's gesture.
    """

    replaces_page = False

    def __init__(self, features: str = "popup,width=500,height=640") -> None:
        self.features = features

    def open(self, url: str) -> oauth.AuthWindow | None:
        window = _require_browser("PopupOpener").window.open(url, "_blank", self.features)
        if not window:
            raise OSError("the browser blocked the popup; allow popups for this site")
        return _Popup(window)


class PageRedirect:
    """Sends this page itself to the provider (no popup); ``App.complete_redirect_log_in``
    finishes the login when the provider has sent the browser back to the app."""

    replaces_page = True

    def open(self, url: str) -> oauth.AuthWindow | None:
        _require_browser("PageRedirect").window.location.assign(url)
        return None


def handle_auth_redirect(storage: Storage | None = None) -> oauth.RedirectResult | None:
    """On the page a redirect login returns to: store the ``#_baas_…`` result for the window
    that waits for it, and remove it from the address bar. ``None`` when there is none.

    Call it first thing on that page (``Realm.handleAuthRedirect()`` in realm-web); with a
    full-page redirect, follow it with ``await app.complete_redirect_log_in()``.
    """
    browser = _require_browser("handle_auth_redirect")
    result = oauth.handle_redirect(str(browser.location.hash), storage or LocalStorage())
    if result is not None:
        # Tokens must not stay in the address bar, the history or a bookmark.
        location = browser.location
        browser.history.replaceState(None, "", str(location.pathname) + str(location.search))
    return result


class WebLocks:
    """A ``RefreshLock`` over the Web Locks API, shared by every tab of the origin.

    Two tabs whose access token expires together then send one refresh between them: the second
    finds the first one's token in ``localStorage`` once it holds the lock. Without
    ``navigator.locks`` (old browsers, insecure origins other than localhost) it runs unlocked.
    """

    async def run(self, name: str, work: Callable[[], Awaitable[str]]) -> str:
        """Run ``work()`` while holding the lock ``name``."""
        browser = _require_browser("WebLocks")
        locks = getattr(browser.navigator, "locks", None)
        if locks is None:
            return await work()
        outcome: dict[str, Any] = {}

        async def hold(_lock: Any) -> None:
            # Keep Python exceptions in Python: a rejection through JS would turn an AppError
            # into a JsException.
            try:
                outcome["value"] = await work()
            except BaseException as exc:
                outcome["error"] = exc

        callback = create_proxy(hold)
        try:
            await locks.request(name, callback)
        finally:
            callback.destroy()
        if "error" in outcome:
            raise outcome["error"]
        return str(outcome["value"])


class BrowserAuthenticator:
    """Passkeys with the browser's ``navigator.credentials`` (issue 14): the ``Authenticator``
    of ``app.sdk.passkeys``. Options go in through ``PublicKeyCredential.parse*FromJSON`` and
    the credential comes back as ``toJSON()`` text, so only plain JSON crosses the FFI.

    One request runs at a time: a new one aborts a waiting conditional (autofill) request
    first, as browsers allow only one. A refusal, cancel or abort raises
    ``PasskeyCeremonyError`` with the DOMException's name (``NotAllowedError`` ...).

    ```python
    user = await app.log_in(Credentials.passkey(BrowserAuthenticator()))
    ```
    """

    def __init__(self) -> None:
        self._abort: Any = None

    @staticmethod
    def available() -> bool:
        """Whether this browser has WebAuthn at all (``PublicKeyCredential``)."""
        return js is not None and not _missing(getattr(js, "PublicKeyCredential", None))

    @staticmethod
    async def conditional_available() -> bool:
        """Whether the browser offers passkeys in a field's autofill (conditional UI)."""
        if not BrowserAuthenticator.available():
            return False
        check: Any = getattr(js.PublicKeyCredential, "isConditionalMediationAvailable", None)
        return False if _missing(check) else bool(await check())

    def cancel(self) -> None:
        """Abort the request that is waiting, if any (a conditional one, usually)."""
        if self._abort is not None:
            self._abort.abort()
            self._abort = None

    async def create(self, options: dict[str, Any]) -> dict[str, Any]:
        browser = _require_browser("BrowserAuthenticator")
        parsed = browser.PublicKeyCredential.parseCreationOptionsFromJSON(_js(options))
        return await self._run("create", parsed, None)

    async def get(self, options: dict[str, Any], *, conditional: bool = False
                  ) -> dict[str, Any]:
        browser = _require_browser("BrowserAuthenticator")
        parsed = browser.PublicKeyCredential.parseRequestOptionsFromJSON(_js(options))
        return await self._run("get", parsed, "conditional" if conditional else None)

    async def _run(self, verb: str, public_key: Any, mediation: str | None) -> dict[str, Any]:
        from ..passkeys import PasskeyCeremonyError

        self.cancel()
        controller = js.AbortController.new()
        self._abort = controller
        init = js.Object.new()
        init.publicKey = public_key
        init.signal = controller.signal
        if mediation is not None:
            init.mediation = mediation
        try:
            credential = await getattr(js.navigator.credentials, verb)(init)
        except JsException as exc:
            name = str(getattr(exc, "name", "") or str(exc).split(":", 1)[0]).strip()
            raise PasskeyCeremonyError(name or "Error", str(exc)) from None
        finally:
            if self._abort is controller:
                self._abort = None
        if _missing(credential):
            raise PasskeyCeremonyError("NotAllowedError", "No passkey was chosen.")
        value: dict[str, Any] = json.loads(str(js.JSON.stringify(credential.toJSON())))
        return value


def _missing(value: Any) -> bool:
    return value is None or type(value).__name__ == "JsNull"


def _js(value: dict[str, Any]) -> Any:
    # Through JSON text: plain JS objects and arrays, no proxies to destroy.
    return js.JSON.parse(json.dumps(value))
